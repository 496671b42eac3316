// Tests of the real-household theft benchmark: the fixed split, and a short smoke run on household files'
// worth of generated homes whose figures must be finite, labelled with the part reported on, and sensible.
#include "wattguard/evaluation/real_theft_bench.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

namespace wattguard::evaluation {
namespace {

TEST(RealTheftBenchSplit, PutsAHouseholdInTheSamePartEveryTimeAndHalvesAPopulation) {
  int tune = 0;
  for (int i = 0; i < 400; ++i) {
    const std::string id = "EDRP-X" + std::to_string(i);
    EXPECT_EQ(split_part_of(id), split_part_of(id));
    tune += split_part_of(id) == SplitPart::kTune;
  }
  EXPECT_GT(tune, 160);
  EXPECT_LT(tune, 240);
  // FNV-1a of "a" is 0xaf63dc4c8601ec8c: even, so tune. Fixed here so the split cannot change unnoticed.
  EXPECT_EQ(split_part_of("a"), SplitPart::kTune);
  EXPECT_EQ(split_part_of("b"), SplitPart::kReport);
}

// Homes with their own habits: a base load, morning and evening peaks of their own size and hour, and noise.
std::vector<RealHousehold> homes(int n, int days, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<RealHousehold> out;
  for (int i = 0; i < n; ++i) {
    RealHousehold h;
    h.name = "H-" + std::to_string(i);
    const double base = 0.05 + 0.1 * u(rng), morning = 0.2 + 0.5 * u(rng), evening = 0.3 + 0.8 * u(rng);
    const int m_slot = 12 + static_cast<int>(u(rng) * 6), e_slot = 34 + static_cast<int>(u(rng) * 8);
    for (int d = 0; d < days; ++d) {
      RealDay day;
      day.day = 14304 + d;  // 2009-03-01
      for (int s = 0; s < 48; ++s) {
        double v = base * (0.8 + 0.4 * u(rng));
        if (std::abs(s - m_slot) <= 2) v += morning * u(rng);
        if (std::abs(s - e_slot) <= 4) v += evening * u(rng);
        day.kwh[static_cast<size_t>(s)] = static_cast<float>(v);
      }
      h.days.push_back(day);
    }
    out.push_back(std::move(h));
  }
  return out;
}

TEST(RealTheftBench, SmokeRunReportsTheChosenPartWithFiniteDecisionFigures) {
  const std::vector<RealHousehold> all = homes(60, 40, 7);
  RealBenchOptions options;
  options.part = SplitPart::kReport;
  options.homes_per_dt = 20;
  options.max_dts = 1;
  options.days = 36;
  options.calibration_days = 10;
  options.thief_share = 0.15;
  options.runs = 1;
  auto r = run_real_theft_bench("generated", all, options);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_NE(r->label.find("report part"), std::string::npos) << r->label;
  EXPECT_EQ(r->config.transformers, 1);
  EXPECT_EQ(r->config.consumers, 20);
  EXPECT_EQ(r->config.days, 36);  // the homes cover 40 days: 36 + one either side fit
  EXPECT_TRUE(std::isfinite(r->honest_flags_per_1000_consumer_months));
  EXPECT_GT(r->consumer_months, 10.0);
  EXPECT_GT(r->overall.consumers, 0);
  EXPECT_TRUE(std::isfinite(r->overall.auc));
  const std::string table = bench_to_table(*r);
  EXPECT_NE(table.find("per 1,000 consumer-months"), std::string::npos);
  const auto j = bench_to_json(*r);
  EXPECT_TRUE(j.contains("decisions"));
  EXPECT_EQ(j["meta"]["grid"], r->label);
}

TEST(RealTheftBench, RefusesAPartTooSmallToBuildATransformer) {
  auto r = run_real_theft_bench("tiny", homes(8, 40, 3), RealBenchOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().to_string().find("households"), std::string::npos);
}

}  // namespace
}  // namespace wattguard::evaluation
