// Home Assistant discovery on the real system: a private Mosquitto with the ACL `wattguard meters` writes, the
// server with [homeassistant] enabled and a virtual fleet, and a real MQTT subscriber logged in as a Home
// Assistant broker user (created as the CLI does). Every meter is announced with Home Assistant's documented keys,
// states follow readings, availability follows the meters, Home Assistant's birth brings the configs again, and an
// OFF on the relay switch becomes a stored, audited relay_off command from "homeassistant".
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "tests/e2e_support.h"
#include "wattguard/demo/local_system.h"
#include "wattguard/ingest/provisioning.h"
#include "wattguard/test_support/test_client.h"

namespace wattguard::e2e {
namespace {

using nlohmann::json;

constexpr const char* kHaUser = "hass";
constexpr const char* kHaPassword = "home-assistant-broker-password";

// What the Home Assistant user's subscription received: the newest payload per topic and a count per topic.
class Received {
 public:
  void add(const std::string& topic, const std::string& payload) {
    std::lock_guard lock(mu_);
    latest_[topic] = payload;
    ++counts_[topic];
  }
  std::map<std::string, std::string> latest() {
    std::lock_guard lock(mu_);
    return latest_;
  }
  int count(const std::string& topic) {
    std::lock_guard lock(mu_);
    return counts_[topic];
  }
  // Polls `pred` over the newest payloads until it holds or `seconds` pass.
  bool wait(const std::function<bool(const std::map<std::string, std::string>&)>& pred, int seconds = 30) {
    for (int i = 0; i < seconds * 20; ++i) {
      if (pred(latest())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::string> latest_;
  std::map<std::string, int> counts_;
};

class HomeAssistantE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    demo::LocalSystemOptions o;
    o.data_dir = dir_.path();
    o.http_port = 0;
    o.password_cost = "min";
    o.create_operator = false;
    o.demo_accounts = false;
    o.fleet.meters = 2;
    o.fleet.period_ms = 1000;
    o.fleet.journal_fsync = false;
    o.configure_server = [](serve::ServerConfig& c) { c.homeassistant.enabled = true; };
    auto s = demo::LocalSystem::start(o);
    ASSERT_TRUE(s.ok()) << s.error().message;
    sys_ = std::move(s).value();
    auto meters = sys_->server().store().list_meters();
    ASSERT_TRUE(meters.ok());
    ASSERT_EQ(meters->size(), 2u);
    for (const auto& m : meters.value()) meters_.push_back(m.id);

    // The Home Assistant user, as `wattguard meters broker-user --user hass --homeassistant` makes it.
    ingest::ProvisionOptions ha;
    ha.server_user = kServerUser;
    ha.homeassistant_user = kHaUser;
    auto& broker = sys_->broker();
    auto pw =
        ingest::set_broker_user({broker.password_file(), broker.acl_file()}, kHaUser, std::string(kHaPassword), ha);
    ASSERT_TRUE(pw.ok()) << pw.error().message;
    broker.reload();

    client_ = std::make_unique<test_support::TestClient>(
        broker.port(), test_support::TestClient::Options{"e2e-home-assistant", kHaUser, kHaPassword, true, {}});
    client_->on_message = [this](const std::string& topic, const std::string& payload) { got_.add(topic, payload); };
    ASSERT_EQ(client_->connect(), 0);
    ASSERT_TRUE(client_->subscribe("homeassistant/#"));
    ASSERT_TRUE(client_->subscribe("wattguard/ha/#"));
  }
  void TearDown() override {
    if (client_) client_->disconnect();
    if (sys_) sys_->stop();
  }

  static std::vector<std::string> config_topics(const std::string& meter) {
    std::vector<std::string> out;
    for (const char* s : {"power", "energy", "voltage", "current", "power_factor", "frequency"}) {
      out.push_back("homeassistant/sensor/wattguard_" + meter + "/" + s + "/config");
    }
    out.push_back("homeassistant/switch/wattguard_" + meter + "/relay/config");
    return out;
  }

  TempDir dir_{"ha-e2e"};
  std::unique_ptr<demo::LocalSystem> sys_;
  std::vector<std::string> meters_;
  std::unique_ptr<test_support::TestClient> client_;
  Received got_;
};

TEST_F(HomeAssistantE2e, EveryMeterIsAnnouncedWithTheDocumentedKeysAndItsStateAndAvailabilityFollow) {
  ASSERT_TRUE(got_.wait([&](const auto& latest) {
    for (const auto& m : meters_) {
      for (const auto& t : config_topics(m)) {
        if (latest.count(t) == 0) return false;
      }
    }
    return true;
  })) << "discovery configs missing";
  const auto latest = got_.latest();
  for (const auto& m : meters_) {
    for (const auto& t : config_topics(m)) {
      const json c = json::parse(latest.at(t), nullptr, false);
      ASSERT_TRUE(c.is_object()) << t << ": " << latest.at(t);
      for (const char* key : {"name", "unique_id", "default_entity_id", "state_topic", "value_template", "availability",
                              "device", "origin"}) {
        EXPECT_TRUE(c.contains(key)) << t << " lacks " << key;
      }
      for (const char* key : {"identifiers", "name", "manufacturer", "model", "sw_version"}) {
        EXPECT_TRUE(c["device"].contains(key)) << t << " device lacks " << key;
      }
      EXPECT_EQ(c["state_topic"], "wattguard/ha/" + m + "/state");
      EXPECT_EQ(c["availability"][0]["topic"], "wattguard/ha/" + m + "/availability");
    }
    const json energy = json::parse(latest.at("homeassistant/sensor/wattguard_" + m + "/energy/config"));
    EXPECT_EQ(energy["device_class"], "energy");
    EXPECT_EQ(energy["state_class"], "total_increasing");
    EXPECT_EQ(energy["unit_of_measurement"], "kWh");
    const json power = json::parse(latest.at("homeassistant/sensor/wattguard_" + m + "/power/config"));
    EXPECT_EQ(power["unit_of_measurement"], "W");
    EXPECT_EQ(power["device_class"], "power");
    EXPECT_EQ(power["state_class"], "measurement");
    const json relay = json::parse(latest.at("homeassistant/switch/wattguard_" + m + "/relay/config"));
    EXPECT_EQ(relay["command_topic"], "wattguard/ha/" + m + "/relay/set");
    EXPECT_EQ(relay["payload_off"], "OFF");
  }
  // States follow the fleet's readings; availability follows the meters' connectivity.
  ASSERT_TRUE(got_.wait([&](const auto& l) {
    for (const auto& m : meters_) {
      const auto s = l.find("wattguard/ha/" + m + "/state");
      const auto a = l.find("wattguard/ha/" + m + "/availability");
      if (s == l.end() || a == l.end() || a->second != "online") return false;
    }
    return l.count("wattguard/ha/status") != 0 && l.at("wattguard/ha/status") == "online";
  })) << "state or availability missing";
  const json state = json::parse(got_.latest().at("wattguard/ha/" + meters_[0] + "/state"));
  for (const char* key : {"power_w", "energy_kwh", "voltage_v", "current_a", "power_factor", "frequency_hz", "relay"}) {
    EXPECT_TRUE(state.contains(key)) << key;
  }
  EXPECT_GT(state["voltage_v"].get<double>(), 100.0);
}

TEST_F(HomeAssistantE2e, HomeAssistantsBirthMessageBringsTheConfigsAgain) {
  const std::string topic = config_topics(meters_[0]).front();
  ASSERT_TRUE(got_.wait([&](const auto& l) { return l.count(topic) != 0; }));
  const int before = got_.count(topic);
  ASSERT_TRUE(client_->publish("homeassistant/status", "online"));
  ASSERT_TRUE(got_.wait([&](const auto&) { return got_.count(topic) > before; }, 20));
}

TEST_F(HomeAssistantE2e, AnOffFromTheRelaySwitchIsAStoredAuditedCommandFromHomeAssistant) {
  const std::string& meter = meters_[0];
  ASSERT_TRUE(got_.wait([&](const auto& l) { return l.count("wattguard/ha/" + meter + "/state") != 0; }));
  ASSERT_TRUE(client_->publish("wattguard/ha/" + meter + "/relay/set", "OFF"));
  std::optional<storage::CommandRecord> command;
  for (int i = 0; i < 400 && !command; ++i) {
    auto commands = sys_->server().store().commands(meter);
    ASSERT_TRUE(commands.ok());
    for (const auto& c : commands.value()) {
      if (c.requested_by == "homeassistant" && c.kind == protocol::CommandKind::kRelayOff) command = c;
    }
    if (!command) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(command.has_value()) << "no relay_off command from homeassistant";
  auto audit = sys_->server().store().audit(meter);
  ASSERT_TRUE(audit.ok());
  bool audited = false;
  for (const auto& a : audit.value()) {
    audited = audited || (a.actor == "homeassistant" && a.action == "command.relay_off" &&
                          a.details.find(command->id) != std::string::npos);
  }
  EXPECT_TRUE(audited);
  // The virtual meter opens its relay; its next readings say so and the switch's state follows.
  EXPECT_TRUE(got_.wait([&](const auto& l) {
    const auto s = l.find("wattguard/ha/" + meter + "/state");
    return s != l.end() && json::parse(s->second, nullptr, false).value("relay", "") == "OFF";
  }));
}

}  // namespace
}  // namespace wattguard::e2e
