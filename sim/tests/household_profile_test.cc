// Tests of the seeded household profile generator: reproducible, varied, realistic shape.
#include "wattguard/sim/household_profile.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <thread>

#include "wattguard/sim/meter_simulator.h"

namespace wattguard::sim {
namespace {

constexpr double kHour = 3600.0;

// Mean active power over [from_h, to_h) of day 0 of a house, from the truth energy.
double mean_import_w(const MeterSimulator& sim, double from_h, double to_h) {
  const auto rate = static_cast<double>(sim.config().sample_rate_hz);
  const auto a = sim.truth_at(static_cast<int64_t>(from_h * kHour * rate));
  const auto b = sim.truth_at(static_cast<int64_t>(to_h * kHour * rate));
  return (b->e_import_wh - a->e_import_wh) / (to_h - from_h);
}

TEST(HouseholdProfile, SameSeedSameDayOtherSeedDiffers) {
  HouseholdProfile a(42), b(42), c(43);
  const auto da = a.day_intervals(3), db = b.day_intervals(3), dc = c.day_intervals(3);
  ASSERT_EQ(da.size(), db.size());
  for (size_t k = 0; k < da.size(); ++k) {
    EXPECT_EQ(da[k].start_s, db[k].start_s);
    EXPECT_EQ(da[k].end_s, db[k].end_s);
    EXPECT_EQ(da[k].appliance, db[k].appliance);
  }
  EXPECT_EQ(a.describe(), b.describe());
  EXPECT_NE(a.describe(), c.describe());
  // Days of one house differ too.
  const auto d4 = a.day_intervals(4);
  EXPECT_TRUE(d4.size() != da.size() || d4[1].start_s != da[1].start_s);
  // Asking again after other days (cache eviction) gives the same day.
  a.day_intervals(10);
  a.day_intervals(11);
  EXPECT_EQ(a.day_intervals(3).size(), da.size());
}

TEST(HouseholdProfile, DailyEnergyAndPeaksAreRealistic) {
  SimConfig config;
  double evening = 0, night = 0, morning = 0;
  std::set<long> daily_kwh_rounded;
  int exporters = 0;
  const int houses = 30;
  for (uint64_t seed = 1; seed <= static_cast<uint64_t>(houses); ++seed) {
    auto house = std::make_shared<HouseholdProfile>(seed);
    MeterSimulator sim(config, house);
    const auto day = sim.truth_at(static_cast<int64_t>(24 * kHour * config.sample_rate_hz));
    const double kwh = day->e_import_wh / 1000.0;
    EXPECT_GT(kwh, 2.0) << house->describe();
    EXPECT_LT(kwh, 45.0) << house->describe();
    daily_kwh_rounded.insert(static_cast<long>(kwh * 10));
    if (day->e_export_wh > 100.0) ++exporters;
    if (house->traits().solar_peak_w > 0) {
      EXPECT_GT(day->e_export_wh + day->e_import_wh, 0.0);
    }
    evening += mean_import_w(sim, 18.0, 21.0);
    morning += mean_import_w(sim, 6.5, 8.5);
    night += mean_import_w(sim, 3.0, 5.0);
  }
  EXPECT_GT(evening, 2.5 * night);
  EXPECT_GT(morning, 1.3 * night);
  EXPECT_GT(daily_kwh_rounded.size(), 25u);  // varied
  EXPECT_GE(exporters, 3);                   // some houses have PV exporting at midday
  EXPECT_LT(exporters, 20);
}

TEST(HouseholdProfile, StartTimeOfDayShiftsTheProfile) {
  HouseholdOptions options;
  options.start_time_of_day_s = 18.0 * kHour;
  HouseholdProfile shifted(5, options), plain(5);
  for (double t : {0.0, 100.0, 3000.0, 7.0 * kHour}) {
    const LoadSegment a = shifted.segment_at(t);
    const LoadSegment b = plain.segment_at(t + 18.0 * kHour);
    EXPECT_NEAR(a.load.irms(), b.load.irms(), 1e-9) << t;
    EXPECT_NEAR(a.end_s + 18.0 * kHour, b.end_s, 1e-6) << t;
  }
  // Past midnight the next day's profile applies.
  EXPECT_NEAR(shifted.segment_at(7.0 * kHour).load.irms(), HouseholdProfile(5).segment_at(kHour + 86400.0).load.irms(),
              1e-9);
}

TEST(HouseholdProfile, SegmentsAlwaysMoveForwardAndLoadsStayWithinImax) {
  HouseholdProfile house(77);
  double t = 0.0;
  int segments = 0;
  double max_irms = 0;
  while (t < 2 * 86400.0) {
    const LoadSegment seg = house.segment_at(t);
    ASSERT_GT(seg.end_s, t);
    max_irms = std::max(max_irms, seg.load.irms());
    t = seg.end_s;
    ++segments;
  }
  EXPECT_GT(segments, 100);
  EXPECT_LT(max_irms, 60.0);
}

TEST(HouseholdProfile, SharedAcrossThreads) {
  auto house = std::make_shared<HouseholdProfile>(9);
  double sums[2] = {0, 0};
  auto work = [&](int k) {
    for (int d = 0; d < 5; ++d) {
      for (double t = 0; t < 86400.0; t += 600.0) sums[k] += house->segment_at(d * 86400.0 + t).load.irms();
    }
  };
  std::thread a(work, 0), b(work, 1);
  a.join();
  b.join();
  EXPECT_DOUBLE_EQ(sums[0], sums[1]);
}

}  // namespace
}  // namespace wattguard::sim
