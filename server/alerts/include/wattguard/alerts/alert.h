// An alert: one detection (meter tamper, offline, energy balance, pattern anomaly...) with its evidence.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wattguard::alerts {

// What a detector hands to AlertService::raise.
//   kind: a meter tamper kind as the meter's event names it ("reverse_flow", "neutral_mismatch",
//         "current_without_voltage", "magnetic", "cover_open", "register_rollback", "power_up"),
//         or a server detection: "offline", "energy_balance", "pattern_anomaly", "theft_suspect".
//   meter_id / transformer_id: at least one should be set; area: the meter reader's patch (used to
//         pick recipients and the prevention policy); empty = the default area.
//   dedup_key: while an alert with this key is active (not cleared, not closed), raising again
//         updates its score, evidence and updated_ms instead of creating a new alert. Empty = a
//         key is made from kind + meter + transformer.
struct NewAlert {
  std::string kind;
  std::string meter_id;
  std::string transformer_id;
  std::string area;
  double score = 0;                                   // higher = more certain / more serious
  nlohmann::json evidence = nlohmann::json::array();  // anything JSON; shown as-is in the API
  int64_t raised_ms = 0;                              // detection time, Unix ms; 0 = now
  std::string dedup_key;
  // An occurrence of something that happens in single points (a register rollback, a power-up): raised again
  // while the alert is active, its evidence items are appended to the alert's (numbered "occurrence" 1, 2...,
  // the last kMaxOccurrences kept) instead of replacing them, so repeats add to one alert, not make many.
  bool occurrence = false;
};

inline constexpr std::size_t kMaxOccurrences = 20;

// The kinds a consumer sees of alerts on their own meter: those about their supply. Tamper, pattern, balance
// and suspect alerts are an investigation's; showing them would tell a thief that they are suspected.
const std::vector<std::string>& consumer_visible_kinds();
bool is_consumer_visible(std::string_view kind);

enum class AlertState : uint8_t { kOpen, kAcknowledged, kClosed };
const char* alert_state_name(AlertState state);  // "open", "acknowledged", "closed"
std::optional<AlertState> alert_state_from_name(std::string_view name);

// One notification of one alert to one recipient through one notifier (a row of the outbox).
enum class DeliveryState : uint8_t { kPending, kDelivered, kUndelivered };
const char* delivery_state_name(DeliveryState state);  // "pending", "delivered", "undelivered"

struct Delivery {
  int64_t id = 0;
  int64_t alert_id = 0;
  std::string notifier;   // "webhook" or "sms"
  std::string recipient;  // the reader's name, e.g. "Asha"
  std::string address;    // webhook URL or phone number
  DeliveryState state = DeliveryState::kPending;
  int attempts = 0;
  int64_t next_attempt_ms = 0;
  std::string last_error;
  int64_t delivered_ms = 0;
};

// Something done about an alert: acknowledge, close, a policy disconnect and its outcome.
struct AlertAction {
  int64_t time_ms = 0;
  std::string actor;   // user name, "token:<id>", "policy:<area>" or "system"
  std::string action;  // "acknowledge", "close", "clear", "disconnect", "disconnect_result"
  std::string detail;  // note, command id and state...
};

struct Alert {
  int64_t id = 0;
  std::string kind;
  std::string meter_id;
  std::string transformer_id;
  std::string area;
  double score = 0;
  nlohmann::json evidence = nlohmann::json::array();
  int64_t raised_ms = 0;
  int64_t updated_ms = 0;  // last raise that updated it, or last state change
  int64_t cleared_ms = 0;  // 0 while the condition lasts
  AlertState state = AlertState::kOpen;
  std::string dedup_key;
  std::vector<Delivery> deliveries;
  std::vector<AlertAction> actions;
};

// Filter for AlertService::list; empty strings match everything.
struct AlertQuery {
  std::string meter_id;
  std::string transformer_id;
  std::string area;
  std::optional<AlertState> state;  // nullopt = every state
  // When set, only alerts of these meters (a consumer's own); alerts without a meter are excluded.
  std::optional<std::vector<std::string>> only_meters;
  // When set, only alerts of these kinds (what a consumer may see, consumer_visible_kinds()).
  std::optional<std::vector<std::string>> only_kinds;
  std::size_t limit = 100;  // newest first
};

}  // namespace wattguard::alerts
