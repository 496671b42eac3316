// Tests of the p50's boosted trees (forecast_trees.h) and their scale-free inputs: a slot is routed by the
// thresholds level by level, a missing input goes left, the correction is in units of the meter's scale, and
// the committed table is well formed.
#include "wattguard/analytics/forecast_trees.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "wattguard/analytics/forecast_features.h"
#include "wattguard/analytics/forecast_session.h"

namespace wattguard::analytics {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr size_t kSlotOfDay = static_cast<size_t>(TreeInput::kSlotOfDay);
constexpr size_t kWeekend = static_cast<size_t>(TreeInput::kWeekend);

// A tree asking "slot of day > 20?" at every level but the second, which asks "weekend?"; leaf i is worth i.
ForecastTree numbered_tree() {
  ForecastTree t;
  t.input.fill(static_cast<uint8_t>(kSlotOfDay));
  t.threshold.fill(20.0F);
  t.input[1] = static_cast<uint8_t>(kWeekend);
  t.threshold[1] = 0.5F;
  for (size_t i = 0; i < t.leaf.size(); ++i) t.leaf[i] = static_cast<float>(i);
  return t;
}

TEST(ForecastTrees, ASlotIsRoutedLevelByLevelMostSignificantBitFirst) {
  static_assert(kForecastTreeDepth == 4, "the expected leaves below assume depth 4");
  const std::vector<ForecastTree> trees = {numbered_tree()};
  TreeInputs in{};
  in[kSlotOfDay] = 30;  // right at levels 0, 2, 3
  in[kWeekend] = 0;     // left at level 1
  EXPECT_EQ(tree_correction(trees, in), 0b1011);
  in[kWeekend] = 1;
  EXPECT_EQ(tree_correction(trees, in), 0b1111);
  in[kSlotOfDay] = 20;  // not above the threshold: left
  EXPECT_EQ(tree_correction(trees, in), 0b0100);
  in[kSlotOfDay] = kNaN;  // missing: left
  EXPECT_EQ(tree_correction(trees, in), 0b0100);
}

TEST(ForecastTrees, TheCorrectionIsInUnitsOfTheMetersScaleAndTheP50NeverNegative) {
  const std::vector<ForecastTree> trees = {numbered_tree(), numbered_tree()};
  TreeInputs in{};
  in[kSlotOfDay] = 30;
  in[kWeekend] = 1;  // leaf 15 in each: +30 scales
  EXPECT_DOUBLE_EQ(boosted_point(trees, in, 0.5, 0.01), 0.5 + 0.3);
  ForecastTree negative = numbered_tree();
  for (float& leaf : negative.leaf) leaf = -leaf;
  EXPECT_EQ(boosted_point(std::vector<ForecastTree>{negative}, in, 0.5, 1.0), 0.0);
  // No scale (a meter without a month of data, or one using nothing): the linear p50 as it is.
  EXPECT_EQ(boosted_point(trees, in, 0.5, 0.0), 0.5);
  EXPECT_TRUE(std::isnan(boosted_point(trees, in, kNaN, 1.0)));
}

TEST(ForecastTrees, TheCommittedTableAsksOnlyAboutKnownInputsAndCorrectsLittle) {
  const auto trees = default_forecast_trees();
  ASSERT_FALSE(trees.empty());
  double largest = 0;
  for (const ForecastTree& t : trees) {
    for (uint8_t input : t.input) EXPECT_LT(input, kTreeInputCount);
    for (float leaf : t.leaf) largest = std::max(largest, std::abs(static_cast<double>(leaf)));
  }
  // Each tree is one small step of the boosting (learning rate 0.1), never a forecast of its own.
  EXPECT_LT(largest, 0.5);
  EXPECT_EQ(default_forecast_params().tree_count, trees.size());
}

// A history with a daily shape and noise, times `factor`.
HalfHourHistory shaped(double factor) {
  HalfHourHistory h;
  h.start_s = 1'704'067'200;  // 2024-01-01T00:00:00Z
  uint32_t state = 12345;
  for (int k = 0; k < 40 * 48; ++k) {
    state = state * 1664525U + 1013904223U;
    const double noise = 0.5 + static_cast<double>(state >> 8) / static_cast<double>(1U << 24);
    h.kwh.push_back(factor * (0.2 + 0.5 * std::exp(-std::pow((k % 48) / 2.0 - 19.0, 2) / 4.0)) * noise);
  }
  return h;
}

TEST(ForecastTrees, TheInputsAreScaleFreeButForTheLogOfTheScale) {
  const HalfHourHistory light = shaped(1.0), heavy = shaped(3.0);
  const int64_t origin = 35 * 48;
  FeatureScratch scratch;
  const ForecastParams& params = default_forecast_params();
  for (int64_t target = origin; target < origin + 48; target += 7) {
    const OriginSummary sl = forecast_origin_summary(light, origin, scratch);
    const ForecastFeatures fl = forecast_features(light, origin, target, sl, scratch);
    const TreeInputs il = forecast_tree_inputs(light, origin, target, sl, fl, linear_point(fl, params), scratch);
    const OriginSummary sh = forecast_origin_summary(heavy, origin, scratch);
    const ForecastFeatures fh = forecast_features(heavy, origin, target, sh, scratch);
    const TreeInputs ih = forecast_tree_inputs(heavy, origin, target, sh, fh, linear_point(fh, params), scratch);
    for (int k = 0; k < kTreeInputCount; ++k) {
      if (k == static_cast<int>(TreeInput::kLogScale)) {
        EXPECT_NEAR(ih[static_cast<size_t>(k)] - il[static_cast<size_t>(k)], std::log10(3.0), 1e-9);
      } else {
        EXPECT_NEAR(ih[static_cast<size_t>(k)], il[static_cast<size_t>(k)], 1e-9) << tree_input_name(k);
      }
    }
    EXPECT_EQ(il[kSlotOfDay], static_cast<double>(target % 48));
  }
}

}  // namespace
}  // namespace wattguard::analytics
