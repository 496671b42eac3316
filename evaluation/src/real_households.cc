// Real household exports: three layouts, each reduced to complete local days of 48 half-hours.
#include "wattguard/evaluation/real_households.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>

#include "wattguard/analytics/csv_fields.h"
#include "wattguard/analytics/input_error.h"
#include "wattguard/analytics/readings_csv.h"

namespace wattguard::evaluation {
namespace {

using analytics::days_from_civil;
using analytics::parse_number;

// Days since 1970-01-01 of D/M/YY or D/M/YYYY; nullopt when it is not such a date.
std::optional<int64_t> parse_dmy(const std::string& s) {
  int d = 0, m = 0, y = 0;
  if (std::sscanf(s.c_str(), "%d/%d/%d", &d, &m, &y) != 3) return std::nullopt;
  if (y < 100) y += 2000;
  if (m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
  return days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

// Days since 1970-01-01 of YYYYMMDD; nullopt when it is not such a date.
std::optional<int64_t> parse_yyyymmdd(const std::string& s) {
  if (s.size() != 8) return std::nullopt;
  const int y = std::atoi(s.substr(0, 4).c_str()), m = std::atoi(s.substr(4, 2).c_str()),
            d = std::atoi(s.substr(6, 2).c_str());
  if (m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
  return days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

// The day dated `day` with the 48 half-hour values from field `first` on; nullopt when one is missing, not a
// number or negative.
std::optional<RealDay> read_48(const std::vector<std::string>& f, size_t first, std::optional<int64_t> day) {
  if (!day || f.size() < first + 48) return std::nullopt;
  RealDay out;
  out.day = *day;
  for (size_t k = 0; k < 48; ++k) {
    const auto v = parse_number(f[first + k]);
    if (!v || *v < 0) return std::nullopt;
    out.kwh[k] = static_cast<float>(*v);
  }
  return out;
}

}  // namespace

Expected<RealHousehold> parse_real_household(const std::string& text, const std::string& name) {
  RealHousehold h;
  h.name = name;
  analytics::LineCursor cursor(text);
  std::map<int64_t, RealDay> days;
  std::map<int64_t, int> long_counts;  // long format: slots seen per day
  int layout = -1;                     // 0 NEM12, 1 wide retailer, 2 long
  while (const auto next = cursor.next()) {
    const std::string_view line = next->text;
    if (analytics::trim(line).empty()) continue;
    const auto split = analytics::split_csv_line(line);
    if (!split.ok()) continue;
    const std::vector<std::string>& f = split.value();
    if (layout < 0) {
      if (!f.empty() && (f[0] == "200" || f[0] == "100")) {
        layout = 0;
      } else if (f.size() > 3 && f[2] == "CON/GEN") {
        layout = 1;
        continue;
      } else if (std::find(f.begin(), f.end(), "ProfileReadValue") != f.end()) {
        layout = 2;
        continue;
      } else {
        return analytics::input_error(name, next->number, "", std::string(line),
                                      "unrecognised household export layout");
      }
    }
    if (layout == 0) {
      if (f.empty() || f[0] != "300" || f.size() < 50) continue;
      const auto day = read_48(f, 2, parse_yyyymmdd(f[1]));
      if (day) days[day->day] = *day;
    } else if (layout == 1) {
      if (f.size() < 53) continue;
      const auto day = read_48(f, 5, parse_dmy(f[3]));
      if (day) days[day->day] = *day;
    } else {
      if (f.size() < 9) continue;
      int hh = 0, mm = 0;
      const std::string& start = f[6];
      const size_t space = start.find(' ');
      if (space == std::string::npos) continue;
      const auto date = parse_dmy(start.substr(0, space));
      if (!date) continue;
      const int64_t d = *date;
      if (std::sscanf(start.c_str() + space + 1, "%d:%d", &hh, &mm) != 2) continue;
      const auto v = parse_number(f[8]);
      if (!v || *v < 0 || hh < 0 || hh > 23 || (mm != 0 && mm != 30)) continue;
      auto& entry = days[d];
      entry.day = d;
      entry.kwh[static_cast<size_t>(hh) * 2 + static_cast<size_t>(mm / 30)] = static_cast<float>(*v);
      ++long_counts[d];
    }
  }
  for (auto& [d, day] : days) {
    if (layout == 2 && long_counts[d] != 48) continue;
    h.days.push_back(day);
  }
  // Drop the leading days before the meter went live (all zero).
  size_t first = 0;
  while (first < h.days.size()) {
    float sum = 0;
    for (float v : h.days[first].kwh) sum += v;
    if (sum > 0.05f) break;
    ++first;
  }
  h.days.erase(h.days.begin(), h.days.begin() + static_cast<std::ptrdiff_t>(first));
  if (h.days.size() < 7) return analytics::input_error(name, 0, "", "", "fewer than 7 complete days of readings");
  return h;
}

Expected<std::vector<RealHousehold>> load_real_households(const std::string& directory) {
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(directory, ec)) {
    if (entry.path().extension() == ".csv") files.push_back(entry.path());
  }
  if (ec) return analytics::file_error(directory, "cannot list the directory: " + ec.message());
  std::sort(files.begin(), files.end());
  std::vector<RealHousehold> out;
  for (const auto& p : files) {
    auto text = analytics::read_text_file(p.string());
    if (!text.ok()) return text.error();
    auto h = parse_real_household(text.value(), p.stem().string());
    if (h.ok()) out.push_back(std::move(h).value());
  }
  if (out.empty()) {
    return analytics::input_error(directory, 0, "", "", "no readable household exports (*.csv) in the directory");
  }
  return out;
}

}  // namespace wattguard::evaluation
