// MQTT topic scheme `wattguard/v1/<meter-id>/{reading,status,event,cmd,cmd/ack}` and meter-id rules.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace wattguard::protocol {

inline constexpr std::string_view kTopicRoot = "wattguard/v1";
inline constexpr std::size_t kMaxMeterIdLength = 64;

// The last part(s) of a topic after `wattguard/v1/<meter-id>/`.
enum class TopicKind {
  kReading,  // meter -> server, QoS 1, not retained
  kStatus,   // meter -> server, QoS 1, retained; "offline" also comes from the meter's last will
  kEvent,    // meter -> server, QoS 1 (tamper and power events)
  kCmd,      // server -> meter, QoS 1
  kCmdAck,   // meter -> server, QoS 1, topic suffix "cmd/ack"
};

// "reading", "status", "event", "cmd", "cmd/ack".
std::string_view topic_suffix(TopicKind kind);

// A meter id is 1..64 characters of [A-Za-z0-9_-]. It doubles as the meter's MQTT user name,
// so it can never contain MQTT wildcards (+ #) or separators (/).
bool is_valid_meter_id(std::string_view meter_id);

// "wattguard/v1/<meter_id>/<suffix>". REQUIRES: is_valid_meter_id(meter_id).
std::string make_topic(std::string_view meter_id, TopicKind kind);

// "wattguard/v1/+/<suffix>": what the server subscribes to.
std::string wildcard_topic(TopicKind kind);

// "$share/<group>/wattguard/v1/+/<suffix>": an MQTT 5 / Mosquitto shared subscription, so several
// servers in the same group split the messages between them. REQUIRES: group has no '/', '+', '#'.
std::string shared_subscription(std::string_view group, TopicKind kind);

struct ParsedTopic {
  std::string meter_id;
  TopicKind kind;
};

// Splits a topic into meter id and kind; nullopt for anything that is not exactly one of the five
// forms with a valid meter id (wrong root, extra levels, bad id, unknown suffix).
std::optional<ParsedTopic> parse_topic(std::string_view topic);

}  // namespace wattguard::protocol
