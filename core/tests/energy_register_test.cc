#include "wattguard/core/energy_register.h"

#include <gtest/gtest.h>

namespace wattguard::core {
namespace {

TEST(EnergyRegister, CarriesFractionsSoSmallStepsAddUp) {
  EnergyRegister r;
  // One 20 ms cycle at 20 mA and 230 V is 25.6 uWh; ten days of them must add up exactly.
  const double per_cycle_uwh = 230.0 * 0.02 * 0.02 / 3600.0 * 1e6;
  const uint64_t cycles = 50ull * 3600 * 24 * 10;
  for (uint64_t k = 0; k < cycles; k += 1000) {
    for (int j = 0; j < 1000; ++j) r.add_uwh(per_cycle_uwh);
  }
  const double expected = per_cycle_uwh * static_cast<double>(cycles);
  EXPECT_NEAR(static_cast<double>(r.uwh()), expected, 1.0);  // within 1 uWh after 43 million steps
}

TEST(EnergyRegister, KeepsCountingWhereAFloatWouldStop) {
  EnergyRegister r;
  r.restore(40'000'000'000'000ull);  // 40 MWh: a float in Wh would have 2 Wh resolution here
  for (int k = 0; k < 1000; ++k) r.add_uwh(0.5);
  EXPECT_EQ(r.uwh(), 40'000'000'000'500ull);
}

TEST(EnergyRegister, IgnoresNegativeAndNaN) {
  EnergyRegister r;
  r.add_uwh(-5.0);
  r.add_uwh(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(r.uwh(), 0u);
  r.add_uwh(3.25);
  EXPECT_EQ(r.uwh(), 3u);
  EXPECT_DOUBLE_EQ(r.wh(), 3e-6);
}

}  // namespace
}  // namespace wattguard::core
