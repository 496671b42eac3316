// Target parsing and the typed query values (times, steps, integers, lists).
#include "wattguard/api/request_target.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace wattguard::api {
namespace {

int hex_value(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

bool is_digit(char ch) { return ch >= '0' && ch <= '9'; }

// Reads exactly `n` digits at s[pos]; advances pos.
std::optional<int> read_digits(std::string_view s, std::size_t& pos, std::size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char ch = s[pos + i];
    if (!is_digit(ch)) return std::nullopt;
    value = value * 10 + (ch - '0');
  }
  pos += n;
  return value;
}

// Days since 1970-01-01 of a proleptic Gregorian date (era-based, valid for any year).
int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;                                   // [0, 399]
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;  // [0, 365]
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           // [0, 146096]
  return era * 146097 + doe - 719468;
}

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

std::optional<int64_t> parse_unix_seconds(std::string_view s) {
  std::size_t pos = 0;
  int64_t value = 0;
  if (s.empty() || !is_digit(s[0])) return std::nullopt;
  while (pos < s.size() && is_digit(s[pos])) {
    if (value > 100'000'000'000LL) return std::nullopt;  // beyond year 5000
    value = value * 10 + (s[pos] - '0');
    ++pos;
  }
  if (pos < s.size()) {
    if (s[pos] != '.') return std::nullopt;
    ++pos;
    if (pos == s.size()) return std::nullopt;
    while (pos < s.size()) {
      if (!is_digit(s[pos])) return std::nullopt;
      ++pos;
    }
  }
  return value;
}

std::optional<int64_t> parse_iso8601(std::string_view s) {
  std::size_t pos = 0;
  const auto year = read_digits(s, pos, 4);
  if (!year || pos >= s.size() || s[pos++] != '-') return std::nullopt;
  const auto month = read_digits(s, pos, 2);
  if (!month || pos >= s.size() || s[pos++] != '-') return std::nullopt;
  const auto day = read_digits(s, pos, 2);
  if (!day || *month < 1 || *month > 12 || *day < 1 || *day > days_in_month(*year, *month)) return std::nullopt;
  int64_t seconds = days_from_civil(*year, *month, *day) * 86400;
  if (pos == s.size()) return seconds >= 0 ? std::optional<int64_t>(seconds) : std::nullopt;

  if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return std::nullopt;
  ++pos;
  const auto hour = read_digits(s, pos, 2);
  if (!hour || pos >= s.size() || s[pos++] != ':') return std::nullopt;
  const auto minute = read_digits(s, pos, 2);
  if (!minute || *hour > 23 || *minute > 59) return std::nullopt;
  int second = 0;
  if (pos < s.size() && s[pos] == ':') {
    ++pos;
    const auto sec = read_digits(s, pos, 2);
    if (!sec || *sec > 60) return std::nullopt;  // 60: a leap second, counted as the next minute
    second = *sec;
    if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
      ++pos;
      const std::size_t start = pos;
      while (pos < s.size() && is_digit(s[pos])) ++pos;
      if (pos == start) return std::nullopt;
    }
  }
  seconds += *hour * 3600 + *minute * 60 + second;

  if (pos < s.size()) {
    const char zone = s[pos++];
    if (zone == 'Z' || zone == 'z') {
      if (pos != s.size()) return std::nullopt;
    } else if (zone == '+' || zone == '-') {
      const auto off_h = read_digits(s, pos, 2);
      if (!off_h) return std::nullopt;
      if (pos < s.size() && s[pos] == ':') ++pos;
      const auto off_m = read_digits(s, pos, 2);
      if (!off_m || pos != s.size() || *off_h > 23 || *off_m > 59) return std::nullopt;
      const int offset_s = *off_h * 3600 + *off_m * 60;
      // Local time = UTC + offset, so UTC = local - offset.
      seconds += zone == '+' ? -offset_s : offset_s;
    } else {
      return std::nullopt;
    }
  }
  if (seconds < 0) return std::nullopt;
  return seconds;
}

}  // namespace

const std::string* RequestTarget::param(std::string_view name) const {
  const std::string* found = nullptr;
  for (const auto& [key, value] : query) {
    if (key == name) found = &value;
  }
  return found;
}

