// Fitting the p50's boosted trees (analytics/forecast_trees.h) on the tuning split: gradient boosting of
// oblivious regression trees for the absolute error (LAD-TreeBoost: each tree fits the signs of the residuals,
// each leaf takes their weighted median), in the scale-free space of the tree inputs, each half-hour weighted
// by its meter's scale so that the fit minimises the pooled kWh MAE the benchmark measures.
#pragma once

#include <string>
#include <vector>

#include "wattguard/analytics/forecast_session.h"
#include "wattguard/analytics/forecast_trees.h"
#include "wattguard/evaluation/forecast_bench.h"

namespace wattguard::evaluation {

struct BoostingOptions {
  int trees = 0;
  double learning_rate = 0;
  double min_leaf_weight = 0;  // a leaf holding less scale (sum of 28-day mean half-hours) stays 0
  int day_stride = 1;          // a day of every this many is used
};
// The options the committed trees were fitted with (chosen by 2-fold cross-validation within the tuning split).
BoostingOptions default_boosting_options();

// Trees on top of `params`' linear weights, from the tuning households' day-ahead half-hours (never a
// held-out one). Appends what it did to `report`.
std::vector<analytics::ForecastTree> fit_forecast_trees(const std::vector<ForecastDataSet>& sets,
                                                        const analytics::ForecastParams& params,
                                                        const BoostingOptions& options, std::string& report);

// The trees as the C++ source of analytics/forecast_tree_table.cc.
std::string forecast_trees_source(const std::vector<analytics::ForecastTree>& trees, const std::string& provenance);

}  // namespace wattguard::evaluation
