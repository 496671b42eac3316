// The system clock behind wattguard::Clock.
#include "wattguard/base/clock.h"

#include <chrono>
#include <utility>

namespace wattguard {

int64_t system_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

Clock or_system_clock(Clock clock) { return clock ? std::move(clock) : Clock(&system_now_ms); }

}  // namespace wattguard
