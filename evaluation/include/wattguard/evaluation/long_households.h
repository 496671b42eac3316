// Loader for the long-format real household files in shared/data/households-real (README there):
// gzip-compressed `household,time,kwh` rows, `time` the START of a half-hour as a zone-less local label
// ("2009-03-01T00:30"). Yields the same whole local days as real_households.h's loader of the four exports.
#pragma once

#include <string>
#include <vector>

#include "wattguard/base/expected.h"
#include "wattguard/evaluation/real_households.h"

namespace wattguard::evaluation {

// Parses the decompressed text. Households in order of first appearance; complete days only (all 48
// half-hours), ascending; a household with fewer than 7 complete days is left out. An Error naming the line
// for a malformed row (bad time, negative or non-numeric kwh). `max_households` > 0 stops after that many.
Expected<std::vector<RealHousehold>> parse_long_households(const std::string& text, const std::string& source,
                                                           int max_households = 0);

// Reads a .csv.gz (or plain .csv) file with zlib and parses it.
Expected<std::vector<RealHousehold>> load_long_households(const std::string& path, int max_households = 0);

}  // namespace wattguard::evaluation
