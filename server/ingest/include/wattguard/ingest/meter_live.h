// The live state of one meter as the ingest service knows it (online/stale/offline, newest reading).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "wattguard/protocol/messages.h"

namespace wattguard::ingest {

// "unknown" (never heard from), "online", "stale" (silent for over 2 periods + 1 s: late, not yet offline),
// "offline" (missed periods, or the meter's own offline status). Rules in server/ingest/liveness.h.
enum class Connectivity : uint8_t { kUnknown, kOnline, kOffline, kStale };
const char* connectivity_name(Connectivity c);

struct MeterLive {
  std::string meter_id;
  Connectivity connectivity = Connectivity::kUnknown;
  int64_t since_ms = 0;      // when connectivity last changed (0 = never seen)
  int64_t last_seen_ms = 0;  // when the server last received anything from this meter
  // Why it is offline: "status" (retained status / last will) or "missed_periods" (timer); empty when online.
  std::string offline_reason;
  uint32_t period_s = 0;                          // report period announced by the meter (0 = unknown: default used)
  std::optional<protocol::Reading> last_reading;  // newest by time; never a made-up zero reading
  protocol::RelayState relay = protocol::RelayState::kUnknown;
};

}  // namespace wattguard::ingest
