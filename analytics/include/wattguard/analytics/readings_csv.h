// Reader for the readings CSV (`meter,time,kwh[,register_kwh]`, format in docs/theft-formats.md).
// All or nothing: either every row is valid and the whole file is returned on one grid, or the first
// problem comes back as an Error naming line, field and value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "wattguard/analytics/readings.h"
#include "wattguard/base/expected.h"

namespace wattguard::analytics {

struct ReadingsCsvOptions {
  std::string source = "readings";      // name used in error messages (usually the file name)
  std::optional<int32_t> utc_offset_s;  // local offset for day boundaries; default: from the ISO times, else 0
  int64_t max_cells = 60'000'000;       // meters x intervals on the grid; guards memory against absurd spans
  bool aggregate_to_15min = true;       // sum finer intervals into 15-minute ones (the balance interval)
};

Expected<Readings> parse_readings_csv(std::string_view text, const ReadingsCsvOptions& options = {});

// Reads a file and parses it; I/O problems are Errors too. options.source defaults to the path.
Expected<Readings> read_readings_csv(const std::string& path, ReadingsCsvOptions options = {});

// Reads a whole file into memory; an Error (source = path) when it cannot.
Expected<std::string> read_text_file(const std::string& path, int64_t max_bytes = 4LL << 30);

}  // namespace wattguard::analytics
