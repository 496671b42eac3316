// Tests of the forecast benchmark's parts: the long-format reader, the fixed split, and a run on synthetic
// households whose figures must be finite and put the model ahead of the naive baselines.
#include "wattguard/evaluation/forecast_bench.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

#include "wattguard/evaluation/long_households.h"

namespace wattguard::evaluation {
namespace {

TEST(ForecastLongHouseholds, KeepsCompleteDaysOnlyPerHouseholdInOrderOfAppearance) {
  std::string text = "household,time,kwh\n";
  for (int d = 1; d <= 8; ++d) {
    for (int s = 0; s < 48; ++s) {
      char row[64];
      if (d != 3 || s != 10) {  // B-1's day 3 lacks a half-hour
        std::snprintf(row, sizeof row, "B-1,2013-01-%02dT%02d:%02d,%.3f\n", d, s / 2, s % 2 * 30, 0.1 * (s % 4));
        text += row;
      }
      std::snprintf(row, sizeof row, "A-7,2013-01-%02dT%02d:%02d,1.5\n", d, s / 2, s % 2 * 30);
      text += row;
    }
  }
  auto r = parse_long_households(text, "t.csv");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].name, "B-1");
  EXPECT_EQ((*r)[0].days.size(), 7u);  // day 3 dropped
  EXPECT_EQ((*r)[1].days.size(), 8u);
  EXPECT_EQ((*r)[0].days[0].day, 15706);  // 2013-01-01
  EXPECT_FLOAT_EQ((*r)[0].days[0].kwh[3], 0.3f);
  auto one = parse_long_households(text, "t.csv", 1);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->size(), 1u);
}

TEST(ForecastLongHouseholds, ABadRowIsNamedByLineAndField) {
  auto r = parse_long_households("household,time,kwh\nA,2013-01-01T00:00,0.1\nA,2013-01-01T00:15,0.1\n", "t.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().line, 3);
  EXPECT_EQ(r.error().field, "time");
  auto negative = parse_long_households("household,time,kwh\nA,2013-01-01T00:00,-2\n", "t.csv");
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.error().field, "kwh");
}

TEST(ForecastSplit, IsFixedAndPutsAboutHalfTheHouseholdsInEachPart) {
  int tuning = 0;
  for (int i = 0; i < 1000; ++i) tuning += in_tuning_split("EDRP-X" + std::to_string(i));
  EXPECT_GT(tuning, 440);
  EXPECT_LT(tuning, 560);
  EXPECT_EQ(in_tuning_split("SGSC-10006414"), in_tuning_split("SGSC-10006414"));
}

// A household with a daily evening peak, a weekend rise and noise: the model should beat yesterday and last
// week's same slot, and its band should cover most values.
RealHousehold synthetic_household(const std::string& name, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> noise(0.5, 1.5);
  RealHousehold h;
  h.name = name;
  for (int d = 0; d < 70; ++d) {
    RealDay day;
    day.day = 15706 + d;
    for (int s = 0; s < 48; ++s) {
      const double hour = s / 2.0;
      const double shape = 0.2 + 0.8 * std::exp(-std::pow(hour - 19.0, 2) / 3.0);
      day.kwh[static_cast<size_t>(s)] = static_cast<float>(shape * ((d + 1) % 7 >= 5 ? 1.3 : 1.0) * noise(rng));
    }
    h.days.push_back(day);
  }
  return h;
}

TEST(ForecastBench, OnSyntheticHouseholdsTheModelBeatsTheNaiveBaselines) {
  ForecastDataSet set{"SYN", "memory", {}};
  for (int i = 0; i < 6; ++i) set.households.push_back(synthetic_household("H" + std::to_string(i), 40 + i));
  const ForecastBenchResult r = run_forecast_bench({set}, analytics::default_forecast_params());
  ASSERT_EQ(r.sets.size(), 1u);
  const ForecastScores& h = r.sets[0].held_out;
  const ForecastScores& t = r.sets[0].tuning;
  EXPECT_EQ(h.households + t.households, 6);
  for (const ForecastScores* s : {&h, &t}) {
    if (s->households == 0) continue;
    EXPECT_EQ(s->points, s->days * 48);
    EXPECT_LT(s->mae_model, s->mae_yesterday);
    EXPECT_LT(s->mae_model, s->mae_last_week);
    EXPECT_GT(s->coverage_p10_p90, 0.65);
    EXPECT_LT(s->coverage_p10_p90, 0.95);
    EXPECT_GT(s->cycles, 0);
    EXPECT_LT(s->cycle_end_ape_median, 10.0);
    EXPECT_TRUE(std::isfinite(s->mape_model));
  }
  const auto json = forecast_bench_to_json(r);
  EXPECT_EQ(json["reported"], "held_out");
  EXPECT_TRUE(json["sets"][0]["held_out"].contains("ratio_to_best_baseline"));
}

}  // namespace
}  // namespace wattguard::evaluation
