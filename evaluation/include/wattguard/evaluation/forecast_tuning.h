// How the forecast's parameters were chosen (`wattguard bench forecast --tune`): on the tuning split only,
// the p50 weights by least absolute deviations over every day-ahead half-hour, the boosted trees on top of
// them (forecast_boosting.h), then the residual quantiles
// and the total's spread scale so that the tuning split's intervals cover 80 %.
#pragma once

#include <string>
#include <vector>

#include "wattguard/analytics/forecast_session.h"
#include "wattguard/analytics/forecast_trees.h"
#include "wattguard/evaluation/forecast_bench.h"

namespace wattguard::evaluation {

struct ForecastTuning {
  analytics::ForecastParams params;  // its trees point into `trees` (moving keeps them valid, copying does not)
  std::vector<analytics::ForecastTree> trees;
  std::string report;  // what was fitted and the tuning split's figures along the way, for people
};

// The p50 weights alone, fitted to the tuning households' day-ahead half-hours (every second day); appends
// what it did to `report`.
analytics::ForecastParams fit_forecast_weights(const std::vector<ForecastDataSet>& sets,
                                               const analytics::ForecastParams& start, std::string& report);

// Starts from `start` (its weights are the first guess of the iteration). Never reads a held-out household.
ForecastTuning tune_forecast(const std::vector<ForecastDataSet>& sets, const analytics::ForecastParams& start,
                             const ForecastProgress& progress = {});

}  // namespace wattguard::evaluation
