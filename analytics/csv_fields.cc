// Text helpers for the CSV readers: strict parsing so bad rows are reported, never guessed.
#include "wattguard/analytics/csv_fields.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace wattguard::analytics {

LineCursor::LineCursor(std::string_view text) : text_(text) {
  if (text_.size() >= 3 && static_cast<unsigned char>(text_[0]) == 0xEF &&
      static_cast<unsigned char>(text_[1]) == 0xBB && static_cast<unsigned char>(text_[2]) == 0xBF) {
    pos_ = 3;
  }
}

std::optional<TextLine> LineCursor::next() {
  if (pos_ >= text_.size()) return std::nullopt;
  size_t end = text_.find('\n', pos_);
  if (end == std::string_view::npos) end = text_.size();
  std::string_view l = text_.substr(pos_, end - pos_);
  if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
  pos_ = end + 1;
  return TextLine{l, ++number_};
}

std::optional<TextLine> LineCursor::next_record() {
  while (auto line = next()) {
    line->text = trim(line->text);
    if (!line->text.empty() && line->text.front() != '#') return line;
  }
  return std::nullopt;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

Expected<std::vector<std::string>> split_csv_line(std::string_view line) {
  std::vector<std::string> fields;
  size_t i = 0;
  while (true) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::string field;
    if (i < line.size() && line[i] == '"') {
      ++i;
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          closed = true;
          ++i;
          break;
        }
        field.push_back(line[i++]);
      }
      if (!closed) return Error::invalid("", "", "unterminated quoted field");
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i < line.size() && line[i] != ',') return Error::invalid("", "", "text after a closing quote");
    } else {
      const size_t start = i;
      while (i < line.size() && line[i] != ',') ++i;
      field = std::string(trim(line.substr(start, i - start)));
    }
    fields.push_back(std::move(field));
    if (i >= line.size()) break;
    ++i;  // the comma
    if (i == line.size()) {
      fields.emplace_back();  // trailing comma: one more (empty) field
      break;
    }
  }
  return fields;
}

namespace {

bool read_digits(std::string_view s, size_t* pos, size_t count, int64_t* out) {
  int64_t v = 0;
  for (size_t k = 0; k < count; ++k) {
    if (*pos >= s.size() || s[*pos] < '0' || s[*pos] > '9') return false;
    v = v * 10 + (s[*pos] - '0');
    ++*pos;
  }
  *out = v;
  return true;
}

bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(int64_t y, int64_t m) {
  static const unsigned kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return (m == 2 && is_leap(y)) ? 29 : kDays[m - 1];
}

}  // namespace

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

Expected<ParsedTime> parse_time(std::string_view s) {
  s = trim(s);
  if (s.empty()) return Error::invalid("", "", "empty time");
  const bool all_digits = s.find_first_not_of("0123456789") == std::string_view::npos;
  if (all_digits) {
    if (s.size() > 11) return Error::invalid("", "", "Unix seconds out of range");
    int64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return ParsedTime{v, 0, false};
  }
  // ISO 8601: YYYY-MM-DD[T ]HH:MM[:SS[.fff]](Z|+HH:MM|+HHMM|+HH)
  size_t p = 0;
  int64_t year, month, day, hour, minute, second = 0;
  auto fail = [](const char* reason) { return Error::invalid("", "", reason); };
  if (!read_digits(s, &p, 4, &year) || p >= s.size() || s[p++] != '-' || !read_digits(s, &p, 2, &month) ||
      p >= s.size() || s[p++] != '-' || !read_digits(s, &p, 2, &day)) {
    return fail("not Unix seconds or an ISO 8601 date (YYYY-MM-DDTHH:MM:SS+HH:MM)");
  }
  if (p >= s.size() || (s[p] != 'T' && s[p] != ' ')) return fail("ISO 8601 time needs 'T' and a time of day");
  ++p;
  if (!read_digits(s, &p, 2, &hour) || p >= s.size() || s[p++] != ':' || !read_digits(s, &p, 2, &minute)) {
    return fail("time of day must be HH:MM or HH:MM:SS");
  }
  if (p < s.size() && s[p] == ':') {
    ++p;
    if (!read_digits(s, &p, 2, &second)) return fail("seconds must be two digits");
    if (p < s.size() && (s[p] == '.' || s[p] == ',')) {
      ++p;
      size_t digits = 0;
      while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
        if (s[p] != '0') return fail("fractional seconds must be zero: interval ends are whole seconds");
        ++p;
        ++digits;
      }
      if (digits == 0) return fail("missing digits after the decimal point");
    }
  }
  if (month < 1 || month > 12) return fail("month out of range");
  if (day < 1 || day > days_in_month(year, month)) return fail("day out of range for the month");
  if (hour > 23 || minute > 59 || second > 59) return fail("time of day out of range");
  int64_t offset_s = 0;
  if (p >= s.size()) return fail("ISO 8601 time needs an offset (Z or +HH:MM): local time is ambiguous");
  if (s[p] == 'Z' || s[p] == 'z') {
    ++p;
  } else if (s[p] == '+' || s[p] == '-') {
    const int sign = s[p] == '-' ? -1 : 1;
    ++p;
    int64_t oh = 0, om = 0;
    if (!read_digits(s, &p, 2, &oh)) return fail("offset must be +HH:MM");
    if (p < s.size() && s[p] == ':') ++p;
    if (p < s.size() && !read_digits(s, &p, 2, &om)) return fail("offset must be +HH:MM");
    if (oh > 14 || om > 59) return fail("offset out of range");
    offset_s = sign * (oh * 3600 + om * 60);
  } else {
    return fail("ISO 8601 time needs an offset (Z or +HH:MM): local time is ambiguous");
  }
  if (p != s.size()) return fail("unexpected text after the time");
  const int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const int64_t local_s = days * 86400 + hour * 3600 + minute * 60 + second;
  return ParsedTime{local_s - offset_s, static_cast<int32_t>(offset_s), true};
}

std::optional<double> parse_number(std::string_view s) {
  s = trim(s);
  if (s.empty()) return std::nullopt;
  if (s.front() == '+') s.remove_prefix(1);
  // from_chars would accept "nan"/"inf"; only plain decimal (optionally with exponent) is a reading.
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == 'e' || c == 'E' || c == '+')) return std::nullopt;
  }
  double v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::string format_time(int64_t unix_s, int32_t utc_offset_s) {
  const int64_t local = unix_s + utc_offset_s;
  int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
  int64_t sod = local - days * 86400;
  // civil_from_days (Hinnant)
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += (m <= 2);
  char buf[64];
  if (utc_offset_s == 0) {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ", static_cast<long long>(y), m, d,
                  static_cast<long long>(sod / 3600), static_cast<long long>(sod / 60 % 60),
                  static_cast<long long>(sod % 60));
  } else {
    const int32_t a = utc_offset_s < 0 ? -utc_offset_s : utc_offset_s;
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld%c%02d:%02d", static_cast<long long>(y), m, d,
                  static_cast<long long>(sod / 3600), static_cast<long long>(sod / 60 % 60),
                  static_cast<long long>(sod % 60), utc_offset_s < 0 ? '-' : '+', a / 3600, a / 60 % 60);
  }
  return buf;
}

}  // namespace wattguard::analytics
