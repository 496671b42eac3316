// Readings CSV reader: strict row checks, interval inference, register-based gap filling, 15-minute aggregation.
#include "wattguard/analytics/readings_csv.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "wattguard/analytics/csv_fields.h"
#include "wattguard/analytics/input_error.h"
#include "wattguard/base/floor_division.h"

namespace wattguard::analytics {
namespace {

constexpr double kMaxIntervalKwh = 100000.0;  // 100 MWh in one interval is a typo, not a meter
constexpr size_t kMaxIdLength = 128;

struct Row {
  uint32_t meter = 0;
  int64_t time_s = 0;
  double kwh = 0;
  double register_kwh = 0;
  bool has_register = false;
  int64_t line = 0;
};

// Slot of day (0 .. slots-1) of the interval ending at end_s, in local time.
size_t slot_of(int64_t end_s, int64_t interval_s, int32_t offset_s) {
  const int64_t start_local = end_s - interval_s + offset_s;
  return static_cast<size_t>(floor_mod(start_local, 86400) / interval_s);
}

// Sums intervals finer than 15 minutes into 15-minute intervals ending on multiples of 900 s.
Readings aggregate_to_15min(const Readings& in) {
  const int64_t kBin = 900;
  const int64_t per_bin = kBin / in.interval_s;
  // Bin of the interval ending at t is the one ending at the next multiple of 900 at or after t.
  auto bin_end = [&](int64_t t) { return t + floor_mod(-t, kBin); };
  Readings out;
  out.interval_s = kBin;
  out.utc_offset_s = in.utc_offset_s;
  out.source_interval_s = in.source_interval_s;
  out.rows = in.rows;
  out.first_end_s = bin_end(in.first_end_s);
  const int64_t last_end = bin_end(in.end_s(in.count - 1));
  out.count = (last_end - out.first_end_s) / kBin + 1;
  out.index = in.index;
  out.meters.resize(in.meters.size());
  for (size_t m = 0; m < in.meters.size(); ++m) {
    const MeterSeries& src = in.meters[m];
    MeterSeries& dst = out.meters[m];
    dst.id = src.id;
    dst.first_line = src.first_line;
    dst.register_went_back = src.register_went_back;
    dst.energy_kwh.assign(static_cast<size_t>(out.count), 0.0);
    dst.quality.assign(static_cast<size_t>(out.count), Quality::kMeasured);
    std::vector<int> seen(static_cast<size_t>(out.count), 0);
    for (int64_t k = 0; k < in.count; ++k) {
      const size_t b = static_cast<size_t>((bin_end(in.end_s(k)) - out.first_end_s) / kBin);
      ++seen[b];
      const Quality q = src.quality[static_cast<size_t>(k)];
      dst.energy_kwh[b] += src.energy_kwh[static_cast<size_t>(k)];
      if (q == Quality::kMissing || dst.quality[b] == Quality::kMissing) {
        dst.quality[b] = Quality::kMissing;
      } else if (q == Quality::kFilled) {
        dst.quality[b] = Quality::kFilled;
      }
    }
    for (size_t b = 0; b < seen.size(); ++b) {
      if (seen[b] != per_bin) dst.quality[b] = Quality::kMissing;  // bins cut by the file's start or end
      if (dst.quality[b] == Quality::kMissing) dst.energy_kwh[b] = 0.0;
    }
  }
  for (const auto& meter : out.meters) {
    for (Quality q : meter.quality) {
      out.filled_intervals += q == Quality::kFilled;
      out.missing_intervals += q == Quality::kMissing;
    }
  }
  return out;
}

}  // namespace

Expected<Readings> parse_readings_csv(std::string_view text, const ReadingsCsvOptions& options) {
  auto error = [&](int64_t line, std::string field, std::string value, std::string message) {
    return input_error(options.source, line, std::move(field), std::move(value), std::move(message));
  };
  LineCursor cursor(text);
  const auto header = cursor.next_record();
  if (!header) return error(0, "header", "", "no header line: the file is empty");
  size_t columns = 0;
  {
    const std::string_view t = header->text;
    auto split = split_csv_line(t);
    if (!split.ok()) return error(header->number, "header", std::string(t), split.error().message);
    std::vector<std::string> fields = std::move(split).value();
    for (auto& f : fields) f = lower(f);
    if (fields.size() == 3 && fields[0] == "meter" && fields[1] == "time" && fields[2] == "kwh") {
      columns = 3;
    } else if (fields.size() == 4 && fields[0] == "meter" && fields[1] == "time" && fields[2] == "kwh" &&
               fields[3] == "register_kwh") {
      columns = 4;
    } else {
      return error(header->number, "header", std::string(t),
                   "header must be meter,time,kwh (optionally ,register_kwh)");
    }
  }

  std::vector<Row> rows;
  std::vector<std::string> meter_ids;
  std::vector<int64_t> meter_first_line;
  std::unordered_map<std::string, uint32_t> meter_index;
  std::map<int32_t, int64_t> offset_votes;
  while (const auto record = cursor.next_record()) {
    const std::string_view t = record->text;
    const int64_t number = record->number;
    auto split = split_csv_line(t);
    if (!split.ok()) return error(number, "", std::string(t), split.error().message);
    const std::vector<std::string>& fields = split.value();
    if (fields.size() != columns) {
      return error(number, "", std::string(t),
                   "expected " + std::to_string(columns) + " fields, found " + std::to_string(fields.size()));
    }
    Row row;
    row.line = number;
    const std::string& id = fields[0];
    if (id.empty()) return error(number, "meter", id, "empty meter id");
    if (id.size() > kMaxIdLength) return error(number, "meter", id, "meter id longer than 128 characters");
    for (char c : id) {
      if (static_cast<unsigned char>(c) < 0x20) return error(number, "meter", id, "control character in meter id");
    }
    const auto parsed_time = parse_time(fields[1]);
    if (!parsed_time) return error(number, "time", fields[1], parsed_time.error().message);
    row.time_s = parsed_time->unix_s;
    if (parsed_time->had_offset) ++offset_votes[parsed_time->utc_offset_s];
    const auto kwh = parse_number(fields[2]);
    if (!kwh) return error(number, "kwh", fields[2], "not a finite decimal number");
    if (*kwh < 0) return error(number, "kwh", fields[2], "negative energy (export is not a consumption reading)");
    if (*kwh > kMaxIntervalKwh) return error(number, "kwh", fields[2], "implausibly large (over 100 MWh)");
    row.kwh = *kwh;
    if (columns == 4 && !fields[3].empty()) {
      const auto reg = parse_number(fields[3]);
      if (!reg) return error(number, "register_kwh", fields[3], "not a finite decimal number");
      if (*reg < 0) return error(number, "register_kwh", fields[3], "negative register reading");
      row.register_kwh = *reg;
      row.has_register = true;
    }
    auto [it, inserted] = meter_index.emplace(id, static_cast<uint32_t>(meter_ids.size()));
    if (inserted) {
      meter_ids.push_back(id);
      meter_first_line.push_back(number);
    }
    row.meter = it->second;
    rows.push_back(row);
  }
  if (rows.empty()) return error(0, "", "", "no data rows after the header");

  // Per meter in time order; a repeated (meter, time) is an error, not a silent overwrite.
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return a.meter != b.meter ? a.meter < b.meter : a.time_s < b.time_s;
  });
  std::map<int64_t, int64_t> diff_votes;
  for (size_t i = 1; i < rows.size(); ++i) {
    if (rows[i].meter != rows[i - 1].meter) continue;
    const int64_t d = rows[i].time_s - rows[i - 1].time_s;
    if (d == 0) {
      const int64_t later = std::max(rows[i].line, rows[i - 1].line);
      const int64_t earlier = std::min(rows[i].line, rows[i - 1].line);
      return error(later, "time", format_time(rows[i].time_s, 0),
                   "meter " + meter_ids[rows[i].meter] + " already has a row for this time (line " +
                       std::to_string(earlier) + ")");
    }
    ++diff_votes[d];
  }
  int64_t interval_s = 0;
  // No meter has two rows (e.g. a single interval for every meter): nothing to infer the interval from, so the
  // file is read as the default 15-minute interval, and every row must still sit on one 900 s grid.
  const bool assumed_interval = diff_votes.empty();
  if (assumed_interval) {
    interval_s = 900;
  } else {
    int64_t best = 0;
    for (const auto& [d, n] : diff_votes) {
      if (n > best) {
        best = n;
        interval_s = d;
      }
    }
  }
  if (interval_s < 60 || interval_s > 3600 || 3600 % interval_s != 0) {
    return error(0, "time", std::to_string(interval_s) + " s",
                 "inferred interval is not supported: it must divide one hour and be at least 60 s");
  }
  // Every row on the same grid.
  const int64_t phase = floor_mod(rows.front().time_s, interval_s);
  int64_t first_end = rows.front().time_s, last_end = rows.front().time_s;
  for (const Row& r : rows) {
    if (floor_mod(r.time_s, interval_s) != phase) {
      return error(r.line, "time", format_time(r.time_s, 0),
                   "not on the file's " + std::to_string(interval_s) + " s interval grid " +
                       (assumed_interval
                            ? std::string("(no meter has two rows, so the 900 s default interval is assumed)")
                            : std::string("(interval inferred from the most common step between a meter's rows)")));
    }
    first_end = std::min(first_end, r.time_s);
    last_end = std::max(last_end, r.time_s);
  }
  const int64_t count = (last_end - first_end) / interval_s + 1;
  if (count > 10'000'000 || count * static_cast<int64_t>(meter_ids.size()) > options.max_cells) {
    return error(0, "time", format_time(first_end, 0) + " .. " + format_time(last_end, 0),
                 "time span x meters too large (" + std::to_string(count) + " intervals x " +
                     std::to_string(meter_ids.size()) + " meters)");
  }

  Readings out;
  out.first_end_s = first_end;
  out.interval_s = interval_s;
  out.source_interval_s = interval_s;
  out.count = count;
  out.rows = static_cast<int64_t>(rows.size());
  if (options.utc_offset_s) {
    out.utc_offset_s = *options.utc_offset_s;
  } else if (!offset_votes.empty()) {
    out.utc_offset_s = std::max_element(offset_votes.begin(), offset_votes.end(), [](const auto& a, const auto& b) {
                         return a.second < b.second;
                       })->first;
  }
  out.meters.resize(meter_ids.size());
  for (size_t m = 0; m < meter_ids.size(); ++m) {
    out.meters[m].id = meter_ids[m];
    out.meters[m].first_line = meter_first_line[m];
    out.meters[m].energy_kwh.assign(static_cast<size_t>(count), 0.0);
    out.meters[m].quality.assign(static_cast<size_t>(count), Quality::kMissing);
    out.index.emplace(meter_ids[m], m);
  }
  for (const Row& r : rows) {
    const size_t k = static_cast<size_t>((r.time_s - first_end) / interval_s);
    out.meters[r.meter].energy_kwh[k] = r.kwh;
    out.meters[r.meter].quality[k] = Quality::kMeasured;
  }

  // Gaps covered by the cumulative register: spread the register's advance over the gap, shaped by the meter's
  // own mean profile by time of day (uniform where it has none), so a meter that was merely offline is not
  // counted as missing energy.
  const size_t slots = static_cast<size_t>(86400 / interval_s);
  std::vector<double> profile(slots, 0.0);
  std::vector<int> profile_n(slots, 0);
  uint32_t profile_meter = UINT32_MAX;
  for (size_t i = 1; i < rows.size(); ++i) {
    const Row& a = rows[i - 1];
    const Row& b = rows[i];
    if (a.meter != b.meter || !a.has_register || !b.has_register) continue;
    MeterSeries& series = out.meters[b.meter];
    if (b.register_kwh + 1e-9 < a.register_kwh) {
      series.register_went_back = true;
      continue;
    }
    const int64_t gap = (b.time_s - a.time_s) / interval_s - 1;
    if (gap <= 0) continue;
    const double gap_kwh = b.register_kwh - b.kwh - a.register_kwh;
    const double tolerance_kwh = 0.002 + 1e-7 * b.register_kwh;  // register and interval rounding
    if (gap_kwh < -tolerance_kwh) continue;                      // inconsistent: leave the gap missing
    if (profile_meter != b.meter) {
      // Mean profile of this meter from its measured intervals only (computed once per meter with gaps).
      profile_meter = b.meter;
      std::fill(profile.begin(), profile.end(), 0.0);
      std::fill(profile_n.begin(), profile_n.end(), 0);
      for (int64_t k = 0; k < count; ++k) {
        if (series.quality[static_cast<size_t>(k)] != Quality::kMeasured) continue;
        const size_t s = slot_of(out.end_s(k), interval_s, out.utc_offset_s);
        profile[s] += series.energy_kwh[static_cast<size_t>(k)];
        ++profile_n[s];
      }
    }
    const size_t k0 = static_cast<size_t>((a.time_s - first_end) / interval_s) + 1;
    double weight_sum = 0;
    std::vector<double> weights(static_cast<size_t>(gap));
    for (int64_t g = 0; g < gap; ++g) {
      const size_t s = slot_of(out.end_s(static_cast<int64_t>(k0) + g), interval_s, out.utc_offset_s);
      weights[static_cast<size_t>(g)] = (profile_n[s] > 0 ? profile[s] / profile_n[s] : 0.0) + 1e-6;
      weight_sum += weights[static_cast<size_t>(g)];
    }
    for (int64_t g = 0; g < gap; ++g) {
      series.energy_kwh[k0 + static_cast<size_t>(g)] =
          std::max(0.0, gap_kwh) * weights[static_cast<size_t>(g)] / weight_sum;
      series.quality[k0 + static_cast<size_t>(g)] = Quality::kFilled;
    }
  }
  for (const auto& meter : out.meters) {
    for (Quality q : meter.quality) {
      out.filled_intervals += q == Quality::kFilled;
      out.missing_intervals += q == Quality::kMissing;
    }
  }
  if (options.aggregate_to_15min && interval_s < 900) return aggregate_to_15min(out);
  return out;
}

Expected<std::string> read_text_file(const std::string& path, int64_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return file_error(path, "cannot open the file");
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) return file_error(path, "cannot read the file");
  if (size > max_bytes) return input_error(path, 0, "", "", "file too large");
  in.seekg(0, std::ios::beg);
  std::string text(static_cast<size_t>(size), '\0');
  if (size > 0 && !in.read(text.data(), size)) return file_error(path, "cannot read the file");
  return text;
}

Expected<Readings> read_readings_csv(const std::string& path, ReadingsCsvOptions options) {
  auto text = read_text_file(path);
  if (!text.ok()) return text.error();
  if (options.source == "readings") options.source = path;
  return parse_readings_csv(text.value(), options);
}

}  // namespace wattguard::analytics
