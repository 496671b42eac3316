// Building and splitting wattguard MQTT topics.
#include "wattguard/protocol/topics.h"

#include <array>

namespace wattguard::protocol {
namespace {

constexpr std::array<std::pair<TopicKind, std::string_view>, 5> kSuffixes = {{
    {TopicKind::kReading, "reading"},
    {TopicKind::kStatus, "status"},
    {TopicKind::kEvent, "event"},
    {TopicKind::kCmd, "cmd"},
    {TopicKind::kCmdAck, "cmd/ack"},
}};

bool is_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

}  // namespace

std::string_view topic_suffix(TopicKind kind) {
  for (const auto& [k, suffix] : kSuffixes) {
    if (k == kind) return suffix;
  }
  return "reading";  // unreachable for valid enum values
}

bool is_valid_meter_id(std::string_view meter_id) {
  if (meter_id.empty() || meter_id.size() > kMaxMeterIdLength) return false;
  for (char c : meter_id) {
    if (!is_id_char(c)) return false;
  }
  return true;
}

std::string make_topic(std::string_view meter_id, TopicKind kind) {
  std::string topic;
  topic.reserve(kTopicRoot.size() + meter_id.size() + 10);
  topic.append(kTopicRoot).append("/").append(meter_id).append("/").append(topic_suffix(kind));
  return topic;
}

std::string wildcard_topic(TopicKind kind) { return make_topic("+", kind); }

std::string shared_subscription(std::string_view group, TopicKind kind) {
  std::string topic = "$share/";
  topic.append(group).append("/").append(wildcard_topic(kind));
  return topic;
}

std::optional<ParsedTopic> parse_topic(std::string_view topic) {
  const std::string_view root = kTopicRoot;
  if (topic.size() <= root.size() + 1 || topic.substr(0, root.size()) != root || topic[root.size()] != '/') {
    return std::nullopt;
  }
  std::string_view rest = topic.substr(root.size() + 1);
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view meter_id = rest.substr(0, slash);
  const std::string_view suffix = rest.substr(slash + 1);
  if (!is_valid_meter_id(meter_id)) return std::nullopt;
  for (const auto& [kind, s] : kSuffixes) {
    if (suffix == s) return ParsedTopic{std::string(meter_id), kind};
  }
  return std::nullopt;
}

}  // namespace wattguard::protocol
