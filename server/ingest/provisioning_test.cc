// Tests of provisioning: Mosquitto password hashes (checked against mosquitto_passwd and a real
// broker), the ACL, atomic registration, and the bulk form.
#include "wattguard/ingest/provisioning.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>

#include "wattguard/broker/broker_process.h"
#include "wattguard/protocol/topics.h"
#include "wattguard/storage/sqlite_store.h"
#include "wattguard/test_support/temp_dir.h"
#include "wattguard/test_support/test_client.h"

namespace wattguard::ingest {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

storage::MeterInfo meter(const std::string& id, const std::string& area = "") {
  storage::MeterInfo m;
  m.id = id;
  m.area = area;
  return m;
}

TEST(Passwords, GeneratedPasswordsAreLongUrlSafeAndDifferent) {
  const std::string a = generate_password(), b = generate_password();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  for (char c : a) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << a;
}

TEST(Passwords, OurHashHasMosquittoFormatAndVerifies) {
  const std::string h = mosquitto_password_hash("s3cret");
  ASSERT_TRUE(h.starts_with("$7$101$"));
  EXPECT_EQ(h.size(), 7 + 16 + 1 + 88u);  // 12-byte salt and 64-byte key in base64
  EXPECT_TRUE(mosquitto_password_matches("s3cret", h));
  EXPECT_FALSE(mosquitto_password_matches("s3cret!", h));
  EXPECT_NE(h, mosquitto_password_hash("s3cret"));  // fresh salt each time
  EXPECT_FALSE(mosquitto_password_matches("x", "$7$101$garbage"));
  EXPECT_FALSE(mosquitto_password_matches("x", ""));
}

TEST(Passwords, AgreesWithMosquittoPasswd) {
  if (broker::mosquitto_binary().empty()) GTEST_SKIP() << "mosquitto is not installed";
  const test_support::TempDir temp("mp");
  const fs::path dir = temp.path();
  BrokerAuthFiles files{dir / "passwd", dir / "acl"};
  ProvisionOptions slow;
  slow.use_mosquitto_passwd = true;
  auto pw = set_broker_user(files, "alice", std::string("correct horse"), slow);
  ASSERT_TRUE(pw.ok()) << pw.error().message;
  const std::string line = slurp(files.password_file);
  ASSERT_TRUE(line.starts_with("alice:$7$")) << line;
  std::string hash = line.substr(6);
  hash.erase(hash.find_last_not_of("\n") + 1);
  EXPECT_TRUE(mosquitto_password_matches("correct horse", hash));
  EXPECT_FALSE(mosquitto_password_matches("correct horse battery", hash));
}

TEST(Acl, EachMeterWritesOnlyUnderItsOwnIdAndTheServerReadsAll) {
  const std::string acl = acl_file_text("srv");
  EXPECT_NE(acl.find("user srv\ntopic read wattguard/v1/#\ntopic write wattguard/v1/+/cmd\n"), std::string::npos);
  EXPECT_NE(acl.find("pattern write wattguard/v1/%u/reading\n"), std::string::npos);
  EXPECT_NE(acl.find("pattern read wattguard/v1/%u/cmd\n"), std::string::npos);
  EXPECT_EQ(acl.find("pattern write wattguard/v1/%u/cmd\n"), std::string::npos);  // a meter cannot command itself
  EXPECT_EQ(acl.find("pattern write wattguard/v1/#"), std::string::npos);
}

TEST(BulkIds, ZeroPaddedToTheWidestNumber) {
  EXPECT_EQ(bulk_meter_ids("m", 1, 3), (std::vector<std::string>{"m1", "m2", "m3"}));
  EXPECT_EQ(bulk_meter_ids("m", 9, 2), (std::vector<std::string>{"m09", "m10"}));
  EXPECT_EQ(bulk_meter_ids("x-", 0, 2, 5), (std::vector<std::string>{"x-00000", "x-00001"}));
  EXPECT_EQ(bulk_meter_ids("m", 1, 20000).back(), "m20000");
  EXPECT_TRUE(bulk_meter_ids("m", 1, 0).empty());
}

class ProvisionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s =
        storage::SqliteStore::open(storage::SqliteOptions{.path = (dir_ / "db").string(), .reader_connections = 1});
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(s.value());
    files_ = BrokerAuthFiles{dir_ / "mosquitto" / "passwd", dir_ / "mosquitto" / "acl"};
  }
  void TearDown() override { store_.reset(); }
  test_support::TempDir temp_dir_{"prov"};  // first: removed after everything that uses it
  const fs::path dir_ = temp_dir_.path();
  std::unique_ptr<storage::SqliteStore> store_;
  BrokerAuthFiles files_;
};

