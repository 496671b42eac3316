// The boosted trees that refine the linear blend's p50: oblivious (every node of a level asks the same
// question) regression trees over the scale-free tree inputs (forecast_features.h), fitted by least absolute
// deviations on the tuning split (evaluation/forecast_boosting.h) and committed as a generated table.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "wattguard/analytics/forecast_features.h"

namespace wattguard::analytics {

inline constexpr int kForecastTreeDepth = 4;
inline constexpr int kForecastTreeLeaves = 1 << kForecastTreeDepth;

// Level l sends a slot to the right (bit 1 of its leaf index, most significant first) when
// input[l] > threshold[l]; a missing (NaN) input goes left.
struct ForecastTree {
  std::array<uint8_t, kForecastTreeDepth> input{};  // TreeInput
  std::array<float, kForecastTreeDepth> threshold{};
  std::array<float, kForecastTreeLeaves> leaf{};  // added to the p50 over the meter's 28-day mean half-hour
};

// The committed trees (forecast_tree_table.cc, written by `wattguard bench forecast --tune --write-trees`).
std::span<const ForecastTree> default_forecast_trees();

// Sum of the trees' leaves for one slot: the correction of the scale-free p50.
double tree_correction(std::span<const ForecastTree> trees, const TreeInputs& inputs);

// The p50 of one slot: (linear p50 / scale + the trees' correction) x scale, never below 0; the linear p50
// when the scale is unknown or zero.
double boosted_point(std::span<const ForecastTree> trees, const TreeInputs& inputs, double linear_p50, double scale);

}  // namespace wattguard::analytics
