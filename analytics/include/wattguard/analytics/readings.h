// Interval energy of many meters on one common time grid: what the readers produce and the analysis consumes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace wattguard::analytics {

// How an interval's energy is known.
enum class Quality : uint8_t {
  kMeasured = 0,  // the meter reported this interval
  kFilled = 1,    // a gap: the register's advance across the gap, spread over it by the meter's usual profile
  kMissing = 2,   // no reading and no register to cover it; energy_kwh is 0 and must not be used
};

struct MeterSeries {
  std::string id;
  std::vector<double> energy_kwh;   // one per grid interval
  std::vector<Quality> quality;     // one per grid interval
  int64_t first_line = 0;           // line of its first row in the source, for messages
  bool register_went_back = false;  // the cumulative register decreased somewhere (reset or rollback tamper)
};

// All meters on one grid: interval k ends at first_end_s + k * interval_s.
struct Readings {
  int64_t first_end_s = 0;
  int64_t interval_s = 900;
  int64_t count = 0;                // intervals on the grid
  int32_t utc_offset_s = 0;         // local offset of the source times (most common), for day boundaries
  int64_t source_interval_s = 900;  // interval of the file before aggregation to 15 minutes
  int64_t rows = 0;                 // data rows read
  int64_t filled_intervals = 0;     // gap intervals covered by register advance
  int64_t missing_intervals = 0;    // gap intervals left missing
  std::vector<MeterSeries> meters;
  std::unordered_map<std::string, size_t> index;  // id -> position in meters

  int64_t end_s(int64_t k) const { return first_end_s + k * interval_s; }
  const MeterSeries* find(std::string_view id) const;
};

}  // namespace wattguard::analytics
