// Parsing the fleet credentials file, and the theft plan's choice of thieves.
#include "wattguard/fleet/credentials.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "wattguard/fleet/theft_plan.h"

namespace wattguard::fleet {
namespace {

TEST(Credentials, ParsesMetersGatewayCommentsAndHeader) {
  auto set =
      parse_credentials("# secret\nmeter_id,username,password\n\nm1,m1,pw1\nm2 , m2 , pw2\n*,gw,gwpw\n*,gw2,gwpw2\n",
                        "f");
  ASSERT_TRUE(set.ok()) << set.error().to_string();
  ASSERT_NE(set->find("m2"), nullptr);
  EXPECT_EQ(set->find("m2")->password, "pw2");
  EXPECT_EQ(set->find("m1")->username, "m1");
  EXPECT_EQ(set->find("m3"), nullptr);
  ASSERT_EQ(set->gateways.size(), 2u);
  EXPECT_EQ(set->gateways[0].username, "gw");
  EXPECT_EQ(set->gateways[1].password, "gwpw2");
  auto same_gateway_twice = parse_credentials("*,gw,a\n*,gw,b\n", "f");
  ASSERT_FALSE(same_gateway_twice.ok());
  EXPECT_NE(same_gateway_twice.error().to_string().find("line 2: gateway user 'gw' appears twice"), std::string::npos);
}

TEST(Credentials, ErrorsNameTheLineFieldAndValue) {
  auto wrong_fields = parse_credentials("m1,m1,pw\nm2,m2\n", "creds.csv");
  ASSERT_FALSE(wrong_fields.ok());
  EXPECT_EQ(wrong_fields.error().to_string(),
            "creds.csv line 2: expected 3 or 4 fields meter_id,username,password[,command_key], found 2");
  auto bad_id = parse_credentials("m/1,u,p\n", "c");
  ASSERT_FALSE(bad_id.ok());
  EXPECT_NE(bad_id.error().to_string().find("line 1: field meter_id 'm/1'"), std::string::npos);
  auto twice = parse_credentials("a,a,p\na,a,q\n", "c");
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().to_string().find("line 2"), std::string::npos);
  auto empty_pw = parse_credentials("a,a,\n", "c");
  ASSERT_FALSE(empty_pw.ok());
  EXPECT_NE(empty_pw.error().to_string().find("password is empty"), std::string::npos);
}

TEST(Credentials, CommandKeysAreReadWrittenAndABadOneIsRefusedWithoutShowingIt) {
  const protocol::CommandKey key = protocol::random_command_key();
  const std::string hex = protocol::command_key_to_hex(key);
  auto set = parse_credentials("meter_id,username,password,command_key\nm1,m1,pw1," + hex + "\nm2,m2,pw2,\n", "f");
  ASSERT_TRUE(set.ok()) << set.error().to_string();
  ASSERT_TRUE(set->find("m1")->command_key);
  EXPECT_EQ(*set->find("m1")->command_key, key);
  EXPECT_FALSE(set->find("m2")->command_key);  // no key: commands are not checked
  auto bad = parse_credentials("m1,m1,pw1,deadbeef-secret\n", "f");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().to_string().find("command_key of meter 'm1'"), std::string::npos);
  EXPECT_EQ(bad.error().to_string().find("deadbeef-secret"), std::string::npos);

  const std::filesystem::path file =
      std::filesystem::temp_directory_path() / ("wattguard-creds-" + std::to_string(::getpid()) + ".csv");
  ASSERT_TRUE(save_credentials(file, set.value(), {"m1", "m2"}).ok());
  auto back = load_credentials(file);
  std::filesystem::remove(file);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(*back->find("m1")->command_key, key);
  EXPECT_FALSE(back->find("m2")->command_key);
}

TEST(Credentials, RandomPasswordsAreLongAndDiffer) {
  const std::string a = random_password(), b = random_password();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
}

TEST(TheftPlan, ChoosesTheRequestedShareDeterministicallyAndCoversEveryKind) {
  TheftPlanOptions o;
  o.fraction = 0.1;
  o.seed = 9;
  const auto a = plan_thefts(1000, o);
  const auto b = plan_thefts(1000, o);
  std::map<TheftKind, int> kinds;
  for (std::size_t k = 0; k < a.size(); ++k) {
    EXPECT_EQ(a[k].kind, b[k].kind);
    EXPECT_EQ(a[k].onset_s, b[k].onset_s);
    if (a[k].kind != TheftKind::kNone) {
      ++kinds[a[k].kind];
      EXPECT_GE(a[k].onset_s, o.onset_min_s);
      EXPECT_LE(a[k].onset_s, o.onset_max_s);
    }
  }
  int thieves = 0;
  for (auto& [k, n] : kinds) thieves += n;
  EXPECT_EQ(thieves, 100);
  EXPECT_EQ(kinds.size(), kAllTheftKinds.size());
  o.seed = 10;
  const auto c = plan_thefts(1000, o);
  int same = 0;
  for (std::size_t k = 0; k < a.size(); ++k) same += a[k].kind != TheftKind::kNone && a[k].kind == c[k].kind;
  EXPECT_LT(same, 50);
}

TEST(TheftPlan, NamesRoundTrip) {
  for (TheftKind k : kAllTheftKinds) EXPECT_EQ(theft_kind_from_name(theft_kind_name(k)), k);
  EXPECT_FALSE(theft_kind_from_name("teleport"));
}

}  // namespace
}  // namespace wattguard::fleet
