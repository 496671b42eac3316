// A meter of the readings CSV (readings.h's grid) as the half-hourly history the forecasts read.
#pragma once

#include "wattguard/analytics/forecast.h"
#include "wattguard/analytics/readings.h"

namespace wattguard::analytics {

// Sums the grid's intervals into the half-hours (UTC-aligned) they start in; an hourly interval is split evenly
// over its two half-hours. A half-hour is NaN unless every interval of it was measured: the reader fills gaps
// from register readings after them and the whole file's profile, which would let later data in. The history
// starts at the half-hour holding the grid's first interval and takes the readings' UTC offset.
HalfHourHistory half_hour_history(const Readings& readings, const MeterSeries& meter);

}  // namespace wattguard::analytics
