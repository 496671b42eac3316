// A meter's expected use from its own history (analytics' forecast) over the store's rollups: what the cycle
// projection, the slab warning and the dashboard's band rest on. Falls back to nothing (the caller's plain
// average) when the history is too short for the forecast, which then says so.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "wattguard/analytics/forecast.h"
#include "wattguard/base/expected.h"
#include "wattguard/storage/reading_store.h"

namespace wattguard::accounts {

// How far back the forecast reads: its 28-day window, and 28 days before that to measure its own recent
// errors (the band).
inline constexpr int64_t kForecastHistoryDays = 56;

// The meter's half-hours in [from_s, to_s) (both on half-hours) from the 15-minute rollups: a half-hour is
// known when both of its quarters are; NaN otherwise (a gap's energy reappears in the quarter after it, so a
// half-hour next to a gap is not trusted either).
Expected<analytics::HalfHourHistory> stored_half_hours(storage::ReadingStore& store, const std::string& meter,
                                                       int64_t from_s, int64_t to_s, int32_t utc_offset_s);

// Energy (kWh quantiles) from `at_s` to each of `until_s` (ascending), forecast from the meter's history
// before `at_s`; an Error when the forecast refuses (too little history).
Expected<std::vector<analytics::QuantileTotal>> forecast_use(storage::ReadingStore& store, const std::string& meter,
                                                             int64_t at_s, const std::vector<int64_t>& until_s,
                                                             int32_t utc_offset_s);

}  // namespace wattguard::accounts
