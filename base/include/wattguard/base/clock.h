// The host's one time source: Unix milliseconds from a replaceable function, so tests and the demo can run
// the server, ingest and analysis on a fixed or moving time without a class hierarchy.
#pragma once

#include <cstdint>
#include <functional>

namespace wattguard {

// Returns the current time in milliseconds since 1970-01-01 UTC. Must be callable from any thread.
using Clock = std::function<int64_t()>;

// The system's real-time clock (CLOCK_REALTIME), in Unix milliseconds. Thread-safe.
int64_t system_now_ms();

// `clock` when set, else the system clock: for options structs whose clock defaults to "now".
Clock or_system_clock(Clock clock);

}  // namespace wattguard
