// The five message types carried over MQTT (see docs/protocol.md for the JSON of each).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wattguard::protocol {

// Bits of Reading::flags. Bits 0..4 equal core::ReadingFlags (metrology state of the period);
// bit 8 and up are protocol/meter state; bits 16..23 are tamper conditions active during the period.
enum ReadingFlag : uint32_t {
  kFlagNoVoltage = 1u << 0,
  kFlagVoltageClipped = 1u << 1,
  kFlagCurrentClipped = 1u << 2,
  kFlagLoadPresent = 1u << 3,
  kFlagSettling = 1u << 4,
  kFlagRelayOpen = 1u << 8,       // the meter's load relay is open (disconnected)
  kFlagReplayed = 1u << 9,        // sent late from the store-and-forward queue
  kFlagClockUnsynced = 1u << 10,  // the meter's clock was not NTP-synchronised when it stamped `time_ms`
  kFlagImported = 1u << 11,       // written by the head-end from an imported file, not sent by the meter
  kFlagTamperReverseFlow = 1u << 16,
  kFlagTamperNeutralMismatch = 1u << 17,
  kFlagTamperCurrentWithoutVoltage = 1u << 18,
  kFlagTamperMagnetic = 1u << 19,
  kFlagTamperCoverOpen = 1u << 20,
  kFlagTamperRegisterRollback = 1u << 21,
};
inline constexpr uint32_t kTamperFlagsMask = 0x00FF0000u;

// One report period of one meter (topic .../reading).
struct Reading {
  std::string meter_id;
  uint64_t seq = 0;          // per meter, +1 per report, persists across meter reboots; (meter, seq) is unique
  int64_t time_ms = 0;       // end of the period, Unix milliseconds (UTC)
  double vrms = 0.0;         // V, 0..1000
  double irms = 0.0;         // A, >= 0
  double p_w = 0.0;          // real power, + import, - export
  double s_va = 0.0;         // apparent power, >= 0
  double q_var = 0.0;        // reactive power, + inductive
  double pf = 1.0;           // -1..1, signed by reactive sense (see core::PeriodReading::pf)
  double freq_hz = 0.0;      // 0 when there was no voltage, else 0..100
  double e_import_wh = 0.0;  // cumulative import register, Wh, >= 0
  double e_export_wh = 0.0;  // cumulative export register, Wh, >= 0
  uint32_t flags = 0;        // ReadingFlag bits

  bool operator==(const Reading&) const = default;
};

// Retained on .../status. "online" is published by the meter after connecting; "offline" by the
// broker from the meter's last will (so it has no time), or by the meter on a clean shutdown.
struct StatusMessage {
  std::string meter_id;
  bool online = false;
  int64_t time_ms = 0;    // 0 when absent (last will)
  uint32_t period_s = 0;  // the meter's report period; 0 when absent
  std::string firmware;   // optional, free text up to 64 chars

  bool operator==(const StatusMessage&) const = default;
};

// Tamper and power events. Meter-raised kinds come from core/ (issue 6); server-raised ones are
// produced by the head-end and never accepted from a meter's payload... except register_rollback,
// which both a meter and the server may raise.
enum class EventKind : uint8_t {
  kReverseFlow,            // "reverse_flow": energy flowing out of a consumer-only meter
  kNeutralMismatch,        // "neutral_mismatch": phase/neutral current mismatch (bypass, earth return)
  kCurrentWithoutVoltage,  // "current_without_voltage": voltage link removed
  kMagnetic,               // "magnetic": magnetic interference input
  kCoverOpen,              // "cover_open": cover switch
  kRegisterRollback,       // "register_rollback": an energy register went backwards or was reset
  kPowerUp,                // "power_up": meter powered up (details: outage start/duration if known)
  kOutage,                 // "outage": mains lost (onset) / restored (clear)
  kOverVoltage,            // "over_voltage"
  kUnderVoltage,           // "under_voltage"
  kRelayOpened,            // "relay_opened": load disconnected (by command or locally)
  kRelayClosed,            // "relay_closed": load reconnected
  // Server-raised:
  kCommLoss,  // "comm_loss": offline (status / last will) or 3 missed periods (server only)
};
inline constexpr std::size_t kEventKindCount = 13;

std::string_view event_kind_name(EventKind kind);
std::optional<EventKind> event_kind_from_name(std::string_view name);
// True for kinds only the server may raise (a meter sending them is refused as unknown_value).
bool is_server_only(EventKind kind);

// Tamper conditions have an onset and a clear; some events are single points.
enum class EventEdge : uint8_t { kOnset, kClear, kInstant };  // "onset", "clear", "instant"
std::string_view event_edge_name(EventEdge edge);
std::optional<EventEdge> event_edge_from_name(std::string_view name);

// Topic .../event.
struct MeterEvent {
  std::string meter_id;
  EventKind kind = EventKind::kPowerUp;
  EventEdge edge = EventEdge::kInstant;
  int64_t time_ms = 0;  // when the condition started (onset), ended (clear) or happened (instant)
  std::string details;  // free text up to 512 chars (e.g. "neutral 4.1 A vs phase 0.2 A")

  bool operator==(const MeterEvent&) const = default;
};

// Server -> meter commands (topic .../cmd).
enum class CommandKind : uint8_t {
  kRelayOff,   // "relay_off": open the load relay (disconnect the consumer)
  kRelayOn,    // "relay_on": close it again
  kSetPeriod,  // "set_period": change the report period; needs period_s in 1..3600
  kPing,       // "ping": ack only
};
std::string_view command_kind_name(CommandKind kind);
std::optional<CommandKind> command_kind_from_name(std::string_view name);

inline constexpr std::size_t kMaxCommandIdLength = 64;  // [A-Za-z0-9_-]{1,64}, like meter ids
inline constexpr std::size_t kCommandMacLength = 64;    // HMAC-SHA256 in hex

struct Command {
  std::string id;        // unique per command, chosen by the server; echoed in the ack
  std::string meter_id;  // target meter (also in the topic)
  CommandKind kind = CommandKind::kPing;
  std::optional<uint32_t> period_s;  // set_period only
  int64_t time_ms = 0;               // when the server issued it
  int64_t expires_ms = 0;            // 0 = no expiry; a meter ignores (acks ok=false) a command past it
  // The signature (command_signature.h): a number larger than any the meter accepted before, and the
  // HMAC-SHA256 of the command with the meter's key, 64 lowercase hex digits. Empty = unsigned.
  uint64_t nonce = 0;
  std::string mac;

  bool operator==(const Command&) const = default;
};

enum class RelayState : uint8_t { kUnknown, kOn, kOff };  // "unknown", "on" (closed), "off" (open)
std::string_view relay_state_name(RelayState state);
std::optional<RelayState> relay_state_from_name(std::string_view name);

// Meter -> server (topic .../cmd/ack).
struct CommandAck {
  std::string id;  // the command's id
  std::string meter_id;
  bool ok = false;
  std::string message;                      // why it failed, or free text; up to 256 chars
  RelayState relay = RelayState::kUnknown;  // relay state after executing the command
  uint32_t period_s = 0;                    // report period after executing; 0 when absent
  int64_t time_ms = 0;

  bool operator==(const CommandAck&) const = default;
};

}  // namespace wattguard::protocol
