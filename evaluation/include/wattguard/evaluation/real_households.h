// Loader for the real half-hourly household exports in shared/data/households (NEM12-style `300` rows, the
// retailer's wide daily rows, and the long one-row-per-interval format), as whole local days of 48 values.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "wattguard/base/expected.h"

namespace wattguard::evaluation {

struct RealDay {
  int64_t day = 0;              // days since 1970-01-01 (local calendar date)
  std::array<float, 48> kwh{};  // half-hours from local midnight
};

struct RealHousehold {
  std::string name;           // file stem
  std::vector<RealDay> days;  // ascending, complete days only; leading all-zero days (before go-live) dropped
};

// Parses one export; the format is recognised from its content.
Expected<RealHousehold> parse_real_household(const std::string& text, const std::string& name);
// Every *.csv in a directory (sorted by name). Errors when none can be read.
Expected<std::vector<RealHousehold>> load_real_households(const std::string& directory);

}  // namespace wattguard::evaluation
