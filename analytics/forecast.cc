// forecast.h's entry points: times to slot indices, then one ForecastSession.
#include "wattguard/analytics/forecast.h"

#include <string>

#include "wattguard/analytics/forecast_session.h"
#include "wattguard/base/floor_division.h"

namespace wattguard::analytics {
namespace {

constexpr int64_t kSlotS = 1800;

Expected<int64_t> origin_of(const HalfHourHistory& history, int64_t at_s) {
  if (floor_mod(history.start_s, kSlotS) != 0) {
    return Error::invalid("start_s", std::to_string(history.start_s), "a history must start on a half-hour (UTC)");
  }
  return (floor_div(at_s, kSlotS) * kSlotS - history.start_s) / kSlotS;
}

}  // namespace

Expected<IntervalForecast> forecast_intervals(const HalfHourHistory& history, int64_t at_s, int32_t horizon_steps) {
  auto origin = origin_of(history, at_s);
  if (!origin.ok()) return std::move(origin).error();
  ForecastSession session(history);
  return session.intervals(origin.value(), horizon_steps);
}

Expected<QuantileTotal> forecast_energy_until(const HalfHourHistory& history, int64_t at_s, int64_t until_s) {
  auto origin = origin_of(history, at_s);
  if (!origin.ok()) return std::move(origin).error();
  ForecastSession session(history);
  const double until_slot = static_cast<double>(until_s - history.start_s) / kSlotS;
  return session.energy_until(origin.value(), until_slot);
}

}  // namespace wattguard::analytics
