// A cumulative energy register in integer micro-watt-hours with a sub-unit carry, so that
// decades of accumulation in small steps lose nothing (a float would stop counting).
#pragma once

#include <cstdint>

namespace wattguard::core {

class EnergyRegister {
 public:
  // Adds a non-negative amount of energy in micro-watt-hours; the fraction below 1 uWh is
  // carried to the next call.
  void add_uwh(double uwh);
  void restore(uint64_t uwh) {
    whole_uwh_ = uwh;
    carry_uwh_ = 0;
  }
  uint64_t uwh() const { return whole_uwh_; }
  double wh() const { return static_cast<double>(whole_uwh_) * 1e-6; }

 private:
  uint64_t whole_uwh_ = 0;
  double carry_uwh_ = 0;  // 0 <= carry < 1
};

}  // namespace wattguard::core
