// Readings import: analytics' CSV reader for the row rules and gap filling, then registers continued per meter.
#include "wattguard/grid/readings_import.h"

#include <cmath>

#include "wattguard/analytics/csv_fields.h"
#include "wattguard/analytics/input_error.h"
#include "wattguard/analytics/readings_csv.h"
#include "wattguard/protocol/codec.h"

namespace wattguard::grid {
namespace {

using analytics::input_error;

// The store could not read or write (kIoError), reported at the file like a row's error.
Error storage_error(const std::string& source, int64_t line, std::string value, std::string message) {
  Error e = input_error(source, line, "storage", std::move(value), std::move(message));
  e.code = ErrorCode::kIoError;
  return e;
}

constexpr int64_t kIntervalMs = 900'000;
constexpr double kIntervalH = 0.25;

protocol::Reading interval_reading(const std::string& meter, int64_t time_ms, double register_wh, double p_w) {
  protocol::Reading r;
  r.meter_id = meter;
  r.seq = static_cast<uint64_t>(time_ms);
  r.time_ms = time_ms;
  r.p_w = p_w;
  r.s_va = p_w;
  r.pf = 1.0;
  r.e_import_wh = register_wh;
  // Says nothing of the meter's connection: ingest does not time such a meter out (no offline alerts for a
  // check meter that another system reads).
  r.flags = protocol::kFlagImported;
  return r;
}

}  // namespace

Expected<ReadingsImportPlan> plan_readings_import(std::string_view csv_text, const std::string& source,
                                                  storage::ReadingStore& store, int64_t now_ms) {
  analytics::ReadingsCsvOptions options;
  options.source = source;
  options.aggregate_to_15min = true;
  auto parsed = analytics::parse_readings_csv(csv_text, options);
  if (!parsed.ok()) return parsed.error();
  const analytics::Readings& in = parsed.value();
  if (in.interval_s != 900) {
    return input_error(source, 0, "time", std::to_string(in.interval_s) + " s",
                       "the file's intervals are longer than 15 minutes; the server stores 15-minute intervals, so use "
                       "15 minutes or a divisor of it (1, 5 min...)");
  }
  ReadingsImportPlan plan;
  ReadingsImportSummary& sum = plan.summary;
  sum.rows = in.rows;
  sum.meters = in.meters.size();
  sum.source_interval_s = in.source_interval_s;
  sum.first_end_ms = in.first_end_s * 1000;
  sum.last_end_ms = in.end_s(in.count - 1) * 1000;
  if (sum.last_end_ms > now_ms + protocol::kMaxFutureMs) {
    return input_error(source, 0, "time", analytics::format_time(in.end_s(in.count - 1), in.utc_offset_s),
                       "readings end more than a day after the server's clock");
  }
  for (const analytics::MeterSeries& series : in.meters) {
    if (!store.has_meter(series.id)) {
      return input_error(source, series.first_line, "meter", series.id, "unknown meter (not provisioned in the store)");
    }
    auto latest = store.latest(series.id);
    if (!latest.ok()) return storage_error(source, series.first_line, series.id, latest.error().message);
    bool have_previous = latest->has_value();
    const int64_t latest_ms = have_previous ? (*latest)->reading.time_ms : INT64_MIN;
    double register_wh = have_previous ? (*latest)->reading.e_import_wh : 0.0;
    for (int64_t k = 0; k < in.count; ++k) {
      const size_t kk = static_cast<size_t>(k);
      const analytics::Quality q = series.quality[kk];
      if (q == analytics::Quality::kMissing) {
        // Before the meter's first row or after its last the file simply has nothing: not a gap.
        continue;
      }
      const int64_t end_ms = in.end_s(k) * 1000;
      if (end_ms - 1 <= latest_ms) {
        ++sum.intervals_skipped;
        continue;
      }
      const double wh = series.energy_kwh[kk] * 1000.0;
      if (q == analytics::Quality::kFilled) {
        // The register moved across the gap; the next stored interval's rollup carries it, like a real meter's.
        register_wh += wh;
        ++sum.intervals_filled;
        continue;
      }
      const double p_w = wh / kIntervalH;
      if (!have_previous) {
        plan.readings.push_back(interval_reading(series.id, end_ms - kIntervalMs, register_wh, p_w));
        have_previous = true;
      }
      register_wh += wh;
      plan.readings.push_back(interval_reading(series.id, end_ms - 1, register_wh, p_w));
      ++sum.intervals_stored;
      const protocol::Reading& r = plan.readings.back();
      if (auto bad = protocol::validate(r, protocol::DecodeContext{}); !bad.ok()) {
        return input_error(source, series.first_line, "kwh", analytics::format_time(in.end_s(k), in.utc_offset_s),
                           "meter " + series.id + ": interval cannot be stored (" + protocol::describe(bad.error()) +
                               ")");
      }
    }
  }
  // Gaps nothing covers, counted over each meter's own span only.
  for (const analytics::MeterSeries& series : in.meters) {
    int64_t first = -1, last = -1;
    for (int64_t k = 0; k < in.count; ++k) {
      if (series.quality[static_cast<size_t>(k)] == analytics::Quality::kMissing) continue;
      if (first < 0) first = k;
      last = k;
    }
    for (int64_t k = first; k >= 0 && k <= last; ++k) {
      sum.intervals_missing += series.quality[static_cast<size_t>(k)] == analytics::Quality::kMissing;
    }
  }
  return plan;
}

Expected<ReadingsImportSummary> import_readings(std::string_view csv_text, const std::string& source,
                                                storage::ReadingStore& store, int64_t now_ms) {
  auto plan = plan_readings_import(csv_text, source, store, now_ms);
  if (!plan.ok()) return plan.error();
  if (!plan.value().readings.empty()) {
    auto appended = store.append_readings(plan.value().readings, now_ms);
    if (!appended.ok()) return storage_error(source, 0, "", appended.error().message);
    if (!appended->refused.empty()) {
      const auto& r = appended->refused.front();
      return input_error(source, 0, "storage", plan.value().readings[r.index].meter_id,
                         "the store refused a reading (" + r.detail + "); the rest of the batch was stored");
    }
  }
  return plan.value().summary;
}

}  // namespace wattguard::grid
