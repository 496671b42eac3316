// Virtual wall-clock time for a fleet: real time, or faster (`--speed`) so tests take seconds. The real
// wall clock (where a virtual meter checks a command's expiry) is wattguard::system_now_ms().
#pragma once

#include <chrono>
#include <cstdint>

namespace wattguard::fleet {

// now = start + (steady time since construction) x speed, in Unix milliseconds.
// Thread-safe (immutable).
class VirtualClock {
 public:
  VirtualClock(int64_t start_unix_ms, double speed)
      : start_unix_ms_(start_unix_ms), speed_(speed), origin_(std::chrono::steady_clock::now()) {}

  int64_t now_ms() const {
    const auto real = std::chrono::steady_clock::now() - origin_;
    const double ms = std::chrono::duration<double, std::milli>(real).count() * speed_;
    return start_unix_ms_ + static_cast<int64_t>(ms);
  }
  double speed() const { return speed_; }
  int64_t start_ms() const { return start_unix_ms_; }

 private:
  int64_t start_unix_ms_;
  double speed_;
  std::chrono::steady_clock::time_point origin_;
};

}  // namespace wattguard::fleet
