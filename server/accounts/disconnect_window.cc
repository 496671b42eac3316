// Fair-disconnection rules.
#include "wattguard/accounts/disconnect_window.h"

#include <algorithm>
#include <cstdio>

#include "wattguard/base/floor_division.h"

namespace wattguard::accounts {
namespace {

constexpr int64_t kDaySeconds = 86'400;

std::string hh_mm(int minute) {
  char text[24];
  std::snprintf(text, sizeof text, "%02d:%02d", minute / 60, minute % 60);
  return text;
}

}  // namespace

std::string local_date(int64_t instant_s, int32_t utc_offset_s) {
  // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm, proleptic Gregorian).
  const int64_t days = floor_div(instant_s + utc_offset_s, kDaySeconds);
  const int64_t z = days + 719'468;
  const int64_t era = floor_div(z, 146'097);
  const int64_t doe = z - era * 146'097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  char text[48];
  std::snprintf(text, sizeof text, "%04lld-%02lld-%02lld", static_cast<long long>(year), static_cast<long long>(month),
                static_cast<long long>(day));
  return text;
}

DisconnectVerdict may_disconnect(const PrepaidConfig& rules, int32_t utc_offset_s, int64_t instant_s,
                                 bool protected_supply) {
  if (protected_supply) return {false, "protected supply"};
  const int64_t local = instant_s + utc_offset_s;
  const int64_t days = floor_div(local, kDaySeconds);
  // 1970-01-01 was a Thursday: day 0 is weekday 4 (Sunday = 0).
  const int64_t weekday = floor_mod(days + 4, 7);
  if (!rules.weekends && (weekday == 0 || weekday == 6)) return {false, "weekend"};
  const std::string date = local_date(instant_s, utc_offset_s);
  if (std::find(rules.holidays.begin(), rules.holidays.end(), date) != rules.holidays.end()) {
    return {false, "holiday " + date};
  }
  const int minute = static_cast<int>(floor_mod(local, kDaySeconds) / 60);
  if (minute < rules.allowed_from_minute || minute >= rules.allowed_to_minute) {
    return {false, "outside " + hh_mm(rules.allowed_from_minute) + "-" + hh_mm(rules.allowed_to_minute)};
  }
  return {true, ""};
}

}  // namespace wattguard::accounts
