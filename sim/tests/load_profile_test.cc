// Tests of load states, phasor sums and the profile building blocks.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "wattguard/sim/appliances.h"
#include "wattguard/sim/composite_profile.h"
#include "wattguard/sim/constant_profile.h"
#include "wattguard/sim/cyclic_profile.h"
#include "wattguard/sim/meter_simulator.h"
#include "wattguard/sim/step_profile.h"

namespace wattguard::sim {
namespace {

LoadState amps(double irms) {
  LoadState s;
  s.irms_a = irms;
  return s;
}

TEST(LoadPhasors, FromStateKeepsWaveShapeAndDirection) {
  LoadState s;
  s.irms_a = 2.0;
  s.pf = 0.5;  // lagging 60 degrees
  s.harmonics = {{3, 50.0, 180.0}};
  const LoadPhasors p(s);
  EXPECT_NEAR(std::arg(p.at(1)) * 180.0 / M_PI, -60.0, 1e-9);
  // The 3rd moves with the fundamental, three times as far in its own time scale.
  EXPECT_NEAR(std::remainder(std::arg(p.at(3)) * 180.0 / M_PI - (-180.0 + 180.0), 360.0), 0.0, 1e-9);
  EXPECT_NEAR(std::abs(p.at(3)), 1.0, 1e-12);
  EXPECT_NEAR(p.irms(), std::sqrt(5.0), 1e-12);
  s.direction = PowerDirection::kExport;
  const LoadPhasors r(s);
  EXPECT_NEAR(std::abs(r.at(1) + p.at(1)), 0.0, 1e-12);
  EXPECT_NEAR(std::abs(r.at(3) + p.at(3)), 0.0, 1e-12);
  EXPECT_TRUE((p + r).is_zero() || (p + r).irms() < 1e-12);
}

TEST(LoadPhasors, LoadForPower) {
  const LoadState s = load_for_power(1150.0, 0.5);
  EXPECT_NEAR(s.irms_a, 10.0, 1e-12);
  const LoadState e = load_for_power(-2300.0);
  EXPECT_EQ(e.direction, PowerDirection::kExport);
  EXPECT_NEAR(e.irms_a, 10.0, 1e-12);
  EXPECT_EQ(appliances::pv_inverter(3000).direction, PowerDirection::kExport);
  EXPECT_TRUE(appliances::led_lighting(60).leading);
  EXPECT_GE(appliances::led_lighting(60).harmonics.size(), 2u);
}

TEST(Profiles, StepProfileBeforeFirstStepIsZeroAndSorts) {
  const StepProfile p({{5.0, amps(3.0)}, {1.0, amps(1.0)}});
  EXPECT_TRUE(p.segment_at(0.5).load.is_zero());
  EXPECT_EQ(p.segment_at(0.5).end_s, 1.0);
  EXPECT_NEAR(p.segment_at(1.0).load.irms(), 1.0, 1e-12);
  EXPECT_EQ(p.segment_at(1.0).end_s, 5.0);
  EXPECT_NEAR(p.segment_at(7.0).load.irms(), 3.0, 1e-12);
  EXPECT_TRUE(std::isinf(p.segment_at(7.0).end_s));
}

TEST(Profiles, CyclicProfileBoundaries) {
  const CyclicProfile p(amps(8.0), CycleSpec{0.7, 3.0, 0.5});
  EXPECT_TRUE(p.segment_at(0.0).load.is_zero());
  EXPECT_EQ(p.segment_at(0.0).end_s, 0.5);
  EXPECT_NEAR(p.segment_at(0.5).load.irms(), 8.0, 1e-12);
  EXPECT_NEAR(p.segment_at(0.5).end_s, 1.2, 1e-12);
  EXPECT_TRUE(p.segment_at(1.2).load.is_zero());
  EXPECT_NEAR(p.segment_at(1.2).end_s, 3.5, 1e-12);
  // Walking segment to segment always moves forward, for many cycles.
  double t = 0.0;
  for (int k = 0; k < 2001; ++k) {  // the lead-in, then 1,000 on/off pairs
    const double end = p.segment_at(t).end_s;
    ASSERT_GT(end, t);
    t = end;
  }
  EXPECT_NEAR(t, 0.5 + 1000 * 3.0, 1e-6);
}

TEST(Profiles, CyclicProfileCreateNamesTheBadCycleField) {
  const auto on_too_long = CyclicProfile::create(amps(0), CycleSpec{2.0, 1.0, 0.0});
  ASSERT_FALSE(on_too_long.ok());
  EXPECT_EQ(on_too_long.error().field, "on_s");
  EXPECT_EQ(on_too_long.error().value, "2");
  const auto no_period = CyclicProfile::create(amps(0), CycleSpec{0.0, 0.0, 0.0});
  ASSERT_FALSE(no_period.ok());
  EXPECT_EQ(no_period.error().field, "period_s");
  const auto nan_offset = CyclicProfile::create(amps(0), CycleSpec{0.5, 1.0, std::nan("")});
  ASSERT_FALSE(nan_offset.ok());
  EXPECT_EQ(nan_offset.error().field, "offset_s");
  const auto good = CyclicProfile::create(amps(8.0), CycleSpec{0.7, 3.0, 0.5});
  ASSERT_TRUE(good.ok());
  EXPECT_NEAR(good.value()->segment_at(0.5).load.irms(), 8.0, 1e-12);
}

TEST(Profiles, CompositeProfileCreateNamesTheNullPart) {
  const auto made = CompositeProfile::create({std::make_shared<ConstantProfile>(amps(1.0)), nullptr});
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.error().field, "parts[1]");
  EXPECT_EQ(made.error().value, "null");
  const auto good = CompositeProfile::create(
      {std::make_shared<ConstantProfile>(amps(1.0)), std::make_shared<ConstantProfile>(amps(2.0))});
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good.value()->size(), 2u);
  EXPECT_NEAR(good.value()->segment_at(0.0).load.irms(), 3.0, 1e-12);
}

