// The model's features: medians and means of the same slot of the day and of the week before the origin.
#include "wattguard/analytics/forecast_features.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>

#include "wattguard/analytics/forecast_trees.h"
#include "wattguard/base/floor_division.h"

namespace wattguard::analytics {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int64_t kSlotS = 1800;
constexpr int64_t kDayS = 86400;
// The base load is this quantile of the last week: low enough to miss every appliance cycle, high enough not
// to be a single dropped reading.
constexpr double kBaseLoadQuantile = 0.10;
// The recent level: the last 3 days against the last 28, the ratio clamped so that a few odd days (a party, a
// dead meter) cannot more than double or halve the forecast.
constexpr int kRecentLevelDays = 3;
constexpr double kMinLevelRatio = 0.5;
constexpr double kMaxLevelRatio = 2.0;
// 1970-01-01 was a Thursday: weekday (Monday 0) of day d is (d + 3) mod 7.
constexpr int64_t kThursday = 3;

// Appends the known values of slot `target`'s neighbours (+-halfwidth) at their `count` latest occurrences
// (every `period` slots) before `origin`.
void collect(const HalfHourHistory& h, int64_t origin, int64_t target, int64_t period, int count, int halfwidth,
             std::vector<double>& out) {
  out.clear();
  const auto size = static_cast<int64_t>(h.kwh.size());
  for (int delta = -halfwidth; delta <= halfwidth; ++delta) {
    const int64_t slot = target + delta;
    // The latest index before origin that is slot minus a whole number of periods.
    const int64_t latest = slot - period * (floor_div(slot - origin, period) + 1);
    for (int k = 0; k < count; ++k) {
      const int64_t i = latest - k * period;
      if (i < 0) break;
      if (i >= size) continue;
      const double v = h.kwh[static_cast<size_t>(i)];
      if (!std::isnan(v)) out.push_back(v);
    }
  }
}

bool is_weekend(const HalfHourHistory& h, int64_t i) {
  const int64_t day = floor_div(h.start_s + h.utc_offset_s + i * kSlotS, kDayS);
  return floor_mod(day + kThursday, 7) >= 5;
}

// As collect() with a day period, keeping only the days of target's type (workday or weekend).
void collect_day_type(const HalfHourHistory& h, int64_t origin, int64_t target, int days, int halfwidth,
                      std::vector<double>& out) {
  out.clear();
  const auto size = static_cast<int64_t>(h.kwh.size());
  const bool weekend = is_weekend(h, target);
  for (int delta = -halfwidth; delta <= halfwidth; ++delta) {
    const int64_t slot = target + delta;
    const int64_t latest = slot - kSlotsPerDay * (floor_div(slot - origin, kSlotsPerDay) + 1);
    for (int k = 0; k < days; ++k) {
      const int64_t i = latest - k * kSlotsPerDay;
      if (i < 0) break;
      if (i >= size || is_weekend(h, i - delta) != weekend) continue;
      const double v = h.kwh[static_cast<size_t>(i)];
      if (!std::isnan(v)) out.push_back(v);
    }
  }
}

// Linear-interpolation quantile (reorders v); NaN when empty.
double quantile_in_place(std::vector<double>& v, double q) {
  if (v.empty()) return kNaN;
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<size_t>(pos);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(lo), v.end());
  const double low = v[lo];
  if (lo + 1 >= v.size()) return low;
  const double high = *std::min_element(v.begin() + static_cast<std::ptrdiff_t>(lo) + 1, v.end());
  return low + (pos - static_cast<double>(lo)) * (high - low);
}

double mean_of(const std::vector<double>& v) {
  if (v.empty()) return kNaN;
  double sum = 0;
  for (double x : v) sum += x;
  return sum / static_cast<double>(v.size());
}

// Mean of the known slots in [origin - days*48, origin), or of the last `slots` when that is given.
double mean_before(const HalfHourHistory& h, int64_t origin, int days, int64_t slots = 0) {
  const int64_t end = std::min<int64_t>(origin, static_cast<int64_t>(h.kwh.size()));
  double sum = 0;
  int64_t n = 0;
  const int64_t span = slots > 0 ? slots : int64_t{days} * kSlotsPerDay;
  for (int64_t i = std::max<int64_t>(0, origin - span); i < end; ++i) {
    const double v = h.kwh[static_cast<size_t>(i)];
    if (!std::isnan(v)) sum += v, ++n;
  }
  return n > 0 ? sum / static_cast<double>(n) : kNaN;
}

}  // namespace

std::string_view forecast_feature_name(int feature) {
  static constexpr std::array<std::string_view, kForecastFeatureCount> kNames = {
      "median_7d", "median_28d",   "weekday_median",  "day_type_median", "yesterday",          "base_load",
      "q25_7d",    "level_scaled", "median_14d_wide", "mean_7d",         "day_type_scaled_1d", "median_3d"};
  return feature >= 0 && feature < kForecastFeatureCount ? kNames[static_cast<size_t>(feature)] : "?";
}