TEST_F(ProvisionTest, RegistersMetersAndWritesOneHashPerMeter) {
  ASSERT_TRUE(set_broker_user(files_, "wattguard-server", std::string("serverpw")).ok());
  std::vector<storage::MeterInfo> ms = {meter("m1", "north"), meter("m2", "south")};
  auto creds = provision_meters(*store_, files_, ms);
  ASSERT_TRUE(creds.ok()) << creds.error().message;
  ASSERT_EQ(creds->size(), 2u);
  EXPECT_EQ((*creds)[0].username, "m1");
  EXPECT_EQ(store_->get_meter("m2")->area, "south");
  const std::string pw = slurp(files_.password_file);
  EXPECT_NE(pw.find("wattguard-server:$7$"), std::string::npos);  // existing users are kept
  for (const auto& c : creds.value()) {
    const auto pos = pw.find(c.meter_id + ":");
    ASSERT_NE(pos, std::string::npos);
    const std::string hash = pw.substr(pos + c.meter_id.size() + 1, pw.find('\n', pos) - pos - c.meter_id.size() - 1);
    EXPECT_TRUE(mosquitto_password_matches(c.password, hash));
    EXPECT_EQ(pw.find(c.password), std::string::npos);  // only the hash is stored
  }
  EXPECT_EQ(slurp(files_.acl_file), acl_file_text(kDefaultServerUser));
  EXPECT_EQ(fs::status(files_.password_file).permissions() & fs::perms::others_read, fs::perms::none);
}

TEST_F(ProvisionTest, RefusesBadOrDuplicateIdsAndChangesNothing) {
  ASSERT_TRUE(provision_meters(*store_, files_, std::vector{meter("m1")}).ok());
  const std::string before = slurp(files_.password_file);
  for (const auto& batch : {std::vector{meter("m2"), meter("m1")}, std::vector{meter("m3"), meter("bad/id")},
                            std::vector{meter("m4"), meter("m4")}, std::vector{meter("wattguard-server")}}) {
    auto r = provision_meters(*store_, files_, batch);
    EXPECT_FALSE(r.ok());
  }
  EXPECT_EQ(slurp(files_.password_file), before);
  EXPECT_FALSE(store_->has_meter("m2"));
  EXPECT_FALSE(store_->has_meter("m3"));
  auto err = provision_meters(*store_, files_, std::vector{meter("m1")});
  ASSERT_FALSE(err.ok());
  EXPECT_NE(err.error().message.find("m1"), std::string::npos);
}

TEST_F(ProvisionTest, GatewayUserIsAddedAndKeptByLaterRuns) {
  ProvisionOptions with_gateway;
  with_gateway.gateway_user = "wattguard-gateway";
  auto creds = provision_meters(*store_, files_, std::vector{meter("m1")}, with_gateway);
  ASSERT_TRUE(creds.ok()) << creds.error().message;
  ASSERT_EQ(creds->size(), 2u);
  EXPECT_EQ(creds->back().meter_id, "*");
  EXPECT_EQ(creds->back().username, "wattguard-gateway");
  ASSERT_TRUE(provision_meters(*store_, files_, std::vector{meter("m2")}).ok());
  const std::string acl = slurp(files_.acl_file);
  EXPECT_NE(acl.find("# gateway: wattguard-gateway\nuser wattguard-gateway\ntopic write wattguard/v1/+/reading\n"),
            std::string::npos)
      << acl;
  EXPECT_NE(slurp(files_.password_file).find("wattguard-gateway:$7$"), std::string::npos);
  // A meter named like the gateway would take over its password and its rights over every meter.
  const std::string before = slurp(files_.password_file);
  auto takeover = provision_meters(*store_, files_, std::vector{meter("wattguard-gateway")});
  ASSERT_FALSE(takeover.ok());
  EXPECT_EQ(takeover.error().code, ErrorCode::kAlreadyExists);
  EXPECT_NE(takeover.error().message.find("existing broker user"), std::string::npos);
  EXPECT_EQ(slurp(files_.password_file), before);
  EXPECT_FALSE(store_->has_meter("wattguard-gateway"));
  // Nor may a gateway take a meter's name.
  ProvisionOptions gateway_as_meter;
  gateway_as_meter.gateway_user = "m1";
  EXPECT_FALSE(provision_meters(*store_, files_, std::vector{meter("m3")}, gateway_as_meter).ok());
  EXPECT_EQ(slurp(files_.password_file), before);
}

TEST_F(ProvisionTest, BulkFleetInOneGo) {
  // 2,000 here to keep the sanitizer build quick; `wattguard meters provision --count 20000` is timed in docs.
  std::vector<storage::MeterInfo> ms;
  for (const auto& id : bulk_meter_ids("m", 1, 2000)) ms.push_back(meter(id, "a"));
  const auto t0 = std::chrono::steady_clock::now();
  auto creds = provision_meters(*store_, files_, ms);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(creds.ok()) << creds.error().message;
  EXPECT_EQ(creds->size(), 2000u);
  EXPECT_EQ(store_->list_meters()->size(), 2000u);
  std::ifstream in(files_.password_file);
  std::size_t lines = 0;
  for (std::string l; std::getline(in, l);) ++lines;
  EXPECT_EQ(lines, 2000u);
  std::printf("provisioned 2,000 meters in %.2f s (informational; not asserted)\n", s);
}