// A composite house from the building blocks: base load + fridge compressor cycling + kettle
// + LED lighting + inverter AC. Active power is linear in the current, so (with a clean
// supply) the composite's energy is the sum of its parts' energies.
TEST(Profiles, CompositeHouseEnergyIsTheSumOfItsParts) {
  std::vector<std::shared_ptr<const LoadProfile>> parts = {
      std::make_shared<ConstantProfile>(appliances::standby_mix(90.0)),
      std::make_shared<CyclicProfile>(appliances::fridge_compressor(130.0), CycleSpec{600.0, 1800.0, 120.0}),
      std::make_shared<StepProfile>(
          std::vector<StepProfile::Step>{{300.0, appliances::resistive(2400.0)}, {480.0, LoadPhasors{}}}),
      std::make_shared<ConstantProfile>(appliances::led_lighting(80.0)),
      std::make_shared<StepProfile>(std::vector<StepProfile::Step>{{1000.0, appliances::inverter_ac(1200.0)},
                                                                   {2500.0, appliances::inverter_ac(500.0)}}),
  };
  const SimConfig config;
  const int64_t end = 3600 * 4000;
  double sum_wh = 0.0;
  for (const auto& part : parts) sum_wh += MeterSimulator(config, part).truth_at(end)->e_import_wh;
  MeterSimulator house(config, std::make_shared<CompositeProfile>(parts));
  EXPECT_NEAR(house.truth_at(end)->e_import_wh, sum_wh, 1e-9);
  // Hand check: 90 + 80 W all hour, fridge 130 W for 20 of 60 min (cycles at 2, 32 min),
  // kettle 2400 W for 3 min, AC 1200 W for 1500 s then 500 W for 1100 s.
  const double expected =
      170.0 + 130.0 * (1200.0 / 3600.0) + 2400.0 * 180.0 / 3600.0 + (1200.0 * 1500.0 + 500.0 * 1100.0) / 3600.0;
  EXPECT_NEAR(sum_wh, expected, 1e-9);
  // Currents do not add as magnitudes: LED (leading) partly cancels the fridge (lagging).
  const LoadSegment s = CompositeProfile(parts).segment_at(200.0);
  const double magnitudes = appliances::standby_mix(90.0).irms_a + appliances::fridge_compressor(130.0).irms_a +
                            appliances::led_lighting(80.0).irms_a;
  EXPECT_LT(s.load.fundamental_rms(), magnitudes - 0.05);
}

}  // namespace
}  // namespace wattguard::sim