OriginSummary forecast_origin_summary(const HalfHourHistory& history, int64_t origin, FeatureScratch& scratch) {
  OriginSummary out;
  auto& v = scratch.values;
  v.clear();
  const int64_t end = std::min<int64_t>(origin, static_cast<int64_t>(history.kwh.size()));
  for (int64_t i = std::max<int64_t>(0, origin - kSlotsPerWeek); i < end; ++i) {
    const double x = history.kwh[static_cast<size_t>(i)];
    if (!std::isnan(x)) v.push_back(x);
  }
  out.base_load = quantile_in_place(v, kBaseLoadQuantile);
  v.clear();
  for (int64_t i = std::max<int64_t>(0, origin - int64_t{ForecastSession::kHistoryWindowDays} * kSlotsPerDay); i < end;
       ++i) {
    const double x = history.kwh[static_cast<size_t>(i)];
    if (!std::isnan(x)) v.push_back(x);
  }
  out.month_median = quantile_in_place(v, 0.5);
  const double recent = mean_before(history, origin, kRecentLevelDays);
  const double month = mean_before(history, origin, ForecastSession::kHistoryWindowDays);
  out.month_mean = month;
  if (!std::isnan(recent) && month > 0) out.level_ratio = std::clamp(recent / month, kMinLevelRatio, kMaxLevelRatio);
  const double last_day = mean_before(history, origin, 1);
  if (!std::isnan(last_day) && month > 0) {
    out.day_level_ratio = std::clamp(last_day / month, kMinLevelRatio, kMaxLevelRatio);
  }
  return out;
}

ForecastFeatures forecast_features(const HalfHourHistory& history, int64_t origin, int64_t target,
                                   const OriginSummary& summary, FeatureScratch& scratch) {
  auto& v = scratch.values;
  ForecastFeatures f{};
  const auto at = [](ForecastFeature feature) { return static_cast<size_t>(feature); };
  collect(history, origin, target, kSlotsPerDay, 7, 2, v);
  f[at(ForecastFeature::kMedian7Days)] = quantile_in_place(v, 0.5);
  f[at(ForecastFeature::kLowQuartile7Days)] = quantile_in_place(v, 0.25);
  collect(history, origin, target, kSlotsPerDay, 28, 1, v);
  f[at(ForecastFeature::kMedian28Days)] = quantile_in_place(v, 0.5);
  f[at(ForecastFeature::kLevelScaled)] = f[at(ForecastFeature::kMedian28Days)] * summary.level_ratio;
  collect(history, origin, target, kSlotsPerWeek, 4, 1, v);
  f[at(ForecastFeature::kWeekdayMedian)] = quantile_in_place(v, 0.5);
  collect_day_type(history, origin, target, 21, 2, v);
  f[at(ForecastFeature::kDayTypeMedian)] = quantile_in_place(v, 0.5);
  collect(history, origin, target, kSlotsPerDay, 14, 3, v);
  f[at(ForecastFeature::kMedian14DaysWide)] = quantile_in_place(v, 0.5);
  collect(history, origin, target, kSlotsPerDay, 7, 1, v);
  f[at(ForecastFeature::kMean7Days)] = mean_of(v);
  collect(history, origin, target, kSlotsPerDay, 1, 1, v);
  f[at(ForecastFeature::kYesterday)] = mean_of(v);
  f[at(ForecastFeature::kBaseLoad)] = summary.base_load;
  f[at(ForecastFeature::kDayTypeYesterdayScaled)] = f[at(ForecastFeature::kDayTypeMedian)] * summary.day_level_ratio;
  collect(history, origin, target, kSlotsPerDay, 3, 2, v);
  f[at(ForecastFeature::kMedian3Days)] = quantile_in_place(v, 0.5);
  const double fallback = f[at(ForecastFeature::kMedian28Days)];
  for (double& x : f) {
    if (std::isnan(x)) x = fallback;
  }
  return f;
}

std::string_view tree_input_name(int input) {
  if (input >= 1 && input <= kForecastFeatureCount) return forecast_feature_name(input - 1);
  static constexpr std::array<std::string_view, kTreeInputCount - kForecastFeatureCount - 1> kNames = {
      "slot_of_day",    "weekend",        "level_ratio",    "day_level_ratio",   "log_scale",     "q75_7d",
      "median_7d_wide", "yesterday_slot", "last_week_slot", "median_7d_exact",   "day_of_week",   "last_hours",
      "steps_ahead",    "q90_14d",        "q10_14d",        "weekday_median_8w", "yesterday_max", "month_skew"};
  if (input == 0) return "linear";
  const int k = input - kForecastFeatureCount - 1;
  return k >= 0 && k < static_cast<int>(kNames.size()) ? kNames[static_cast<size_t>(k)] : "?";
}

