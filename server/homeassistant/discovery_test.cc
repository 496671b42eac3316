// The discovery payloads carry Home Assistant's documented keys and parse as JSON; topics round-trip.
#include "wattguard/homeassistant/discovery.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

namespace wattguard::homeassistant {
namespace {

using nlohmann::json;

storage::MeterInfo meter() {
  storage::MeterInfo m;
  m.id = "m-01";
  m.name = "Kitchen";
  m.area = "north";
  return m;
}

TEST(Discovery, EveryMeterGetsSixSensorsAndARelaySwitchUnderItsNode) {
  const auto messages = discovery_messages(Topics{}, meter(), "0.1.0");
  std::set<std::string> topics;
  for (const auto& m : messages) {
    topics.insert(m.topic);
    EXPECT_TRUE(m.retain) << m.topic;
  }
  const std::set<std::string> expected = {
      "homeassistant/sensor/wattguard_m-01/power/config",        "homeassistant/sensor/wattguard_m-01/energy/config",
      "homeassistant/sensor/wattguard_m-01/voltage/config",      "homeassistant/sensor/wattguard_m-01/current/config",
      "homeassistant/sensor/wattguard_m-01/power_factor/config", "homeassistant/sensor/wattguard_m-01/frequency/config",
      "homeassistant/switch/wattguard_m-01/relay/config"};
  EXPECT_EQ(topics, expected);
}

TEST(Discovery, EnergyIsATotalIncreasingKilowattHourSensorForTheEnergyDashboard) {
  for (const auto& m : discovery_messages(Topics{}, meter(), "0.1.0")) {
    if (m.topic.find("/energy/") == std::string::npos) continue;
    const json c = json::parse(m.payload);
    EXPECT_EQ(c["device_class"], "energy");
    EXPECT_EQ(c["state_class"], "total_increasing");
    EXPECT_EQ(c["unit_of_measurement"], "kWh");
    EXPECT_EQ(c["value_template"], "{{ value_json.energy_kwh }}");
    EXPECT_EQ(c["state_topic"], "wattguard/ha/m-01/state");
    return;
  }
  FAIL() << "no energy sensor";
}

TEST(Discovery, EveryConfigHasTheDocumentedCommonKeys) {
  for (const auto& m : discovery_messages(Topics{"ha", "wg/x"}, meter(), "1.2.3")) {
    const json c = json::parse(m.payload);
    for (const char* key : {"name", "unique_id", "default_entity_id", "state_topic", "availability", "device", "origin",
                            "value_template"}) {
      EXPECT_TRUE(c.contains(key)) << m.topic << " lacks " << key;
    }
    EXPECT_EQ(c["device"]["identifiers"], json::array({"wattguard_m-01"}));
    EXPECT_EQ(c["device"]["name"], "Kitchen");
    EXPECT_EQ(c["device"]["manufacturer"], "wattguard");
    EXPECT_EQ(c["device"]["sw_version"], "1.2.3");
    EXPECT_TRUE(c["device"].contains("model"));
    EXPECT_EQ(c["origin"]["name"], "wattguard");
    EXPECT_EQ(c["availability"][0]["topic"], "wg/x/m-01/availability");
    EXPECT_EQ(c["availability"][0]["payload_available"], "online");
    EXPECT_EQ(c["availability"][0]["payload_not_available"], "offline");
    EXPECT_EQ(c["availability"][1]["topic"], "wg/x/status");
    const std::string unique = c["unique_id"];
    EXPECT_EQ(c["default_entity_id"], (m.topic.starts_with("ha/switch/") ? "switch." : "sensor.") + unique);
  }
}

TEST(Discovery, TheRelaySwitchCommandsOnTheServersSetTopic) {
  const auto messages = discovery_messages(Topics{}, meter(), "0.1.0");
  const json c = json::parse(messages.back().payload);
  EXPECT_EQ(c["command_topic"], "wattguard/ha/m-01/relay/set");
  EXPECT_EQ(c["payload_on"], "ON");
  EXPECT_EQ(c["payload_off"], "OFF");
  EXPECT_EQ(c["state_on"], "ON");
  EXPECT_EQ(c["state_off"], "OFF");
  EXPECT_EQ(c["value_template"], "{{ value_json.relay }}");
}

TEST(Discovery, StatePayloadHasEveryFieldAndTheRelayFromTheReadingsFlag) {
  protocol::Reading r;
  r.meter_id = "m-01";
  r.p_w = 1234.5;
  r.e_import_wh = 98765;
  r.vrms = 231.2;
  r.irms = 5.4;
  r.pf = 0.97;
  r.freq_hz = 50.01;
  r.flags = protocol::kFlagRelayOpen;
  const json s = json::parse(state_payload(r));
  EXPECT_DOUBLE_EQ(s["power_w"].get<double>(), 1234.5);
  EXPECT_DOUBLE_EQ(s["energy_kwh"].get<double>(), 98.765);
  EXPECT_DOUBLE_EQ(s["voltage_v"].get<double>(), 231.2);
  EXPECT_DOUBLE_EQ(s["current_a"].get<double>(), 5.4);
  EXPECT_DOUBLE_EQ(s["power_factor"].get<double>(), 0.97);
  EXPECT_DOUBLE_EQ(s["frequency_hz"].get<double>(), 50.01);
  EXPECT_EQ(s["relay"], "OFF");
  r.flags = 0;
  EXPECT_EQ(json::parse(state_payload(r))["relay"], "ON");
}

TEST(Discovery, RelaySetTopicsNameTheirMeterAndNothingElseMatches) {
  const Topics t;
  EXPECT_EQ(meter_of_relay_set(t, "wattguard/ha/m-01/relay/set"), "m-01");
  EXPECT_EQ(meter_of_relay_set(t, "wattguard/ha/m-01/state"), std::nullopt);
  EXPECT_EQ(meter_of_relay_set(t, "wattguard/ha//relay/set"), std::nullopt);
  EXPECT_EQ(meter_of_relay_set(t, "wattguard/ha/a/b/relay/set"), std::nullopt);
  EXPECT_EQ(meter_of_relay_set(t, "other/m-01/relay/set"), std::nullopt);
}

TEST(Discovery, StaleMetersStayAvailableOfflineAndUnknownDoNot) {
  EXPECT_EQ(availability_payload(ingest::Connectivity::kOnline), "online");
  EXPECT_EQ(availability_payload(ingest::Connectivity::kStale), "online");
  EXPECT_EQ(availability_payload(ingest::Connectivity::kOffline), "offline");
  EXPECT_EQ(availability_payload(ingest::Connectivity::kUnknown), "offline");
}

}  // namespace
}  // namespace wattguard::homeassistant
