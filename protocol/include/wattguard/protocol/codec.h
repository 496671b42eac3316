// JSON encode/decode of the protocol messages; decode validates everything and never throws.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "wattguard/base/expected.h"
#include "wattguard/protocol/messages.h"
#include "wattguard/protocol/rejection.h"

namespace wattguard::protocol {

inline constexpr std::size_t kMaxPayloadBytes = 4096;         // larger payloads: payload_too_large
inline constexpr double kMaxVrms = 1000.0;                    // above: voltage_too_high
inline constexpr double kMaxIrms = 1000.0;                    // above: out_of_range
inline constexpr double kMaxPowerW = 1'000'000.0;             // |p_w|, s_va, |q_var| above: out_of_range
inline constexpr double kMaxFreqHz = 100.0;                   // above: out_of_range
inline constexpr double kMaxRegisterWh = 1e15;                // registers above: out_of_range
inline constexpr int64_t kMaxFutureMs = 86'400'000;           // time more than a day ahead: time_in_future
inline constexpr int64_t kMinTimeMs = 946'684'800'000;        // 2000-01-01: earlier times are out_of_range
inline constexpr uint64_t kMaxSeq = (uint64_t{1} << 53) - 1;  // exact in a JSON double

// What the decoder checks a payload against.
struct DecodeContext {
  int64_t now_ms = 0;               // receiver's clock, Unix ms; times > now_ms + kMaxFutureMs are refused
  std::string_view topic_meter_id;  // the meter id from the topic; empty = do not check
};

// Compact JSON (one line, no spaces), fields as documented in docs/protocol.md.
std::string encode(const Reading& reading);
std::string encode(const StatusMessage& status);
std::string encode(const MeterEvent& event);
std::string encode(const Command& command);
std::string encode(const CommandAck& ack);

// Each decoder: size check, JSON parse, required fields and types, finiteness, ranges, meter id
// syntax and equality with ctx.topic_meter_id. Unknown extra fields are ignored (forward
// compatible). The first problem found is returned (an Error made by rejection_error: rejection_of gives
// the reason back); the payload is never partially accepted.
Expected<Reading> decode_reading(std::string_view payload, const DecodeContext& ctx);
Expected<StatusMessage> decode_status(std::string_view payload, const DecodeContext& ctx);
Expected<MeterEvent> decode_event(std::string_view payload, const DecodeContext& ctx);
Expected<Command> decode_command(std::string_view payload, const DecodeContext& ctx);
Expected<CommandAck> decode_ack(std::string_view payload, const DecodeContext& ctx);

// The checks decode_reading applies after parsing, for readings built in memory (storage uses
// this to refuse a bad reading handed to it directly). ctx.now_ms == 0 skips the future check.
Expected<void> validate(const Reading& reading, const DecodeContext& ctx);

}  // namespace wattguard::protocol
