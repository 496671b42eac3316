// From the readings grid (15-minute, half-hour or hourly intervals) to half-hours.
#include "wattguard/analytics/forecast_history.h"

#include <algorithm>
#include <limits>

#include "wattguard/base/floor_division.h"

namespace wattguard::analytics {
namespace {

constexpr int64_t kSlotS = 1800;

}  // namespace

HalfHourHistory half_hour_history(const Readings& readings, const MeterSeries& meter) {
  HalfHourHistory out;
  out.utc_offset_s = readings.utc_offset_s;
  if (readings.count <= 0) return out;
  const int64_t first_start = readings.first_end_s - readings.interval_s;
  out.start_s = floor_div(first_start, kSlotS) * kSlotS;
  const int64_t last_end = readings.end_s(readings.count - 1);
  const auto slots = static_cast<size_t>((last_end - out.start_s + kSlotS - 1) / kSlotS);
  std::vector<double> sum(slots, 0.0);
  std::vector<int64_t> covered_s(slots, 0);  // seconds of the half-hour with a usable reading
  for (int64_t k = 0; k < readings.count; ++k) {
    const auto ku = static_cast<size_t>(k);
    if (ku >= meter.energy_kwh.size() || meter.quality[ku] != Quality::kMeasured) continue;
    const int64_t start = readings.end_s(k) - readings.interval_s;
    // An interval longer than a half-hour is spread evenly over the half-hours it starts.
    const int64_t parts = std::max<int64_t>(1, readings.interval_s / kSlotS);
    const int64_t part_s = readings.interval_s / parts;
    for (int64_t p = 0; p < parts; ++p) {
      const auto slot = static_cast<size_t>((start + p * part_s - out.start_s) / kSlotS);
      if (slot >= slots) continue;
      sum[slot] += meter.energy_kwh[ku] / static_cast<double>(parts);
      covered_s[slot] += part_s;
    }
  }
  out.kwh.assign(slots, std::numeric_limits<double>::quiet_NaN());
  for (size_t i = 0; i < slots; ++i) {
    if (covered_s[i] >= kSlotS) out.kwh[i] = sum[i];
  }
  return out;
}

}  // namespace wattguard::analytics
