// Fidelity choice, broker addresses, theft-kind lists and fleet configuration checks.
#include "wattguard/fleet/fleet_options.h"

#include <gtest/gtest.h>

namespace wattguard::fleet {
namespace {

TEST(FleetOptions, AutoFidelityKeepsSamplesWhileAffordableThenDropsRateThenGoesFast) {
  auto small = choose_fidelity("auto", 50, 1.0);
  ASSERT_TRUE(small);
  EXPECT_EQ(small->fidelity, Fidelity::kSamples);
  EXPECT_EQ(small->sample_rate_hz, 4000u);
  auto medium = choose_fidelity("auto", 2000, 1.0);
  EXPECT_EQ(medium->fidelity, Fidelity::kSamples);
  EXPECT_EQ(medium->sample_rate_hz, 1000u);
  auto large = choose_fidelity("auto", 20000, 1.0);
  EXPECT_EQ(large->fidelity, Fidelity::kFast);
  // Speed counts like more meters.
  EXPECT_EQ(choose_fidelity("auto", 50, 50.0)->fidelity, Fidelity::kSamples);
  EXPECT_EQ(choose_fidelity("auto", 50, 50.0)->sample_rate_hz, 1000u);
  EXPECT_EQ(choose_fidelity("fast", 5, 1.0)->fidelity, Fidelity::kFast);
  // Asked for samples, samples it is (with a warning in the reason).
  auto forced = choose_fidelity("samples", 20000, 1.0);
  EXPECT_EQ(forced->fidelity, Fidelity::kSamples);
  EXPECT_NE(forced->reason.find("over the budget"), std::string::npos);
  EXPECT_EQ(choose_fidelity("samples", 10, 1.0, 8000)->sample_rate_hz, 8000u);
  EXPECT_FALSE(choose_fidelity("exact", 10, 1.0));
}

TEST(FleetOptions, BrokerAddresses) {
  EXPECT_EQ(parse_broker_address("example.org:1884")->host, "example.org");
  EXPECT_EQ(parse_broker_address("example.org:1884")->port, 1884);
  EXPECT_EQ(parse_broker_address(":2000")->host, "127.0.0.1");
  EXPECT_EQ(parse_broker_address("broker")->port, 1883);
  EXPECT_FALSE(parse_broker_address("host:"));
  EXPECT_FALSE(parse_broker_address("host:0"));
  EXPECT_FALSE(parse_broker_address("host:70000"));
  EXPECT_FALSE(parse_broker_address("host:12a"));
}

TEST(FleetOptions, TheftKindLists) {
  const auto kinds = parse_theft_kinds("bypass,magnet");
  ASSERT_TRUE(kinds.ok()) << kinds.error().to_string();
  EXPECT_EQ(kinds.value(), (std::vector<TheftKind>{TheftKind::kBypass, TheftKind::kMagnet}));
  const auto bad = parse_theft_kinds("bypass,teleport");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("'teleport'"), std::string::npos);
  EXPECT_NE(bad.error().message.find("reversed_ct"), std::string::npos);  // lists the known ones
  EXPECT_FALSE(parse_theft_kinds("none").ok());
}

// validate()'s message, or "" when the configuration is usable.
std::string problem(const FleetConfig& c) {
  const auto valid = validate(c);
  return valid.ok() ? std::string() : valid.error().message;
}

TEST(FleetOptions, ConfigurationChecksNameTheField) {
  FleetConfig c;
  EXPECT_EQ(problem(c), "");
  c.period_ms = 1500;
  EXPECT_NE(problem(c).find("period"), std::string::npos);
  c = FleetConfig{};
  c.meters = 0;
  EXPECT_NE(problem(c).find("meters"), std::string::npos);
  c = FleetConfig{};
  c.id_prefix = "bad/prefix";
  EXPECT_NE(problem(c).find("id prefix"), std::string::npos);
  c = FleetConfig{};
  c.thieves.fraction = 1.5;
  EXPECT_NE(problem(c).find("thieves"), std::string::npos);
  c = FleetConfig{};
  c.tls = {true, "", false};  // TLS that trusts nothing in particular would take any broker
  EXPECT_NE(problem(c).find("tls ca file"), std::string::npos);
  c.tls.ca_file = "/nonexistent/ca.pem";
  EXPECT_NE(problem(c).find("/nonexistent/ca.pem\" cannot be read"), std::string::npos) << problem(c);
  c = FleetConfig{};
  c.broker_nodes = {{"127.0.0.1", 4222}, {"127.0.0.1", 70000}};
  EXPECT_NE(problem(c).find("broker port: 70000"), std::string::npos) << problem(c);
  c.broker_nodes = {{"", 4222}};
  EXPECT_NE(problem(c).find("broker host"), std::string::npos) << problem(c);
  c = FleetConfig{};
  c.meters = 3;
  c.first_number = 98;
  c.id_width = 3;
  EXPECT_EQ(fleet_meter_ids(c), (std::vector<std::string>{"m098", "m099", "m100"}));
}

TEST(FleetOptions, MqttVersionsByName) {
  EXPECT_EQ(FleetConfig{}.mqtt_version, MqttVersion::kV5);
  EXPECT_EQ(mqtt_version_from_name("5"), MqttVersion::kV5);
  EXPECT_EQ(mqtt_version_from_name("3.1.1"), MqttVersion::kV311);
  EXPECT_EQ(mqtt_version_from_name("3"), std::nullopt);
  EXPECT_STREQ(mqtt_version_name(MqttVersion::kV311), "3.1.1");
}

TEST(FleetOptions, CreateRefusesMissingCredentials) {
  FleetConfig c;
  c.meters = 2;
  c.credentials.meters["m00001"] = BrokerLogin{"m00001", "pw", std::nullopt};
  auto f = Fleet::create(c);
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().message.find("m00002"), std::string::npos);
  c.transport = Transport::kGateway;
  auto g = Fleet::create(c);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.error().message.find("gateway"), std::string::npos);
}

}  // namespace
}  // namespace wattguard::fleet