TEST_F(ProvisionTest, RealBrokerAcceptsTheCredentialsAndEnforcesTheAcl) {
  if (broker::mosquitto_binary().empty()) GTEST_SKIP() << "mosquitto is not installed";
  auto prepared = broker::BrokerProcess::prepare(broker::caller_files_setup(dir_ / "broker"));
  ASSERT_TRUE(prepared.ok()) << prepared.error().to_string();
  broker::BrokerProcess& broker = *prepared.value();
  files_ = BrokerAuthFiles{broker.password_file(), broker.acl_file()};
  auto creds = provision_meters(*store_, files_, std::vector{meter("m1"), meter("m2")});
  ASSERT_TRUE(creds.ok()) << creds.error().message;
  auto server_pw = set_broker_user(files_, kDefaultServerUser, std::nullopt);
  ASSERT_TRUE(server_pw.ok());
  auto launched = broker.launch();
  ASSERT_TRUE(launched.ok()) << launched.error().to_string();

  test_support::TestClient good(broker.port(), {"t-m1", "m1", (*creds)[0].password, true, std::nullopt});
  EXPECT_EQ(good.connect(), 0);
  test_support::TestClient bad(broker.port(), {"t-m2", "m2", "wrong password", true, std::nullopt});
  EXPECT_NE(bad.connect(), 0);

  // The server sees m1's reading but not what m1 publishes under m2's id.
  std::mutex mu;
  std::vector<std::string> seen;
  test_support::TestClient server(broker.port(),
                                  {"t-srv", std::string(kDefaultServerUser), server_pw.value(), true, std::nullopt});
  server.on_message = [&](const std::string& topic, const std::string&) {
    std::lock_guard lk(mu);
    seen.push_back(topic);
  };
  ASSERT_EQ(server.connect(), 0);
  ASSERT_TRUE(server.subscribe("wattguard/v1/#"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_TRUE(good.publish(protocol::make_topic("m2", protocol::TopicKind::kReading), "{}"));
  ASSERT_TRUE(good.publish(protocol::make_topic("m1", protocol::TopicKind::kCmd), "{}"));  // may not command itself
  ASSERT_TRUE(good.publish(protocol::make_topic("m1", protocol::TopicKind::kReading), "{}"));
  ASSERT_TRUE(good.wait_acked());
  for (int i = 0; i < 100; ++i) {
    {
      std::lock_guard lk(mu);
      if (!seen.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::lock_guard lk(mu);
  EXPECT_EQ(seen, std::vector<std::string>{"wattguard/v1/m1/reading"});
}

}  // namespace
}  // namespace wattguard::ingest

namespace wattguard::ingest {
namespace {

TEST(Acl, TheServerPublishesForHomeAssistantAndAHomeAssistantUserOnlyCommandsRelays) {
  const std::string acl = acl_file_text("srv", {}, {"ha"});
  EXPECT_NE(acl.find("user srv\n"), std::string::npos);
  const std::string server = acl.substr(0, acl.find("# homeassistant: ha"));
  for (const char* line : {"topic write homeassistant/#\n", "topic read homeassistant/status\n",
                           "topic write wattguard/ha/#\n", "topic read wattguard/ha/+/relay/set\n"}) {
    EXPECT_NE(server.find(line), std::string::npos) << line;
  }
  const std::string ha = acl.substr(acl.find("# homeassistant: ha\nuser ha\n"));
  EXPECT_NE(ha.find("topic read homeassistant/#\ntopic write homeassistant/status\n"), std::string::npos);
  EXPECT_NE(ha.find("topic read wattguard/ha/#\ntopic write wattguard/ha/+/relay/set\n"), std::string::npos);
  EXPECT_EQ(ha.substr(0, ha.find("pattern")).find("wattguard/v1"), std::string::npos);  // no meter topics
}

TEST(Acl, AHomeAssistantUserSurvivesLaterProvisioning) {
  test_support::TempDir dir("prov-ha");
  BrokerAuthFiles files{dir.path() / "passwd", dir.path() / "acl"};
  ProvisionOptions ha;
  ha.homeassistant_user = "hass";
  ASSERT_TRUE(set_broker_user(files, "hass", std::string("secret-pw"), ha).ok());
  ASSERT_TRUE(set_broker_user(files, "wattguard-server", std::string("serverpw")).ok());
  EXPECT_EQ(slurp(files.acl_file), acl_file_text(kDefaultServerUser, {}, {"hass"}));
}

}  // namespace
}  // namespace wattguard::ingest
