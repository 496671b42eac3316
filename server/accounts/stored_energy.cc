// Rollups to billing intervals.
#include "wattguard/accounts/stored_energy.h"

#include <cmath>

namespace wattguard::accounts {

Expected<billing::MeterEnergy> stored_energy(storage::ReadingStore& store, const std::string& meter, int64_t from_s,
                                             int64_t to_s) {
  billing::MeterEnergy energy;
  energy.meter = meter;
  energy.interval_s = kBillingIntervalS;
  if (to_s <= from_s) return energy;
  const auto buckets = static_cast<std::size_t>((to_s - from_s) / kBillingIntervalS + 2);
  auto series = store.readings(meter, from_s * 1000, to_s * 1000, kBillingIntervalS * 1000, buckets);
  if (!series.ok()) return std::move(series).error();
  energy.intervals.reserve(series->points.size());
  for (const storage::AggregatePoint& p : series->points) {
    // Registers are kept in Wh as doubles; one rounding to the nearest µWh per interval.
    const auto uwh = static_cast<int64_t>(std::llround(p.energy_import_wh * 1e6));
    energy.intervals.push_back({p.t_ms / 1000 + kBillingIntervalS, uwh, billing::IntervalQuality::kMeasured});
  }
  return energy;
}

}  // namespace wattguard::accounts
