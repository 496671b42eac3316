// Tests of the forecasts (forecast.h): known weekly shapes come back within tolerance, the p10-p90 band covers
// about 80 % of synthetic noise, too little history is refused with its reason, gaps are tolerated, nothing
// at or after the origin is read, and totals agree with the per-slot forecasts.
#include "wattguard/analytics/forecast.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "wattguard/analytics/forecast_history.h"
#include "wattguard/analytics/forecast_session.h"
#include "wattguard/analytics/readings_csv.h"

namespace wattguard::analytics {
namespace {

constexpr int64_t kDay = 86400;
constexpr int64_t kSlot = 1800;
constexpr int64_t kStart = 1'704'067'200;  // 2024-01-01T00:00:00Z, a Monday
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The noise-free use of half-hour k after kStart: a daily shape with a morning and an evening peak, 40 % more
// at weekends. Local time is UTC here.
double weekly_shape(int64_t k) {
  const int64_t slot = k % 48;
  const int64_t weekday = (k / 48) % 7;  // 0 Monday
  const double hour = static_cast<double>(slot) / 2.0;
  const double daily =
      0.15 + 0.35 * std::exp(-std::pow(hour - 7.5, 2) / 2.0) + 0.6 * std::exp(-std::pow(hour - 19.0, 2) / 4.0);
  return daily * (weekday >= 5 ? 1.4 : 1.0);
}

// `days` of weekly_shape times (1 + uniform noise in +-noise).
HalfHourHistory synthetic(int days, double noise, uint32_t seed = 7) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-noise, noise);
  HalfHourHistory h;
  h.start_s = kStart;
  for (int64_t k = 0; k < int64_t{days} * 48; ++k) h.kwh.push_back(weekly_shape(k) * (1.0 + u(rng)));
  return h;
}

TEST(Forecast, AWeeklyShapeWithNoiseIsForecastWithinTolerance) {
  const HalfHourHistory h = synthetic(56, 0.2);
  // Tuesday and Wednesday of the last week, from the data before them.
  auto f = forecast_intervals(h, kStart + 50 * kDay, 96);
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  ASSERT_EQ(f->p50.size(), 96u);
  double abs_error = 0, total = 0;
  for (size_t i = 0; i < 96; ++i) {
    const double truth = weekly_shape(50 * 48 + static_cast<int64_t>(i));
    abs_error += std::abs(f->p50[i] - truth);
    total += truth;
  }
  EXPECT_LT(abs_error / total, 0.10);
  // The evening peak is forecast at the evening, not smeared over the day.
  EXPECT_GT(f->p50[38], 3 * f->p50[4]);
}

TEST(Forecast, AWeekAheadKeepsTheWeekendAboveTheWeekdays) {
  // The weights were learnt on real homes, whose weekends differ little from their weekdays: a synthetic
  // 40 % weekend rise comes back shrunk towards the daily shape, but clearly there.
  const HalfHourHistory h = synthetic(56, 0.1);
  auto f = forecast_intervals(h, kStart + 49 * kDay, 7 * 48);  // Monday to Sunday, from the data before
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  double weekday = 0, weekend = 0;
  for (size_t i = 0; i < 7 * 48; ++i) (i >= 5 * 48 ? weekend : weekday) += f->p50[i];
  const double ratio = weekend / 2 / (weekday / 5);
  EXPECT_GT(ratio, 1.12);
  EXPECT_LT(ratio, 1.45);
}

TEST(Forecast, QuantilesAreOrderedNonNegativeAndAsLongAsTheHorizon) {
  const HalfHourHistory h = synthetic(35, 0.6);
  const int64_t at = kStart + 30 * kDay + 5 * 3600 + 17 * 60;  // 05:17 rounds down to 05:00
  auto f = forecast_intervals(h, at, 13);
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  EXPECT_EQ(f->at_s, kStart + 30 * kDay + 5 * 3600);
  EXPECT_EQ(f->step_s, 1800);
  ASSERT_EQ(f->p10.size(), 13u);
  ASSERT_EQ(f->p90.size(), 13u);
  for (size_t i = 0; i < 13; ++i) {
    EXPECT_GE(f->p10[i], 0.0);
    EXPECT_LE(f->p10[i], f->p50[i]);
    EXPECT_LE(f->p50[i], f->p90[i]);
    EXPECT_LT(f->p10[i], f->p90[i]) << "noise this large must give a band, slot " << i;
  }
}

TEST(Forecast, TheP10P90BandCoversAboutEightyPercentOfStationaryNoise) {
  // Flat use with independent noise: the band learnt from the recent residuals should hold ~80 % of new values.
  std::mt19937 rng(11);
  std::normal_distribution<double> n(1.0, 0.25);
  HalfHourHistory h;
  h.start_s = kStart;
  for (int k = 0; k < 90 * 48; ++k) h.kwh.push_back(std::max(0.0, n(rng)));
  int inside = 0, count = 0;
  for (int day = 60; day < 90; ++day) {
    const HalfHourHistory& past = h;
    auto f = forecast_intervals(past, kStart + day * kDay, 48);
    ASSERT_TRUE(f.ok()) << f.error().to_string();
    for (size_t i = 0; i < 48; ++i) {
      const double actual = h.kwh[static_cast<size_t>(day * 48) + i];
      inside += actual >= f->p10[i] && actual <= f->p90[i];
      ++count;
    }
  }
  const double coverage = static_cast<double>(inside) / count;
  EXPECT_GT(coverage, 0.72);
  EXPECT_LT(coverage, 0.88);
}