std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char ch = s[i];
    if (ch == '%') {
      if (i + 2 >= s.size()) return std::nullopt;  // needs two hex digits after '%'
      const int hi = hex_value(s[i + 1]);
      const int lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      ch = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (ch == '+' && plus_is_space) {
      ch = ' ';
    }
    if (ch == '\0') return std::nullopt;
    out.push_back(ch);
  }
  return out;
}

std::optional<RequestTarget> parse_target(std::string_view target) {
  if (target.empty() || target[0] != '/') return std::nullopt;
  RequestTarget result;
  const std::size_t qmark = target.find('?');
  const std::string_view raw_path = target.substr(0, qmark);
  auto path = percent_decode(raw_path, false);
  if (!path) return std::nullopt;
  result.path = std::move(*path);
  if (qmark == std::string_view::npos) return result;

  std::string_view query = target.substr(qmark + 1);
  const std::size_t hash = query.find('#');
  if (hash != std::string_view::npos) query = query.substr(0, hash);
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (item.empty()) continue;
    const std::size_t eq = item.find('=');
    auto key = percent_decode(item.substr(0, eq), true);
    auto value = percent_decode(eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1), true);
    if (!key || !value) return std::nullopt;
    result.query.emplace_back(std::move(*key), std::move(*value));
  }
  return result;
}

std::vector<std::string> path_segments(std::string_view path) {
  std::vector<std::string> segments;
  std::size_t pos = 0;
  while (pos < path.size()) {
    const std::size_t slash = path.find('/', pos);
    const std::size_t end = slash == std::string_view::npos ? path.size() : slash;
    if (end > pos) segments.emplace_back(path.substr(pos, end - pos));
    pos = end + 1;
  }
  return segments;
}

std::optional<int64_t> parse_time_value(std::string_view s) {
  if (s.empty() || s.size() > 64) return std::nullopt;
  // "2024-..." has a '-' at index 4; Unix seconds never do.
  if (s.size() >= 10 && s[4] == '-') return parse_iso8601(s);
  return parse_unix_seconds(s);
}

std::optional<int64_t> parse_step_value(std::string_view s) {
  if (s.empty() || s.size() > 16) return std::nullopt;
  int64_t unit_s = 1;
  std::string_view number = s;
  switch (s.back()) {
    case 's':
      unit_s = 1;
      number.remove_suffix(1);
      break;
    case 'm':
      unit_s = 60;
      number.remove_suffix(1);
      break;
    case 'h':
      unit_s = 3600;
      number.remove_suffix(1);
      break;
    case 'd':
      unit_s = 86400;
      number.remove_suffix(1);
      break;
    case 'w':
      unit_s = 7 * 86400;
      number.remove_suffix(1);
      break;
    default: break;
  }
  const auto n = parse_int_value(number, 1, 366LL * 86400);
  if (!n) return std::nullopt;
  const int64_t step_s = *n * unit_s;
  if (step_s > 366LL * 86400) return std::nullopt;
  return step_s;
}

std::optional<int64_t> parse_int_value(std::string_view s, int64_t lo, int64_t hi) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  if (value < lo || value > hi) return std::nullopt;
  return value;
}

std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> items;
  std::size_t pos = 0;
  while (pos <= s.size()) {
    const std::size_t comma = s.find(',', pos);
    const std::size_t end = comma == std::string_view::npos ? s.size() : comma;
    if (end > pos) items.emplace_back(s.substr(pos, end - pos));
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return items;
}

std::string format_iso8601(double unix_s) {
  if (!std::isfinite(unix_s)) unix_s = 0.0;
  const double whole = std::floor(unix_s);
  auto ms = static_cast<int>(std::lround((unix_s - whole) * 1000.0));
  auto secs = static_cast<std::time_t>(whole);
  if (ms == 1000) {
    ms = 0;
    ++secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];  // room for any int the compiler cannot bound (-Wformat-truncation)
  if (ms == 0) {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec);
  } else {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  }
  return buf;
}

}  // namespace wattguard::api
