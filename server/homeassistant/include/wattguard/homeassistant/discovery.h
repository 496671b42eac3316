// Home Assistant MQTT discovery as pure values: the retained config messages that announce a meter as a device
// with sensors and a relay switch, and the server's own state and availability payloads. Stateless; thread-safe.
// Keys as documented at https://www.home-assistant.io/integrations/mqtt/ (discovery) and the sensor/switch pages.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wattguard/ingest/meter_live.h"
#include "wattguard/protocol/messages.h"
#include "wattguard/storage/store_types.h"

namespace wattguard::homeassistant {

struct Topics {
  std::string discovery_prefix = "homeassistant";  // Home Assistant's discovery prefix
  std::string state_prefix = "wattguard/ha";       // the server's own state topics
};

struct MqttMessage {
  std::string topic;
  std::string payload;
  bool retain = true;
};

// <state_prefix>/<meter>/state: JSON with every field of the newest reading and the relay.
std::string state_topic(const Topics& t, std::string_view meter_id);
// <state_prefix>/<meter>/availability: "online" or "offline" from the meter's live connectivity.
std::string availability_topic(const Topics& t, std::string_view meter_id);
// <state_prefix>/<meter>/relay/set: Home Assistant's switch commands ("ON" / "OFF").
std::string relay_set_topic(const Topics& t, std::string_view meter_id);
// <state_prefix>/status: the server's own availability ("online", and "offline" as its last will).
std::string server_status_topic(const Topics& t);
// <discovery_prefix>/status: Home Assistant's birth ("online") and last will.
std::string ha_status_topic(const Topics& t);
// The subscription for every meter's relay/set topic.
std::string relay_set_filter(const Topics& t);
// The meter id of a relay/set topic, or nullopt for any other topic (or an invalid meter id).
std::optional<std::string> meter_of_relay_set(const Topics& t, std::string_view topic);

// One retained config per entity: sensors power, energy, voltage, current, power_factor, frequency under
// <discovery_prefix>/sensor/wattguard_<meter>/<object>/config, and the relay under
// <discovery_prefix>/switch/wattguard_<meter>/relay/config. `sw_version` is wattguard's version.
// REQUIRES: meter.id is a valid meter id (protocol::is_valid_meter_id): it becomes a topic level and node_id.
std::vector<MqttMessage> discovery_messages(const Topics& t, const storage::MeterInfo& meter,
                                            std::string_view sw_version);

// The state payload of a reading: power_w, energy_kwh, energy_export_kwh, voltage_v, current_a, power_factor,
// frequency_hz, apparent_power_va, reactive_power_var, relay ("ON" / "OFF", from the reading's relay flag),
// time_ms, seq.
std::string state_payload(const protocol::Reading& reading);
// "online" for online and stale meters (late, not yet lost), "offline" otherwise.
std::string_view availability_payload(ingest::Connectivity c);

}  // namespace wattguard::homeassistant