TEST(Forecast, TooLittleHistoryIsRefusedNamingTheDaysThereAndNeeded) {
  const HalfHourHistory h = synthetic(10, 0.1);
  auto f = forecast_intervals(h, kStart + 10 * kDay, 48);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(f.error().reason, "insufficient_history");
  EXPECT_NE(f.error().message.find("only 10.0 days"), std::string::npos) << f.error().message;
  EXPECT_NE(f.error().message.find("at least 14"), std::string::npos) << f.error().message;
  auto total = forecast_energy_until(h, kStart + 10 * kDay, kStart + 20 * kDay);
  ASSERT_FALSE(total.ok());
  EXPECT_EQ(total.error().reason, "insufficient_history");
  // A moment before the history starts has none at all.
  EXPECT_FALSE(forecast_intervals(synthetic(60, 0.1), kStart - kDay, 48).ok());
}

TEST(Forecast, GapsOfMissingReadingsAreTolerated) {
  HalfHourHistory h = synthetic(56, 0.1);
  std::mt19937 rng(3);
  for (double& v : h.kwh) {
    if (rng() % 5 == 0) v = kNaN;  // a fifth of the half-hours lost at random
  }
  for (int k = 50 * 48; k < 52 * 48; ++k) h.kwh[static_cast<size_t>(k)] = kNaN;  // and two whole days
  auto f = forecast_intervals(h, kStart + 56 * kDay, 48);
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  double abs_error = 0, total = 0;
  for (size_t i = 0; i < 48; ++i) {
    ASSERT_FALSE(std::isnan(f->p50[i]));
    abs_error += std::abs(f->p50[i] - weekly_shape(56 * 48 + static_cast<int64_t>(i)));
    total += weekly_shape(56 * 48 + static_cast<int64_t>(i));
  }
  EXPECT_LT(abs_error / total, 0.12);
  auto total_energy = forecast_energy_until(h, kStart + 56 * kDay, kStart + 60 * kDay);
  EXPECT_TRUE(total_energy.ok()) << total_energy.error().to_string();
}

TEST(Forecast, NothingAtOrAfterTheOriginIsRead) {
  const HalfHourHistory h = synthetic(70, 0.3);
  const int64_t at = kStart + 50 * kDay + 9 * 3600;
  HalfHourHistory changed = h;
  for (size_t i = static_cast<size_t>((at - kStart) / kSlot); i < changed.kwh.size(); ++i) {
    changed.kwh[i] = i % 3 == 0 ? kNaN : changed.kwh[i] * 10;
  }
  auto a = forecast_intervals(h, at, 96);
  auto b = forecast_intervals(changed, at, 96);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->p10, b->p10);
  EXPECT_EQ(a->p50, b->p50);
  EXPECT_EQ(a->p90, b->p90);
  auto ta = forecast_energy_until(h, at, at + 10 * kDay);
  auto tb = forecast_energy_until(changed, at, at + 10 * kDay);
  ASSERT_TRUE(ta.ok() && tb.ok());
  EXPECT_EQ(ta->p50, tb->p50);
  EXPECT_EQ(ta->p10, tb->p10);
  EXPECT_EQ(ta->p90, tb->p90);
}

TEST(Forecast, ATotalIsTheSlotForecastsPlusTheRecentDailyBiasPerDay) {
  // The total is the sum of the slot p50s plus the meter's recent mean daily error for each day of the span,
  // so its excess over the slot sum grows in proportion to the span.
  const HalfHourHistory h = synthetic(42, 0.3);
  const int64_t at = kStart + 42 * kDay;
  auto slots = forecast_intervals(h, at, 4 * 48);
  ASSERT_TRUE(slots.ok());
  double one = 0, four = 0;
  for (size_t i = 0; i < slots->p50.size(); ++i) (i < 48 ? one : four) += slots->p50[i];
  four += one;
  auto day = forecast_energy_until(h, at, at + kDay);
  auto days = forecast_energy_until(h, at, at + 4 * kDay);
  ASSERT_TRUE(day.ok() && days.ok());
  EXPECT_NEAR(days->p50 - four, 4 * (day->p50 - one), 1e-9 * four);
}

