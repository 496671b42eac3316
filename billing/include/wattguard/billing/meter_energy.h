// A meter's interval energy as bills use it (integer µWh per interval), and the reader that makes it from a
// readings CSV (`meter,time,kwh[,register_kwh]`, the `theft scan` format of docs/theft-formats.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wattguard/base/expected.h"

namespace wattguard::billing {

enum class IntervalQuality : uint8_t {
  kMeasured,   // the meter reported this interval
  kEstimated,  // a gap covered by the register's advance, spread by the meter's usual profile
  kMissing,    // no reading and no register across it: no energy is known (energy_uwh is 0)
};

struct IntervalEnergy {
  int64_t end_s = 0;       // end of the interval, Unix seconds; it starts interval_s earlier
  int64_t energy_uwh = 0;  // energy imported in it, µWh
  IntervalQuality quality = IntervalQuality::kMeasured;
};

// One meter's intervals on one grid, in increasing end_s.
struct MeterEnergy {
  std::string meter;
  int64_t interval_s = 900;
  std::vector<IntervalEnergy> intervals;
};

// Every meter of the CSV, in the order each first appears. Rows are read and checked by analytics' reader
// (the same rules and messages as `theft scan`), at the file's own interval (not summed to 15 minutes, so
// time-of-day windows see each interval). Each interval's kWh becomes µWh by rounding to the nearest µWh once:
// exact for every kWh written with up to 9 decimals, since the reader's double of such a text (at most 100,000
// kWh) is within 1e-11 kWh of it. An Error names file, line, field and value.
Expected<std::vector<MeterEnergy>> parse_meter_energy(std::string_view csv_text, const std::string& source);
Expected<std::vector<MeterEnergy>> read_meter_energy(const std::string& path);

}  // namespace wattguard::billing
