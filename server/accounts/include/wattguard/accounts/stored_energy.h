// A meter's interval energy as bills use it, read from the store's 15-minute rollups.
#pragma once

#include <cstdint>
#include <string>

#include "wattguard/base/expected.h"
#include "wattguard/billing/meter_energy.h"
#include "wattguard/storage/reading_store.h"

namespace wattguard::accounts {

// The interval every bill on the server is computed at: the finest rollup kept for years.
inline constexpr int64_t kBillingIntervalS = 900;

// The meter's imported energy in 15-minute intervals in [from_s, to_s). Each interval's energy is the advance
// of the meter's own import register across it (storage's rollup rule), so a gap's energy is counted in the
// first interval after it, never lost; intervals without readings are absent. kNotFound for an unknown meter.
Expected<billing::MeterEnergy> stored_energy(storage::ReadingStore& store, const std::string& meter, int64_t from_s,
                                             int64_t to_s);

}  // namespace wattguard::accounts