TEST(Forecast, AFlatMetersTotalIsRightToTheQuarterHour) {
  HalfHourHistory h;
  h.start_s = kStart;
  h.kwh.assign(30 * 48, 0.3);
  const int64_t at = kStart + 30 * kDay;
  auto slots = forecast_intervals(h, at, 48);
  ASSERT_TRUE(slots.ok());
  for (double p50 : slots->p50) EXPECT_NEAR(p50, 0.3, 0.3 * 0.03);
  // The trees' small corrections differ by day of the week, so the recent daily bias does not cancel them
  // exactly (as it did for the linear blend alone) and leaves a band of a fraction of a percent.
  auto days = forecast_energy_until(h, at, at + 3 * kDay);
  ASSERT_TRUE(days.ok());
  EXPECT_NEAR(days->p50, 3 * 48 * 0.3, 3 * 48 * 0.3 * 0.001);
  EXPECT_NEAR(days->p10, days->p50, days->p50 * 0.01);
  EXPECT_NEAR(days->p90, days->p50, days->p50 * 0.01);
  // A quarter of an hour is half a slot.
  auto quarter = forecast_energy_until(h, at, at + 900);
  ASSERT_TRUE(quarter.ok());
  EXPECT_NEAR(quarter->p50, 0.15, 0.15 * 0.01);
  auto none = forecast_energy_until(h, at, at);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->p50, 0.0);
}

TEST(Forecast, ANoisyTotalIsNearTheTruthWithAnIntervalAroundIt) {
  const HalfHourHistory h = synthetic(63, 0.5);
  const int64_t at = kStart + 49 * kDay;  // a Monday; the data after it is the truth
  auto total = forecast_energy_until(h, at, at + 14 * kDay);
  ASSERT_TRUE(total.ok()) << total.error().to_string();
  double actual = 0;
  for (size_t i = 49 * 48; i < 63 * 48; ++i) actual += h.kwh[i];
  EXPECT_NEAR(total->p50, actual, 0.05 * actual);
  EXPECT_LT(total->p10, total->p50);
  EXPECT_GT(total->p90, total->p50);
  EXPECT_LE(total->p10, actual);
  EXPECT_GE(total->p90, actual);
  // Correlated days widen a total's band beyond independent slots': it is not the sum of slot quantiles, and
  // a two-week band is wider than a one-day band.
  auto day = forecast_energy_until(h, at, at + kDay);
  ASSERT_TRUE(day.ok());
  EXPECT_GT(total->p90 - total->p10, 3.0 * (day->p90 - day->p10));
}

TEST(Forecast, ASessionThatRemembersGivesTheFreeFunctionsResults) {
  const HalfHourHistory h = synthetic(60, 0.4);
  ForecastSession session(h);
  for (int day = 40; day < 60; day += 3) {  // rolling, as the benchmark does
    const int64_t at = kStart + day * kDay;
    auto a = session.intervals(day * 48, 48);
    auto b = forecast_intervals(h, at, 48);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->p10, b->p10);
    EXPECT_EQ(a->p50, b->p50);
    EXPECT_EQ(a->p90, b->p90);
    auto ta = session.energy_until(day * 48, day * 48 + 48.0);
    auto tb = forecast_energy_until(h, at, at + kDay);
    ASSERT_TRUE(ta.ok() && tb.ok());
    EXPECT_EQ(ta->p50, tb->p50);
    EXPECT_EQ(ta->p90, tb->p90);
  }
}

TEST(Forecast, BadArgumentsAreRefused) {
  const HalfHourHistory h = synthetic(30, 0.1);
  EXPECT_FALSE(forecast_intervals(h, kStart + 29 * kDay, 0).ok());
  EXPECT_FALSE(forecast_intervals(h, kStart + 29 * kDay, kMaxForecastSteps + 1).ok());
  EXPECT_FALSE(forecast_energy_until(h, kStart + 29 * kDay, kStart + 29 * kDay + 63 * kDay).ok());
  EXPECT_TRUE(forecast_energy_until(h, kStart + 29 * kDay, kStart + 29 * kDay + 62 * kDay).ok());
  HalfHourHistory odd = h;
  odd.start_s += 60;
  EXPECT_FALSE(forecast_intervals(odd, kStart + 29 * kDay, 48).ok());
}

TEST(ForecastHistory, QuarterHoursSumIntoHalfHoursAndAGapIsMissing) {
  const std::string text =
      "meter,time,kwh\n"
      "A,2024-03-01T00:15:00+10:00,0.25\n"
      "A,2024-03-01T00:30:00+10:00,0.5\n"
      "A,2024-03-01T00:45:00+10:00,1.0\n"
      "A,2024-03-01T01:15:00+10:00,2.0\n"
      "A,2024-03-01T01:30:00+10:00,4.0\n";
  auto r = parse_readings_csv(text);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const HalfHourHistory h = half_hour_history(r.value(), r->meters[0]);
  EXPECT_EQ(h.start_s, 1709215200);  // 2024-03-01T00:00:00+10:00
  EXPECT_EQ(h.utc_offset_s, 36000);
  ASSERT_EQ(h.kwh.size(), 3u);
  EXPECT_DOUBLE_EQ(h.kwh[0], 0.75);
  EXPECT_TRUE(std::isnan(h.kwh[1]));  // 00:30-01:00 lacks its second quarter
  EXPECT_DOUBLE_EQ(h.kwh[2], 6.0);
}

}  // namespace
}  // namespace wattguard::analytics
