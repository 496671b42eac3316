// Small text helpers shared by the CSV readers: line splitting, quoted fields, times and numbers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wattguard/base/expected.h"

namespace wattguard::analytics {

// One line of a text and its 1-based number.
struct TextLine {
  std::string_view text;
  int64_t number = 0;
};

// Iterates over the lines of a text, stripping a UTF-8 byte-order mark and CR before LF.
class LineCursor {
 public:
  explicit LineCursor(std::string_view text);
  // Next line (without its end-of-line); nullopt at the end.
  std::optional<TextLine> next();
  // Next line that is not blank or a # comment, trimmed; nullopt at the end.
  std::optional<TextLine> next_record();

 private:
  std::string_view text_;
  size_t pos_ = 0;
  int64_t number_ = 0;
};

std::string_view trim(std::string_view s);
// ASCII lower case (header names and roles are matched without case).
std::string lower(std::string s);

// Splits one CSV line into trimmed fields. Fields may be double-quoted with "" as an escaped quote.
// An Error whose message is the reason (no source or line: the caller adds them) on an unterminated quote or
// text after a closing quote.
Expected<std::vector<std::string>> split_csv_line(std::string_view line);

// Time of an interval end in Unix seconds: either whole Unix seconds ("1700000000") or ISO 8601 with an
// explicit offset ("2024-03-01T10:15:00+10:00", "...Z", seconds optional, 'T' or one space).
// On success also reports the offset (0 for Unix seconds) and whether the text carried one; an Error whose
// message is the reason otherwise (the caller adds source, line and field).
struct ParsedTime {
  int64_t unix_s = 0;
  int32_t utc_offset_s = 0;
  bool had_offset = false;  // true for ISO text; Unix seconds carry no local offset
};
Expected<ParsedTime> parse_time(std::string_view text);

// A finite decimal number; whole field must be consumed.
std::optional<double> parse_number(std::string_view text);

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t days_from_civil(int64_t year, unsigned month, unsigned day);

// ISO 8601 text of a Unix time shown in the given offset, e.g. "2024-03-01T10:15:00+10:00".
std::string format_time(int64_t unix_s, int32_t utc_offset_s);

}  // namespace wattguard::analytics
