// Reads tariffs from TOML (`[[tariff]]` tables; schema and rules in docs/billing.md) and refuses a bad one at
// load: the Error names the file, the line, the field ("slabs[1].upto_kwh") and the value. Numbers are read
// from their decimal text in the file, never through the double a TOML parser makes of them.
#pragma once

#include <string>
#include <string_view>

#include "wattguard/base/expected.h"
#include "wattguard/billing/tariff.h"

namespace wattguard::billing {

// Limits that keep every product of energy, rate and factor inside 128-bit integers and every amount inside
// int64, with room: no real tariff comes near them.
inline constexpr int64_t kMaxRateMajor = 100'000;      // per kWh
inline constexpr int64_t kMaxUptoKwh = 1'000'000'000;  // a slab bound
inline constexpr int64_t kMaxFixedChargeMajor = 1'000'000'000;
inline constexpr int64_t kMaxTodFactor = 10;
inline constexpr size_t kMaxSlabs = 64;
inline constexpr size_t kMaxTodWindows = 48;
inline constexpr size_t kMaxTariffIdLength = 64;

// Every tariff of the text, validated; `source` names it in errors. A tariff file holds `[[tariff]]` tables
// only; the server's config holds them among its other sections (`kAmongOtherTables`: those are left to it,
// and a text without [[tariff]] gives an empty book).
enum class TariffText : uint8_t { kTariffFile, kAmongOtherTables };
Expected<TariffBook> parse_tariffs(std::string_view toml_text, const std::string& source,
                                   TariffText kind = TariffText::kTariffFile);

// Reads the file and parses it; a file that cannot be read is an io_error naming it.
Expected<TariffBook> read_tariff_file(const std::string& path);

}  // namespace wattguard::billing
