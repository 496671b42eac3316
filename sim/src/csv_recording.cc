// CSV recordings: strict row-by-row reader with line- and field-naming errors, and writer.
#include "wattguard/sim/csv_recording.h"

#include <cassert>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <utility>

#include "sim/src/recording_error.h"

namespace wattguard::sim {
namespace {

constexpr size_t kMaxLineLength = 1024;  // a valid row is at most 17 characters
constexpr size_t kMaxShown = 24;         // characters of a bad field quoted in a message
const char* const kFieldNames[3] = {"v", "i", "n"};

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && (is_space(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Quotes text for a message: shortened, with non-printable bytes escaped.
std::string quote(std::string_view s) {
  std::string out = "'";
  for (size_t k = 0; k < s.size() && k < kMaxShown; ++k) {
    const auto c = static_cast<unsigned char>(s[k]);
    if (c >= 0x20 && c < 0x7f && c != '\'') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (s.size() > kMaxShown) out += "...";
  return out + "'";
}

std::string line_prefix(uint64_t line) { return "line " + std::to_string(line); }

}  // namespace

Expected<void> CsvRecordingReader::validate_adc_bits(int adc_bits) {
  if (adc_bits < 10 || adc_bits > 16) {
    return Error::invalid("adc_bits", std::to_string(adc_bits),
                          "CsvRecordingReader: adc_bits " + std::to_string(adc_bits) + " outside 10..16");
  }
  return {};
}

CsvRecordingReader::CsvRecordingReader(std::istream& in, int adc_bits)
    : in_(in), adc_bits_(adc_bits), max_value_((1L << adc_bits) - 1) {
  assert(validate_adc_bits(adc_bits).ok());
}

bool CsvRecordingReader::get_line(std::string* line) {
  line->clear();
  std::streambuf* buf = in_.rdbuf();
  if (buf == nullptr) return false;
  int c = buf->sbumpc();
  if (c == std::char_traits<char>::eof()) return false;
  ++line_;
  bool too_long = false;
  while (c != std::char_traits<char>::eof() && c != '\n') {
    if (line->size() < kMaxLineLength) {
      line->push_back(static_cast<char>(c));
    } else {
      too_long = true;
    }
    c = buf->sbumpc();
  }
  if (too_long) line->assign(kMaxLineLength + 1, 'x');  // flagged by the caller's length check
  return true;
}

CsvRecordingReader::Next CsvRecordingReader::fail(std::string field, std::string_view value, std::string message) {
  error_ = Error::invalid(std::move(field), std::string(value.substr(0, kMaxLineLength)), std::move(message));
  error_.line = static_cast<int64_t>(line_);
  return Next::kError;
}

bool CsvRecordingReader::read_header() {
  std::string line;
  std::string_view header;
  bool found = false;
  while (get_line(&line)) {
    if (line.size() > kMaxLineLength) {
      fail("header", "",
           line_prefix(line_) + ": header line longer than " + std::to_string(kMaxLineLength) +
               " characters, expected 'v,i' or 'v,i,n'");
      return false;
    }
    header = line;
    if (line_ == 1 && header.substr(0, 3) == "\xEF\xBB\xBF") header.remove_prefix(3);  // UTF-8 BOM
    header = trim(header);
    if (!header.empty()) {
      found = true;
      break;
    }
  }
  if (!found) {
    line_ = line_ == 0 ? 1 : line_;
    fail("header", "", line_prefix(line_) + ": empty file, expected a header line 'v,i' or 'v,i,n'");
    return false;
  }
  // Split on commas and compare names, ignoring spaces around them.
  std::vector<std::string_view> names;
  size_t start = 0;
  while (true) {
    const size_t comma = header.find(',', start);
    names.push_back(
        trim(header.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  const bool ok = (names.size() == 2 || names.size() == 3) && names[0] == "v" && names[1] == "i" &&
                  (names.size() == 2 || names[2] == "n");
  if (!ok) {
    fail("header", header, line_prefix(line_) + ", header: " + quote(header) + " is not 'v,i' or 'v,i,n'");
    return false;
  }
  channels_ = static_cast<int>(names.size());
  return true;
}

CsvRecordingReader::Next CsvRecordingReader::next(SampleSet* out) {
  if (channels_ == 0) return fail("header", "", "read_header() was not called or failed");
  std::string line;
  while (get_line(&line)) {
    if (line.size() > kMaxLineLength) {
      return fail("", "", line_prefix(line_) + ": row longer than " + std::to_string(kMaxLineLength) + " characters");
    }
    const std::string_view row = trim(line);
    if (row.empty()) continue;
    uint16_t values[3] = {0, 0, 0};
    size_t start = 0;
    int field = 0;
    while (true) {
      const size_t comma = row.find(',', start);
      const std::string_view text =
          trim(row.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
      if (field >= channels_) {
        int count = field + 1;
        for (size_t k = row.find(',', start); k != std::string_view::npos; k = row.find(',', k + 1)) ++count;
        return fail("", row,
                    line_prefix(line_) + ": " + std::to_string(count) + " fields, the header has " +
                        std::to_string(channels_));
      }
      const char* name = kFieldNames[field];
      if (text.empty()) return fail(name, text, line_prefix(line_) + ", field " + name + ": empty value");
      // Optional sign, then digits only.
      size_t k = 0;
      bool negative = false;
      if (text[0] == '-' || text[0] == '+') {
        negative = text[0] == '-';
        k = 1;
      }
      if (k == text.size()) {
        return fail(name, text,
                    line_prefix(line_) + ", field " + name + ": " + quote(text) + " is not an integer count");
      }
      long value = 0;
      for (; k < text.size(); ++k) {
        const char c = text[k];
        if (c < '0' || c > '9') {
          return fail(name, text,
                      line_prefix(line_) + ", field " + name + ": " + quote(text) + " is not an integer count");
        }
        if (value <= max_value_) value = value * 10 + (c - '0');  // stops growing once too big
      }
      if (negative && value != 0) value = -value;
      if (value < 0 || value > max_value_) {
        return fail(name, text,
                    line_prefix(line_) + ", field " + name + ": value " + quote(text) + " outside 0.." +
                        std::to_string(max_value_) + " (" + std::to_string(adc_bits_) + "-bit ADC)");
      }
      values[field] = static_cast<uint16_t>(value);
      ++field;
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    if (field < channels_) {
      const char* name = kFieldNames[field];
      return fail(name, row,
                  line_prefix(line_) + ", field " + name + ": missing (" + std::to_string(field) + " field" +
                      (field == 1 ? "" : "s") + ", the header has " + std::to_string(channels_) + ")");
    }
    *out = SampleSet{values[0], values[1], values[2]};
    return Next::kSample;
  }
  if (in_.bad()) return fail("", "", line_prefix(line_) + ": read error");
  return Next::kEnd;
}

Expected<Recording> read_csv_recording(std::istream& in, int adc_bits) {
  if (auto bits_ok = CsvRecordingReader::validate_adc_bits(adc_bits); !bits_ok) return std::move(bits_ok).error();
  CsvRecordingReader reader(in, adc_bits);
  if (!reader.read_header()) return reader.error();
  Recording rec;
  rec.adc_bits = adc_bits;
  rec.channels = reader.channels();
  SampleSet s;
  while (true) {
    const auto r = reader.next(&s);
    if (r == CsvRecordingReader::Next::kError) return reader.error();
    if (r == CsvRecordingReader::Next::kEnd) break;
    rec.samples.push_back(s);
  }
  if (rec.samples.empty()) {
    const uint64_t line = reader.line() + 1;
    return Error::invalid("", "", "line " + std::to_string(line) + ": no sample rows after the header")
        .at("", static_cast<int64_t>(line));
  }
  return rec;
}

Expected<Recording> read_csv_recording(std::string_view text, int adc_bits) {
  std::istringstream in{std::string(text)};
  return read_csv_recording(in, adc_bits);
}

Expected<Recording> read_csv_recording_file(const std::string& path, int adc_bits) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::io("cannot open recording '" + path + "'").at(path);
  Expected<Recording> result = read_csv_recording(in, adc_bits);
  if (!result.ok()) return in_file(std::move(result).error(), path);
  return result;
}

bool write_csv_recording(std::ostream& out, const Recording& rec) {
  const bool neutral = rec.channels == 3;
  out << (neutral ? "v,i,n\n" : "v,i\n");
  std::string row;
  for (const auto& s : rec.samples) {
    row.clear();
    row += std::to_string(s.v);
    row += ',';
    row += std::to_string(s.i);
    if (neutral) {
      row += ',';
      row += std::to_string(s.n);
    }
    row += '\n';
    out << row;
  }
  out.flush();
  return static_cast<bool>(out);
}

Expected<void> write_csv_recording_file(const std::string& path, const Recording& rec) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Error::io("cannot create '" + path + "'").at(path);
  if (!write_csv_recording(out, rec)) return Error::io("write to '" + path + "' failed").at(path);
  return {};
}

}  // namespace wattguard::sim
