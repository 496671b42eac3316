// The day-ahead forecast origins that tuning learns from: every midnight of a tuning-split household past the
// warm-up, on every day_stride-th day. Shared by the weight fit (forecast_tuning.h) and the trees'
// (forecast_boosting.h), so both learn from the same half-hours the benchmark scores.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "wattguard/analytics/forecast_features.h"
#include "wattguard/evaluation/forecast_bench.h"

namespace wattguard::evaluation {

struct TuningOrigin {
  const analytics::HalfHourHistory& history;  // the whole household
  int64_t origin;                             // slot index of the day's midnight in `history`
  const RealDay& day;                         // the day forecast: its 48 actual half-hours
  const analytics::OriginSummary& summary;    // forecast_origin_summary at `origin`
  analytics::FeatureScratch& scratch;         // reusable by the visitor
};

// Calls visit for each such origin, household by household, in day order.
void for_each_tuning_origin(const std::vector<ForecastDataSet>& sets, int day_stride,
                            const std::function<void(const TuningOrigin&)>& visit);

}  // namespace wattguard::evaluation
