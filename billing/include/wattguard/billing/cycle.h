// Billing cycles: calendar months, or pairs of them, in a tariff's fixed UTC offset. Everything here is integer
// arithmetic on Unix seconds; there is no daylight saving (an offset is fixed), so every local day has 86,400 s.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "wattguard/base/expected.h"

namespace wattguard::billing {

enum class CycleKind : uint8_t {
  kMonthly,    // one calendar month
  kBimonthly,  // two calendar months, starting in an odd month: Jan-Feb, Mar-Apr, ..., Nov-Dec
};

// "monthly" or "bimonthly", as written in a tariff.
std::string_view cycle_kind_name(CycleKind kind);

// Offsets a tariff may name: "+05:30", "-09:30", "+00:00" (sign, two-digit hours up to 14, two-digit minutes
// 00, 15, 30 or 45, as every offset in use is). An Error (message only) for anything else, named zones
// ("Asia/Kolkata") included: their daylight-saving rules would make a cycle's length depend on a zone database.
Expected<int32_t> parse_utc_offset(std::string_view text);
// "+05:30" for 19'800.
std::string format_utc_offset(int32_t utc_offset_s);

// One cycle: [start_s, end_s), local midnights in the tariff's offset.
struct Cycle {
  int year = 1970;
  int month = 1;        // first month, 1 to 12
  int months = 1;       // 1 (monthly) or 2 (bimonthly)
  int64_t start_s = 0;  // local midnight starting the first day (inclusive)
  int64_t end_s = 0;    // local midnight after the last day (exclusive)

  // "YYYY-MM" of the first month: a bimonthly cycle of March and April is "2024-03".
  std::string label() const;
  bool contains(int64_t instant_s) const { return instant_s >= start_s && instant_s < end_s; }
  friend bool operator==(const Cycle&, const Cycle&) = default;
};

// Unix seconds of the local midnight that starts year-month-day. REQUIRES: a valid date, year 0 to 9999.
int64_t local_midnight_s(int year, int month, int day, int32_t utc_offset_s);

// The cycle that contains the instant. REQUIRES: the instant lies in the years 1 to 9998 (readings do).
Cycle cycle_containing(int64_t instant_s, CycleKind kind, int32_t utc_offset_s);

// The cycle that starts at `cycle.end_s`.
Cycle next_cycle(const Cycle& cycle, CycleKind kind, int32_t utc_offset_s);

// The cycle that contains the month "YYYY-MM" (years 1000 to 9998): for bimonthly cycles "2024-04" gives the
// cycle "2024-03". An Error (message only) for any other text.
Expected<Cycle> cycle_of_month(std::string_view year_month, CycleKind kind, int32_t utc_offset_s);

// The local minute of the day (0 to 1439) at the instant.
int minute_of_day(int64_t instant_s, int32_t utc_offset_s);

}  // namespace wattguard::billing
