// Tests of the trees' fit (forecast_boosting.h): on households whose spikes pull the medians up, the fitted
// trees lower the tuning split's MAE below the linear blend's, and the table they are written as is C++.
#include "wattguard/evaluation/forecast_boosting.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

namespace wattguard::evaluation {
namespace {

// A flat base with an evening peak that happens on about 60 % of days and a short spike (a kettle) now and
// then: the median of recent days is not the best half-hourly forecast.
RealHousehold spiky_household(const std::string& name, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  RealHousehold h;
  h.name = name;
  for (int d = 0; d < 70; ++d) {
    RealDay day;
    day.day = 15706 + d;
    const bool evening = u(rng) < 0.6;
    for (int s = 0; s < 48; ++s) {
      double kwh = 0.1 + 0.05 * u(rng);
      if (evening && s >= 36 && s < 42) kwh += 0.8 * u(rng);
      if (u(rng) < 0.08) kwh += 1.0;
      day.kwh[static_cast<size_t>(s)] = static_cast<float>(kwh);
    }
    h.days.push_back(day);
  }
  return h;
}

TEST(ForecastBoosting, TheFittedTreesLowerTheTuningSplitsError) {
  ForecastDataSet set{"SPIKY", "memory", {}};
  for (int i = 0; i < 8; ++i) set.households.push_back(spiky_household("S" + std::to_string(i), 70 + i));
  analytics::ForecastParams linear = analytics::default_forecast_params();
  linear.trees = nullptr;
  linear.tree_count = 0;
  std::string report;
  const BoostingOptions options{.trees = 20, .learning_rate = 0.2, .min_leaf_weight = 1, .day_stride = 1};
  const std::vector<analytics::ForecastTree> trees = fit_forecast_trees({set}, linear, options, report);
  ASSERT_EQ(trees.size(), 20u);
  EXPECT_NE(report.find("boosted"), std::string::npos);
  analytics::ForecastParams boosted = linear;
  boosted.trees = trees.data();
  boosted.tree_count = trees.size();
  const ForecastScores before = run_forecast_bench({set}, linear, /*tuning_only=*/true).sets[0].tuning;
  const ForecastScores after = run_forecast_bench({set}, boosted, /*tuning_only=*/true).sets[0].tuning;
  ASSERT_GT(before.households, 0);
  EXPECT_LT(after.mae_model, 0.98 * before.mae_model);
}

TEST(ForecastBoosting, TheTableIsWrittenAsCxxLiterals) {
  analytics::ForecastTree t;
  t.input = {13, 0, 2, 5};
  t.threshold = {20.0F, 1.5F, -0.25F, 1e-7F};
  t.leaf.fill(0.0F);
  t.leaf[3] = 0.125F;
  const std::string source = forecast_trees_source({t, t}, "test");
  EXPECT_NE(source.find("std::array<ForecastTree, 2> kTrees"), std::string::npos);
  EXPECT_NE(source.find("{{13, 0, 2, 5}, {20.0F, 1.5F, -0.25F, 1.00000001e-07F}, {0.0F, 0.0F, 0.0F, 0.125F, 0.0F"),
            std::string::npos)
      << source;
}

}  // namespace
}  // namespace wattguard::evaluation
