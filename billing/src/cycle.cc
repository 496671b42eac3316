// Billing cycles in a fixed UTC offset: civil dates through <chrono>'s calendar, instants as integers.
#include "wattguard/billing/cycle.h"

#include <cassert>
#include <chrono>
#include <cstdio>

#include "wattguard/base/floor_division.h"

namespace wattguard::billing {
namespace {

constexpr int64_t kSecondsPerDay = 86'400;
constexpr int32_t kMaxOffsetS = 14 * 3600;  // the largest offset in use (Kiribati, +14:00)

Error reason(std::string message) { return Error::invalid("", "", std::move(message)); }

// First month of the cycle containing `month`: the month itself, or the odd month before an even one.
int first_month_of_cycle(int month, CycleKind kind) {
  return kind == CycleKind::kBimonthly && month % 2 == 0 ? month - 1 : month;
}

Cycle make_cycle(int year, int month, CycleKind kind, int32_t utc_offset_s) {
  Cycle c;
  c.year = year;
  c.month = first_month_of_cycle(month, kind);
  c.months = kind == CycleKind::kBimonthly ? 2 : 1;
  c.start_s = local_midnight_s(year, c.month, 1, utc_offset_s);
  int end_month = c.month + c.months;
  int end_year = year;
  if (end_month > 12) {
    end_month -= 12;
    ++end_year;
  }
  c.end_s = local_midnight_s(end_year, end_month, 1, utc_offset_s);
  return c;
}

bool digits_only(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return !s.empty();
}

int to_int(std::string_view digits) {
  int v = 0;
  for (char c : digits) v = v * 10 + (c - '0');
  return v;
}

}  // namespace

std::string_view cycle_kind_name(CycleKind kind) { return kind == CycleKind::kMonthly ? "monthly" : "bimonthly"; }

Expected<int32_t> parse_utc_offset(std::string_view text) {
  const bool shape = text.size() == 6 && (text[0] == '+' || text[0] == '-') && digits_only(text.substr(1, 2)) &&
                     text[3] == ':' && digits_only(text.substr(4, 2));
  if (!shape) return reason("must be a fixed UTC offset written +HH:MM or -HH:MM, such as \"+05:30\"");
  const int hours = to_int(text.substr(1, 2));
  const int minutes = to_int(text.substr(4, 2));
  if (minutes % 15 != 0 || minutes >= 60) return reason("offset minutes must be 00, 15, 30 or 45");
  const int32_t magnitude = hours * 3600 + minutes * 60;
  if (magnitude > kMaxOffsetS) return reason("offset beyond 14:00 from UTC");
  return text[0] == '-' ? -magnitude : magnitude;
}

std::string format_utc_offset(int32_t utc_offset_s) {
  const int32_t magnitude = utc_offset_s < 0 ? -utc_offset_s : utc_offset_s;
  char text[16];
  std::snprintf(text, sizeof text, "%c%02d:%02d", utc_offset_s < 0 ? '-' : '+', magnitude / 3600, magnitude / 60 % 60);
  return text;
}

std::string Cycle::label() const {
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02d", year, month);
  return text;
}

int64_t local_midnight_s(int year, int month, int day, int32_t utc_offset_s) {
  using namespace std::chrono;
  const year_month_day date{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                            std::chrono::day{static_cast<unsigned>(day)}};
  assert(date.ok());
  const int64_t days = sys_days{date}.time_since_epoch().count();
  return days * kSecondsPerDay - utc_offset_s;
}

Cycle cycle_containing(int64_t instant_s, CycleKind kind, int32_t utc_offset_s) {
  using namespace std::chrono;
  const int64_t local_day = floor_div(instant_s + utc_offset_s, kSecondsPerDay);
  const year_month_day date{sys_days{std::chrono::days{local_day}}};
  return make_cycle(static_cast<int>(date.year()), static_cast<int>(static_cast<unsigned>(date.month())), kind,
                    utc_offset_s);
}

Cycle next_cycle(const Cycle& cycle, CycleKind kind, int32_t utc_offset_s) {
  int month = cycle.month + cycle.months;
  int year = cycle.year;
  if (month > 12) {
    month -= 12;
    ++year;
  }
  return make_cycle(year, month, kind, utc_offset_s);
}

Expected<Cycle> cycle_of_month(std::string_view year_month, CycleKind kind, int32_t utc_offset_s) {
  const bool shape = year_month.size() == 7 && digits_only(year_month.substr(0, 4)) && year_month[4] == '-' &&
                     digits_only(year_month.substr(5, 2));
  if (!shape) return reason("a cycle is named by its month, YYYY-MM, such as 2024-03");
  const int year = to_int(year_month.substr(0, 4));
  const int month = to_int(year_month.substr(5, 2));
  if (year < 1000 || year > 9998) return reason("year out of range (1000 to 9998)");
  if (month < 1 || month > 12) return reason("month out of range");
  return make_cycle(year, month, kind, utc_offset_s);
}

int minute_of_day(int64_t instant_s, int32_t utc_offset_s) {
  return static_cast<int>(floor_mod(instant_s + utc_offset_s, kSecondsPerDay) / 60);
}

}  // namespace wattguard::billing
