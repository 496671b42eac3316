// The discovery payloads; one place for the entity list so every meter is announced the same way.
#include "wattguard/homeassistant/discovery.h"

#include <nlohmann/json.hpp>

#include "wattguard/protocol/topics.h"

namespace wattguard::homeassistant {
namespace {

using nlohmann::json;

constexpr const char* kOnline = "online";
constexpr const char* kOffline = "offline";

struct SensorSpec {
  const char* object;  // object id in the topic and the entity ids
  const char* name;    // entity name (Home Assistant prefixes the device name)
  const char* field;   // member of the state payload
  const char* unit;    // nullptr: none
  const char* device_class;
  const char* state_class;
  int precision;  // suggested_display_precision
};

constexpr SensorSpec kSensors[] = {
    {"power", "Power", "power_w", "W", "power", "measurement", 0},
    {"energy", "Energy", "energy_kwh", "kWh", "energy", "total_increasing", 3},
    {"voltage", "Voltage", "voltage_v", "V", "voltage", "measurement", 1},
    {"current", "Current", "current_a", "A", "current", "measurement", 2},
    {"power_factor", "Power factor", "power_factor", nullptr, "power_factor", "measurement", 2},
    {"frequency", "Frequency", "frequency_hz", "Hz", "frequency", "measurement", 2},
};

std::string node_id(std::string_view meter_id) { return "wattguard_" + std::string(meter_id); }

json device_of(const storage::MeterInfo& meter, std::string_view sw_version) {
  json device = {{"identifiers", json::array({node_id(meter.id)})},
                 {"name", meter.name.empty() ? "Meter " + meter.id : meter.name},
                 {"manufacturer", "wattguard"},
                 {"model", "wattguard meter"},
                 {"sw_version", std::string(sw_version)},
                 {"serial_number", meter.id}};
  if (!meter.area.empty()) device["suggested_area"] = meter.area;
  return device;
}

// What every entity of a meter shares: device, origin, availability (the meter's and the server's own, both
// required, so a server that stopped or crashed makes its meters unavailable rather than frozen).
json common(const Topics& t, const storage::MeterInfo& meter, std::string_view sw_version, std::string_view component,
            std::string_view object, std::string_view name) {
  const std::string unique = node_id(meter.id) + "_" + std::string(object);
  return {
      {"name", std::string(name)},
      {"unique_id", unique},
      {"default_entity_id", std::string(component) + "." + unique},
      {"state_topic", state_topic(t, meter.id)},
      {"availability",
       json::array(
           {{{"topic", availability_topic(t, meter.id)},
             {"payload_available", kOnline},
             {"payload_not_available", kOffline}},
            {{"topic", server_status_topic(t)}, {"payload_available", kOnline}, {"payload_not_available", kOffline}}})},
      {"availability_mode", "all"},
      {"device", device_of(meter, sw_version)},
      {"origin", {{"name", "wattguard"}, {"sw_version", std::string(sw_version)}}},
  };
}

}  // namespace

std::string state_topic(const Topics& t, std::string_view meter_id) {
  return t.state_prefix + "/" + std::string(meter_id) + "/state";
}
std::string availability_topic(const Topics& t, std::string_view meter_id) {
  return t.state_prefix + "/" + std::string(meter_id) + "/availability";
}
std::string relay_set_topic(const Topics& t, std::string_view meter_id) {
  return t.state_prefix + "/" + std::string(meter_id) + "/relay/set";
}
std::string server_status_topic(const Topics& t) { return t.state_prefix + "/status"; }
std::string ha_status_topic(const Topics& t) { return t.discovery_prefix + "/status"; }
std::string relay_set_filter(const Topics& t) { return t.state_prefix + "/+/relay/set"; }

std::optional<std::string> meter_of_relay_set(const Topics& t, std::string_view topic) {
  const std::string head = t.state_prefix + "/";
  constexpr std::string_view kTail = "/relay/set";
  if (topic.size() <= head.size() + kTail.size() || !topic.starts_with(head) || !topic.ends_with(kTail)) {
    return std::nullopt;
  }
  std::string meter(topic.substr(head.size(), topic.size() - head.size() - kTail.size()));
  if (!protocol::is_valid_meter_id(meter)) return std::nullopt;
  return meter;
}

std::vector<MqttMessage> discovery_messages(const Topics& t, const storage::MeterInfo& meter,
                                            std::string_view sw_version) {
  std::vector<MqttMessage> out;
  const std::string node = node_id(meter.id);
  for (const SensorSpec& s : kSensors) {
    json config = common(t, meter, sw_version, "sensor", s.object, s.name);
    config["value_template"] = std::string("{{ value_json.") + s.field + " }}";
    if (s.unit != nullptr) config["unit_of_measurement"] = s.unit;
    config["device_class"] = s.device_class;
    config["state_class"] = s.state_class;
    config["suggested_display_precision"] = s.precision;
    out.push_back({t.discovery_prefix + "/sensor/" + node + "/" + s.object + "/config", config.dump(), true});
  }
  json relay = common(t, meter, sw_version, "switch", "relay", "Relay");
  relay["command_topic"] = relay_set_topic(t, meter.id);
  relay["payload_on"] = "ON";
  relay["payload_off"] = "OFF";
  relay["state_on"] = "ON";
  relay["state_off"] = "OFF";
  relay["value_template"] = "{{ value_json.relay }}";
  relay["device_class"] = "switch";
  relay["optimistic"] = false;
  relay["qos"] = 1;
  out.push_back({t.discovery_prefix + "/switch/" + node + "/relay/config", relay.dump(), true});
  return out;
}

std::string state_payload(const protocol::Reading& r) {
  const json state = {
      {"power_w", r.p_w},
      {"energy_kwh", r.e_import_wh / 1000.0},
      {"energy_export_kwh", r.e_export_wh / 1000.0},
      {"voltage_v", r.vrms},
      {"current_a", r.irms},
      {"power_factor", r.pf},
      {"frequency_hz", r.freq_hz},
      {"apparent_power_va", r.s_va},
      {"reactive_power_var", r.q_var},
      {"relay", (r.flags & protocol::kFlagRelayOpen) != 0 ? "OFF" : "ON"},
      {"time_ms", r.time_ms},
      {"seq", r.seq},
  };
  return state.dump();
}

std::string_view availability_payload(ingest::Connectivity c) {
  return c == ingest::Connectivity::kOnline || c == ingest::Connectivity::kStale ? kOnline : kOffline;
}

}  // namespace wattguard::homeassistant
