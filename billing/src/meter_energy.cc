// Readings CSV -> integer interval energy, through analytics' reader.
#include "wattguard/billing/meter_energy.h"

#include <cmath>

#include "wattguard/analytics/readings_csv.h"
#include "wattguard/billing/tariff.h"

namespace wattguard::billing {
namespace {

std::vector<MeterEnergy> from_readings(const analytics::Readings& readings) {
  std::vector<MeterEnergy> out;
  out.reserve(readings.meters.size());
  for (const analytics::MeterSeries& series : readings.meters) {
    MeterEnergy meter;
    meter.meter = series.id;
    meter.interval_s = readings.interval_s;
    meter.intervals.resize(static_cast<size_t>(readings.count));
    for (int64_t k = 0; k < readings.count; ++k) {
      const auto i = static_cast<size_t>(k);
      IntervalEnergy& interval = meter.intervals[i];
      interval.end_s = readings.end_s(k);
      switch (series.quality[i]) {
        case analytics::Quality::kMeasured: interval.quality = IntervalQuality::kMeasured; break;
        case analytics::Quality::kFilled: interval.quality = IntervalQuality::kEstimated; break;
        case analytics::Quality::kMissing: interval.quality = IntervalQuality::kMissing; break;
      }
      // The reader caps an interval at 100,000 kWh, so this product stays below 1e14.
      interval.energy_uwh = interval.quality == IntervalQuality::kMissing
                                ? 0
                                : std::llround(series.energy_kwh[i] * static_cast<double>(kUwhPerKwh));
    }
    out.push_back(std::move(meter));
  }
  return out;
}

analytics::ReadingsCsvOptions reader_options(const std::string& source) {
  analytics::ReadingsCsvOptions options;
  options.source = source;
  options.aggregate_to_15min = false;
  return options;
}

}  // namespace

Expected<std::vector<MeterEnergy>> parse_meter_energy(std::string_view csv_text, const std::string& source) {
  auto readings = analytics::parse_readings_csv(csv_text, reader_options(source));
  if (!readings.ok()) return std::move(readings).error();
  return from_readings(readings.value());
}

Expected<std::vector<MeterEnergy>> read_meter_energy(const std::string& path) {
  auto readings = analytics::read_readings_csv(path, reader_options(path));
  if (!readings.ok()) return std::move(readings).error();
  return from_readings(readings.value());
}

}  // namespace wattguard::billing
