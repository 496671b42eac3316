// The forecasting model behind forecast.h, with its parameters exposed, for callers that forecast one history
// many times (the rolling day-ahead benchmark, `bench forecast --tune`): a session remembers the day-ahead point
// forecasts it has made, which the intervals' residuals reuse, so a rolling evaluation computes each once.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "wattguard/analytics/forecast.h"
#include "wattguard/base/expected.h"

namespace wattguard::analytics {

inline constexpr int kSlotsPerDay = 48;
inline constexpr int kSlotsPerWeek = 7 * kSlotsPerDay;
inline constexpr int kForecastFeatureCount = 12;
struct ForecastTree;  // forecast_trees.h

// What the model may be tuned by. Defaults (default_forecast_params()) were chosen on the tuning split only,
// with `wattguard bench forecast --tune` (docs/forecasting.md).
struct ForecastParams {
  // p50 = sum of weights[i] * feature i (forecast_features.h lists the features); no intercept, so a meter's
  // forecast scales with its own consumption.
  std::array<double, kForecastFeatureCount> weights{};
  // Boosted trees that refine the linear p50 (forecast_trees.h), fitted on top of these weights: refit them
  // whenever the weights change. None: the linear blend alone.
  const ForecastTree* trees = nullptr;
  size_t tree_count = 0;
  // p10 and p90 are p50 plus these quantiles of the meter's recent day-ahead residuals, chosen so that the
  // tuning split's p10-p90 band covers 80 %.
  double lower_quantile = 0.1;
  double upper_quantile = 0.9;
  // Multiplies the normal-theory half-width of a total's 80 % interval (calibrated on the tuning split).
  double total_spread_scale = 1.0;
};

const ForecastParams& default_forecast_params();

// Forecasts of one history (held by reference: it must outlive the session). Not thread-safe (the memo).
class ForecastSession {
 public:
  explicit ForecastSession(const HalfHourHistory& history, ForecastParams params = default_forecast_params());

  // As forecast_intervals and forecast_energy_until, with origins as slot indices into history.kwh.
  Expected<IntervalForecast> intervals(int64_t origin, int32_t steps);
  Expected<QuantileTotal> energy_until(int64_t origin, double until_slot);

  // The model's point forecast (p50) for one day (48 slots) from `origin`, from the data before it; NaN
  // where the history holds nothing to forecast from. Remembered.
  const std::array<double, kSlotsPerDay>& day_points(int64_t origin);

  // Days of readings in the window the model reads before `origin`, and the minimum it needs.
  double history_days(int64_t origin) const;
  static constexpr int kMinHistoryDays = 14;
  static constexpr int kHistoryWindowDays = 28;

 private:
  // The meter's day-ahead residuals (actual - p50) of the kResidualDays days before `origin`, by step
  // (0..47) from each earlier origin; NaN where unknown.
  struct RecentResiduals {
    std::vector<std::array<double, kSlotsPerDay>> by_day;
    std::vector<double> day_totals;  // per day with 3/4 of it known (scaled to 48 slots), oldest first
  };
  RecentResiduals recent_residuals(int64_t origin);
  Expected<void> check_history(int64_t origin) const;

  const HalfHourHistory& history_;
  ForecastParams params_;
  std::vector<int32_t> known_before_;  // known_before_[i]: known slots in history_.kwh[0, i)
  std::map<int64_t, std::array<double, kSlotsPerDay>> day_points_;
};

}  // namespace wattguard::analytics
