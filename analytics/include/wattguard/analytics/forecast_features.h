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
  double month_mean = 0;       // mean half-hour of the last 28 days: the scale of the tree inputs; NaN with no data
  double month_median = 0;     // median half-hour of the last 28 days; NaN with no data
  double level_ratio = 1;      // mean of the last 3 days over the last 28 days', clamped to [0.5, 2]; 1 without data
  double day_level_ratio = 1;  // the same for the last day alone
};
OriginSummary forecast_origin_summary(const HalfHourHistory& history, int64_t origin, FeatureScratch& scratch);

// The features of slot index `target` (>= origin) from history.kwh[0, origin) only. A feature without data
// takes kMedian28Days' value; all are NaN when that has none either.
ForecastFeatures forecast_features(const HalfHourHistory& history, int64_t origin, int64_t target,
                                   const OriginSummary& summary, FeatureScratch& scratch);

// The inputs of the boosted trees (forecast_trees.h): scale-free, so that one model fits light and heavy homes.
// Every kWh figure is divided by the meter's 28-day mean half-hour (OriginSummary::month_mean).
enum class TreeInput : uint8_t {
  kLinear,                                 // the linear blend's p50 (ForecastParams::weights)
  kMedian7Days,                            // ForecastFeatures 0..11 follow in their order
  kSlotOfDay = kForecastFeatureCount + 1,  // 0..47, local time
  kWeekend,                                // 1 on a Saturday or Sunday, else 0
  kLevelRatio,                             // OriginSummary::level_ratio (not divided)
  kDayLevelRatio,                          // OriginSummary::day_level_ratio (not divided)
  kLogScale,             // log10 of the 28-day mean half-hour in kWh: light and heavy homes differ in shape
  kHighQuartile7Days,    // 75th percentile of the slot +-2 over the last 7 days
  kMedian7DaysWide,      // median of the slot +-6 over the last 7 days: the evening, not the half-hour
  kYesterdaySlot,        // the slot itself on its latest day
  kLastWeekSlot,         // the slot itself a week before
  kMedian7DaysExact,     // median of the slot itself over the last 7 days
  kDayOfWeek,            // 0 Monday .. 6 Sunday, local time
  kLastHours,            // mean of the 4 half-hours before the origin: tonight's level for the small hours
  kStepsAhead,           // half-hours from the origin to the target
  kHigh14Days,           // 90th percentile of the slot +-1 over the last 14 days
  kLow14Days,            // 10th percentile of the slot +-1 over the last 14 days
  kWeekdayMedian8Weeks,  // median of the same slot of the week +-1 over the last 8 weeks
  kYesterdayMax,         // largest of the slot +-2 on its latest day
  kMonthSkew,            // median half-hour of the last 28 days over their mean: how spiky the home is
  kCount,
};
inline constexpr int kTreeInputCount = static_cast<int>(TreeInput::kCount);
using TreeInputs = std::array<double, kTreeInputCount>;
std::string_view tree_input_name(int input);

// The tree inputs of slot `target`, from its features and the linear p50. NaN inputs are possible (no data).
TreeInputs forecast_tree_inputs(const HalfHourHistory& history, int64_t origin, int64_t target,
                                const OriginSummary& summary, const ForecastFeatures& features, double linear_p50,
                                FeatureScratch& scratch);

// The linear blend's p50 of one slot (never below 0; NaN where the features are).
double linear_point(const ForecastFeatures& features, const ForecastParams& params);

// p50 of `steps` slots from `origin`: the weighted features refined by params' trees, never below 0; NaN where
// the features are. The features depend on a target only through its slot of the week, so only the first week
// is computed and repeated (the trees' half-hours-ahead input is thus at most a week's).
std::vector<double> point_forecast(const HalfHourHistory& history, int64_t origin, int64_t steps,
                                   const ForecastParams& params);

}  // namespace wattguard::analytics
