// Splitting a request target into a decoded path and query parameters, and reading the
// typed query values the API takes (times, steps, integers, lists).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wattguard::api {

struct RequestTarget {
  std::string path;                                        // percent-decoded, e.g. "/api/v1/meters/m 1"
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order

  // The last value of `name`, or nullptr when absent.
  const std::string* param(std::string_view name) const;
};

// nullopt when the target is not origin-form ("/...") or has invalid percent-encoding
// or a decoded NUL byte.
std::optional<RequestTarget> parse_target(std::string_view target);

// Decodes %XX (and '+' as space when `plus_is_space`); nullopt on a bad escape or NUL.
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space);

// Splits a path into its segments: "/api/v1/meters/" -> {"api", "v1", "meters"}.
std::vector<std::string> path_segments(std::string_view path);

// A point in time from a query value: Unix seconds ("1714557600", fraction allowed) or
// ISO 8601 ("2024-05-01", "2024-05-01T10:00:00Z", "2024-05-01T12:00:00.5+02:00"; no offset
// means UTC). Result in Unix seconds, fraction dropped. nullopt when malformed or before 1970.
std::optional<int64_t> parse_time_value(std::string_view s);

// A duration: plain seconds ("900") or a number with a unit s, m, h, d, w ("15m", "1h").
// nullopt when malformed, zero, or over 366 days.
std::optional<int64_t> parse_step_value(std::string_view s);

// A base-10 integer within [lo, hi]; nullopt otherwise.
std::optional<int64_t> parse_int_value(std::string_view s, int64_t lo, int64_t hi);

// Splits "a,b,,c" into {"a", "b", "c"} (empty items dropped).
std::vector<std::string> split_list(std::string_view s);

// Unix seconds (fraction kept to milliseconds) as "2024-05-01T10:00:00Z" / "...:00.500Z".
std::string format_iso8601(double unix_s);

}  // namespace wattguard::api
