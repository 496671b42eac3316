// Imports a readings CSV (`meter,time,kwh[,register_kwh]`, analytics' format) into the readings store as
// 15-minute interval energies, for meters that do not report over MQTT themselves (e.g. check meters read by
// another system). All or nothing: every row is checked first and the readings are stored in one transaction.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wattguard/base/expected.h"
#include "wattguard/protocol/messages.h"
#include "wattguard/storage/reading_store.h"

namespace wattguard::grid {

struct ReadingsImportSummary {
  int64_t rows = 0;  // data rows in the file
  size_t meters = 0;
  size_t intervals_stored = 0;    // 15-minute intervals stored
  size_t intervals_skipped = 0;   // already covered by the meter's stored readings (a re-import)
  size_t intervals_filled = 0;    // gaps covered by register_kwh: stored as register advance, not as readings
  size_t intervals_missing = 0;   // gaps nothing covers
  int64_t source_interval_s = 0;  // the file's interval before aggregation to 15 minutes
  int64_t first_end_ms = 0;       // first and last interval end in the file
  int64_t last_end_ms = 0;
};

struct ReadingsImportPlan {
  ReadingsImportSummary summary;
  std::vector<protocol::Reading> readings;
};

// Each stored interval becomes one reading 1 ms before the interval's end (so the store's epoch-aligned
// 15-minute rollup holds exactly that interval's energy), with the cumulative import register continuing from
// the meter's newest stored reading, p_w the interval's mean power and no voltage/current (not measured).
// A meter's first ever interval also gets a reading at its start (register before it), so the first rollup
// has an energy. seq = time_ms, so re-importing a file stores nothing twice. Intervals ending at or before
// the meter's newest stored reading are skipped (counted).
// Errors name the line: bad rows, unknown meters, intervals longer than 15 minutes, times in the future.
Expected<ReadingsImportPlan> plan_readings_import(std::string_view csv_text, const std::string& source,
                                                  storage::ReadingStore& store, int64_t now_ms);

// plan_readings_import, then one append_readings (one transaction). A storage failure is an Error with
// field "storage" (and nothing stored).
Expected<ReadingsImportSummary> import_readings(std::string_view csv_text, const std::string& source,
                                                storage::ReadingStore& store, int64_t now_ms);

}  // namespace wattguard::grid
