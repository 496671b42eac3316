// When an automatic disconnection for lack of credit is allowed: fair-disconnection rules as regulators write
// them (never at night, at weekends or on public holidays, never a protected supply), in the tariff's zone.
#pragma once

#include <cstdint>
#include <string>

#include "wattguard/accounts/accounts_config.h"

namespace wattguard::accounts {

struct DisconnectVerdict {
  bool allowed = false;
  std::string why_not;  // "outside 10:00-16:00", "weekend", "holiday 2026-12-25", "protected supply"
};

// Whether the server may disconnect a meter at the instant. `utc_offset_s` is the meter's tariff zone.
DisconnectVerdict may_disconnect(const PrepaidConfig& rules, int32_t utc_offset_s, int64_t instant_s,
                                 bool protected_supply);

// "YYYY-MM-DD" of the local date at the instant.
std::string local_date(int64_t instant_s, int32_t utc_offset_s);

}  // namespace wattguard::accounts
