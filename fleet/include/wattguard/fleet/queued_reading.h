// One reading as a meter keeps it until the broker has it: compact, fixed size, also the journal's record.
#pragma once

#include <cstdint>
#include <string_view>

#include "wattguard/protocol/messages.h"

namespace wattguard::fleet {

// 64 bytes. The core measures in float; registers stay integer micro-watt-hours.
struct QueuedReading {
  uint64_t seq = 0;
  int64_t time_ms = 0;  // end of the period, Unix ms (virtual clock)
  float vrms = 0, irms = 0, p_w = 0, s_va = 0, q_var = 0, pf = 1, freq_hz = 0;
  uint32_t flags = 0;  // protocol::ReadingFlag bits (kFlagReplayed is added when sent late)
  uint64_t import_uwh = 0;
  uint64_t export_uwh = 0;
  bool operator==(const QueuedReading&) const = default;
};
static_assert(sizeof(QueuedReading) == 64);

// The telemetry message for it; `replayed` sets protocol::kFlagReplayed.
protocol::Reading to_protocol(std::string_view meter_id, const QueuedReading& r, bool replayed);

}  // namespace wattguard::fleet
