// What the forecasting model sees of a target half-hour: robust summaries of the same slot of the day and of
// the week in the weeks before the forecast's origin. The p50 is a weighted sum of them (ForecastParams).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "wattguard/analytics/forecast.h"
#include "wattguard/analytics/forecast_session.h"

namespace wattguard::analytics {

// Feature order; names as printed by `bench forecast --tune`. "Slot +-n" pools the n neighbouring half-hours
// on each side: a household's evening peak wanders by half an hour from day to day.
enum class ForecastFeature : uint8_t {
  kMedian7Days,       // median of the slot +-2 over the last 7 days (35 values)
  kMedian28Days,      // median of the slot +-1 over the last 28 days (84 values): the slow shape
  kWeekdayMedian,     // median of the same slot of the week +-1 over the last 4 weeks (12 values): weekly shape
  kDayTypeMedian,     // median of the slot +-2 over the days of the last 21 of the same type (workday, weekend)
  kYesterday,         // mean of the slot +-1 on its latest day: the most recent level
  kBaseLoad,          // 10th percentile of every slot of the last 7 days: fridge, standby
  kLowQuartile7Days,  // 25th percentile of the slot +-2 over the last 7 days: where the median is pulled by spikes
  kLevelScaled,       // kMedian28Days times the last 3 days' mean over the last 28 days' (heating, holidays)
  kMedian14DaysWide,  // median of the slot +-3 over the last 14 days (98 values)
  kMean7Days,         // mean of the slot +-1 over the last 7 days: the level, spikes included
  kDayTypeYesterdayScaled,  // kDayTypeMedian times the last day's mean over the last 28 days' (clamped likewise)
  kMedian3Days,             // median of the slot +-2 over the last 3 days (15 values): this week's habits
};
std::string_view forecast_feature_name(int feature);

using ForecastFeatures = std::array<double, kForecastFeatureCount>;

// Work buffers reused between calls (no allocation per slot).
struct FeatureScratch {
  std::vector<double> values;
};

// What the features of every target from one origin share.
struct OriginSummary {
  double base_load = 0;        // kBaseLoad; NaN with no data
  double level_ratio = 1;      // mean of the last 3 days over the last 28 days', clamped to [0.5, 2]; 1 without data
  double day_level_ratio = 1;  // the same for the last day alone
};
OriginSummary forecast_origin_summary(const HalfHourHistory& history, int64_t origin, FeatureScratch& scratch);

// The features of slot index `target` (>= origin) from history.kwh[0, origin) only. A feature without data
// takes kMedian28Days' value; all are NaN when that has none either.
ForecastFeatures forecast_features(const HalfHourHistory& history, int64_t origin, int64_t target,
                                   const OriginSummary& summary, FeatureScratch& scratch);

// p50 of `steps` slots from `origin`: the weighted features, never below 0; NaN where the features are.
// Depends on a target only through its slot of the week, so only the first week is computed and repeated.
std::vector<double> point_forecast(const HalfHourHistory& history, int64_t origin, int64_t steps,
                                   const ForecastParams& params);

}  // namespace wattguard::analytics
