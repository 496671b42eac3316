// Rollups to the forecast's half-hours, and the forecast of a meter's use.
#include "wattguard/accounts/use_forecast.h"

#include <cmath>
#include <limits>

#include "wattguard/accounts/stored_energy.h"
#include "wattguard/analytics/forecast_session.h"

namespace wattguard::accounts {
namespace {

constexpr int64_t kHalfHourS = 1800;
constexpr int64_t kDayS = 86'400;

}  // namespace

Expected<analytics::HalfHourHistory> stored_half_hours(storage::ReadingStore& store, const std::string& meter,
                                                       int64_t from_s, int64_t to_s, int32_t utc_offset_s) {
  auto energy = stored_energy(store, meter, from_s, to_s);
  if (!energy.ok()) return std::move(energy).error();
  analytics::HalfHourHistory h;
  h.start_s = from_s;
  h.utc_offset_s = utc_offset_s;
  const auto slots = static_cast<size_t>((to_s - from_s) / kHalfHourS);
  std::vector<int> quarters(slots, 0);
  std::vector<double> kwh(slots, 0.0);
  for (const auto& interval : energy->intervals) {
    const int64_t start = interval.end_s - kBillingIntervalS;
    if (start < from_s || start >= to_s) continue;
    const auto slot = static_cast<size_t>((start - from_s) / kHalfHourS);
    ++quarters[slot];
    kwh[slot] += static_cast<double>(interval.energy_uwh) / 1e9;
  }
  h.kwh.assign(slots, std::numeric_limits<double>::quiet_NaN());
  for (size_t i = 0; i < slots; ++i) {
    if (quarters[i] == 2) h.kwh[i] = kwh[i];
  }
  return h;
}

Expected<std::vector<analytics::QuantileTotal>> forecast_use(storage::ReadingStore& store, const std::string& meter,
                                                             int64_t at_s, const std::vector<int64_t>& until_s,
                                                             int32_t utc_offset_s) {
  const int64_t origin_s = at_s - (at_s % kHalfHourS + kHalfHourS) % kHalfHourS;
  const int64_t from_s = origin_s - kForecastHistoryDays * kDayS;
  auto history = stored_half_hours(store, meter, from_s, origin_s, utc_offset_s);
  if (!history.ok()) return std::move(history).error();
  analytics::ForecastSession session(history.value());
  const auto origin = static_cast<int64_t>(history->kwh.size());
  std::vector<analytics::QuantileTotal> out;
  out.reserve(until_s.size());
  for (int64_t until : until_s) {
    // The forecast starts at the half-hour holding `at_s`; what was used since is already measured.
    const double until_slot = static_cast<double>(origin) + static_cast<double>(until - origin_s) / kHalfHourS;
    auto total = session.energy_until(origin, until_slot);
    if (!total.ok()) return std::move(total).error();
    if (until > at_s && at_s > origin_s) {
      // Take off the part of the first half-hour that is already past, pro rata.
      const double past = static_cast<double>(at_s - origin_s) / static_cast<double>(until - origin_s);
      total->p10 *= 1.0 - past;
      total->p50 *= 1.0 - past;
      total->p90 *= 1.0 - past;
    }
    out.push_back(total.value());
  }
  return out;
}

}  // namespace wattguard::accounts