double linear_point(const ForecastFeatures& features, const ForecastParams& params) {
  double p50 = 0;
  for (size_t k = 0; k < features.size(); ++k) p50 += params.weights[k] * features[k];
  return std::isnan(p50) ? kNaN : std::max(0.0, p50);
}

TreeInputs forecast_tree_inputs(const HalfHourHistory& history, int64_t origin, int64_t target,
                                const OriginSummary& summary, const ForecastFeatures& features, double linear_p50,
                                FeatureScratch& scratch) {
  TreeInputs in{};
  const double scale = summary.month_mean > 0 ? summary.month_mean : kNaN;
  const auto at = [](TreeInput input) { return static_cast<size_t>(input); };
  in[at(TreeInput::kLinear)] = linear_p50 / scale;
  for (size_t k = 0; k < features.size(); ++k) in[k + 1] = features[k] / scale;
  const int64_t local_s = history.start_s + history.utc_offset_s + target * kSlotS;
  const int64_t slot_of_day = floor_mod(local_s, kDayS) / kSlotS;  // a whole slot index
  in[at(TreeInput::kSlotOfDay)] = static_cast<double>(slot_of_day);
  in[at(TreeInput::kWeekend)] = is_weekend(history, target) ? 1.0 : 0.0;
  in[at(TreeInput::kLevelRatio)] = summary.level_ratio;
  in[at(TreeInput::kDayLevelRatio)] = summary.day_level_ratio;
  in[at(TreeInput::kLogScale)] = std::log10(scale);
  auto& v = scratch.values;
  collect(history, origin, target, kSlotsPerDay, 7, 2, v);
  in[at(TreeInput::kHighQuartile7Days)] = quantile_in_place(v, 0.75) / scale;
  collect(history, origin, target, kSlotsPerDay, 7, 6, v);
  in[at(TreeInput::kMedian7DaysWide)] = quantile_in_place(v, 0.5) / scale;
  collect(history, origin, target, kSlotsPerDay, 1, 0, v);
  in[at(TreeInput::kYesterdaySlot)] = v.empty() ? kNaN : v[0] / scale;
  collect(history, origin, target, kSlotsPerWeek, 1, 0, v);
  in[at(TreeInput::kLastWeekSlot)] = v.empty() ? kNaN : v[0] / scale;
  collect(history, origin, target, kSlotsPerDay, 7, 0, v);
  in[at(TreeInput::kMedian7DaysExact)] = quantile_in_place(v, 0.5) / scale;
  in[at(TreeInput::kDayOfWeek)] = static_cast<double>(floor_mod(floor_div(local_s, kDayS) + kThursday, 7));
  in[at(TreeInput::kLastHours)] = (mean_before(history, origin, 1, 4)) / scale;
  in[at(TreeInput::kStepsAhead)] = static_cast<double>(target - origin);
  collect(history, origin, target, kSlotsPerDay, 14, 1, v);
  in[at(TreeInput::kHigh14Days)] = quantile_in_place(v, 0.9) / scale;
  in[at(TreeInput::kLow14Days)] = quantile_in_place(v, 0.1) / scale;
  collect(history, origin, target, kSlotsPerWeek, 8, 1, v);
  in[at(TreeInput::kWeekdayMedian8Weeks)] = quantile_in_place(v, 0.5) / scale;
  collect(history, origin, target, kSlotsPerDay, 1, 2, v);
  in[at(TreeInput::kYesterdayMax)] = v.empty() ? kNaN : *std::max_element(v.begin(), v.end()) / scale;
  in[at(TreeInput::kMonthSkew)] = summary.month_median / scale;
  return in;
}

std::vector<double> point_forecast(const HalfHourHistory& history, int64_t origin, int64_t steps,
                                   const ForecastParams& params) {
  std::vector<double> out(static_cast<size_t>(std::max<int64_t>(steps, 0)), kNaN);
  FeatureScratch scratch;
  const OriginSummary summary = forecast_origin_summary(history, origin, scratch);
  const int64_t distinct = std::min<int64_t>(steps, kSlotsPerWeek);
  const std::span<const ForecastTree> trees(params.trees, params.tree_count);
  for (int64_t i = 0; i < distinct; ++i) {
    const ForecastFeatures f = forecast_features(history, origin, origin + i, summary, scratch);
    const double linear = linear_point(f, params);
    if (trees.empty()) {
      out[static_cast<size_t>(i)] = linear;
      continue;
    }
    const TreeInputs inputs = forecast_tree_inputs(history, origin, origin + i, summary, f, linear, scratch);
    out[static_cast<size_t>(i)] = boosted_point(trees, inputs, linear, summary.month_mean);
  }
  for (int64_t i = distinct; i < steps; ++i) out[static_cast<size_t>(i)] = out[static_cast<size_t>(i - kSlotsPerWeek)];
  return out;
}

}  // namespace wattguard::analytics
