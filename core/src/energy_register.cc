#include "wattguard/core/energy_register.h"

namespace wattguard::core {

void EnergyRegister::add_uwh(double uwh) {
  if (!(uwh > 0.0)) return;  // also refuses NaN
  const double total = carry_uwh_ + uwh;
  const auto whole = static_cast<uint64_t>(total);
  whole_uwh_ += whole;
  carry_uwh_ = total - static_cast<double>(whole);
}

}  // namespace wattguard::core
