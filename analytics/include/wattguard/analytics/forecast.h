// Consumption forecasts of one meter from its own half-hourly history: per-interval quantiles (p10, p50, p90)
// and the energy until a moment such as a billing cycle's end, with an 80 % interval. Method, evaluation and
// measured accuracy: docs/forecasting.md. Pure computation: no clock, no storage, no threads; thread-safe
// (no shared state).
#pragma once

#include <cstdint>
#include <vector>

#include "wattguard/base/expected.h"

namespace wattguard::analytics {

// A meter's half-hourly energy history. Slot k covers [start_s + k*1800, start_s + (k+1)*1800), start_s aligned
// to 1800 s in UTC; NaN = missing. utc_offset_s places the local days and weeks the model learns its shape in.
struct HalfHourHistory {
  int64_t start_s = 0;
  int32_t utc_offset_s = 0;
  std::vector<double> kwh;
};

// Slot i covers [at_s + i*step_s, at_s + (i+1)*step_s); kWh per slot. p10 <= p50 <= p90, all >= 0.
struct IntervalForecast {
  int64_t at_s = 0;
  int32_t step_s = 1800;
  std::vector<double> p10, p50, p90;
};

// kWh over a span: the median and an 80 % interval.
struct QuantileTotal {
  double p10 = 0, p50 = 0, p90 = 0;
};

// Largest horizon forecast_intervals accepts (31 days of half-hours): beyond it the weekly shape of the last
// weeks says little.
inline constexpr int32_t kMaxForecastSteps = 31 * 48;
// Longest span forecast_energy_until accepts (62 days): the rest of a bimonthly billing cycle.
inline constexpr int32_t kMaxTotalSteps = 62 * 48;

// From the data before at_s only. at_s is rounded down to a half-hour. An Error (code kInvalidInput, reason
// "insufficient_history", message naming how many days are there and how many are needed) when there is too
// little history: it says so and never guesses. Also kInvalidInput for a horizon outside 1..kMaxForecastSteps
// or a start_s not on a half-hour.
Expected<IntervalForecast> forecast_intervals(const HalfHourHistory& history, int64_t at_s, int32_t horizon_steps);

// Energy from at_s (rounded down to a half-hour) to until_s (e.g. the billing cycle's end; a partial last
// half-hour counts pro rata), from the data before at_s only. The median corrects the per-slot medians' known
// shortfall on totals (consumption is skewed: the sum of medians is below the median of the sum) by the meter's
// recent daily bias, and the 80 % interval accounts for neighbouring days' errors being correlated (it does not
// sum per-slot quantiles). {0, 0, 0} when until_s <= at_s. Errors as forecast_intervals, and kInvalidInput when
// the span exceeds kMaxTotalSteps half-hours.
Expected<QuantileTotal> forecast_energy_until(const HalfHourHistory& history, int64_t at_s, int64_t until_s);

}  // namespace wattguard::analytics
