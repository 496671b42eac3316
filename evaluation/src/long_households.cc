// The long-format, gzip-compressed household files: one row per household and half-hour.
#include "wattguard/evaluation/long_households.h"

#include <zlib.h>

#include <charconv>
#include <map>
#include <unordered_map>

#include "wattguard/analytics/csv_fields.h"
#include "wattguard/analytics/input_error.h"

namespace wattguard::evaluation {
namespace {

constexpr int kSlotsPerDay = 48;
constexpr size_t kMinDays = 7;  // as parse_real_household: less is not a household to learn from
constexpr size_t kChunkBytes = 1 << 20;

// "YYYY-MM-DDTHH:MM" (or with a space): local day number and half-hour slot; false when it is not that.
bool parse_start(std::string_view s, int64_t& day, int& slot) {
  if (s.size() < 16 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':') return false;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0;
  const auto num = [&](size_t at, size_t len, int& out) {
    const auto r = std::from_chars(s.data() + at, s.data() + at + len, out);
    return r.ec == std::errc() && r.ptr == s.data() + at + len;
  };
  if (!num(0, 4, y) || !num(5, 2, mo) || !num(8, 2, d) || !num(11, 2, h) || !num(14, 2, mi)) return false;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || (mi != 0 && mi != 30)) return false;
  day = analytics::days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  slot = h * 2 + mi / 30;
  return true;
}

struct PartialDay {
  RealDay day;
  int slots_seen = 0;
};

}  // namespace

Expected<std::vector<RealHousehold>> parse_long_households(const std::string& text, const std::string& source,
                                                           int max_households) {
  std::vector<std::map<int64_t, PartialDay>> days;
  std::vector<std::string> names;
  std::unordered_map<std::string, size_t> index;
  analytics::LineCursor cursor(text);
  bool header = true;
  while (const auto next = cursor.next()) {
    const std::string_view line = next->text;
    if (line.empty()) continue;
    if (header) {
      header = false;
      if (line.substr(0, 9) == "household") continue;
    }
    const size_t c1 = line.find(',');
    const size_t c2 = c1 == std::string_view::npos ? c1 : line.find(',', c1 + 1);
    if (c2 == std::string_view::npos) {
      return analytics::input_error(source, next->number, "", std::string(line), "want household,time,kwh");
    }
    const std::string_view id = line.substr(0, c1);
    const std::string_view time = line.substr(c1 + 1, c2 - c1 - 1);
    const std::string_view kwh_text = analytics::trim(line.substr(c2 + 1));
    int64_t day = 0;
    int slot = 0;
    if (!parse_start(time, day, slot)) {
      return analytics::input_error(source, next->number, "time", std::string(time), "want YYYY-MM-DDTHH:MM");
    }
    const auto kwh = analytics::parse_number(kwh_text);
    if (!kwh || *kwh < 0) {
      return analytics::input_error(source, next->number, "kwh", std::string(kwh_text),
                                    "want a number of kWh, not negative");
    }
    auto it = index.find(std::string(id));
    if (it == index.end()) {
      if (max_households > 0 && names.size() >= static_cast<size_t>(max_households)) continue;
      it = index.emplace(std::string(id), names.size()).first;
      names.emplace_back(id);
      days.emplace_back();
    }
    PartialDay& partial = days[it->second][day];
    partial.day.day = day;
    partial.day.kwh[static_cast<size_t>(slot)] = static_cast<float>(*kwh);
    ++partial.slots_seen;  // the files have no duplicate (household, time) pairs (README)
  }
  std::vector<RealHousehold> out;
  for (size_t h = 0; h < names.size(); ++h) {
    RealHousehold household;
    household.name = names[h];
    for (const auto& [d, partial] : days[h]) {
      if (partial.slots_seen == kSlotsPerDay) household.days.push_back(partial.day);
    }
    if (household.days.size() >= kMinDays) out.push_back(std::move(household));
  }
  if (out.empty()) return analytics::input_error(source, 0, "", "", "no household with 7 complete days");
  return out;
}

Expected<std::vector<RealHousehold>> load_long_households(const std::string& path, int max_households) {
  gzFile file = gzopen(path.c_str(), "rb");  // reads plain files as they are, too
  if (file == nullptr) return analytics::file_error(path, "cannot open");
  std::string text;
  std::string chunk(kChunkBytes, '\0');
  int n = 0;
  while ((n = gzread(file, chunk.data(), static_cast<unsigned>(chunk.size()))) > 0) {
    text.append(chunk.data(), static_cast<size_t>(n));
  }
  int status = Z_OK;
  const char* message = gzerror(file, &status);
  const std::string reason = n < 0 ? std::string(message) : std::string();
  gzclose(file);
  if (n < 0) return analytics::file_error(path, "cannot decompress: " + reason);
  return parse_long_households(text, path, max_households);
}

}  // namespace wattguard::evaluation
