// Scan driver and its two output formats.
#include "wattguard/analytics/theft_scan.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "wattguard/analytics/csv_fields.h"
#include "wattguard/base/decimal_round.h"

namespace wattguard::analytics {

Expected<ScanResult> scan_grid(const Readings& readings, const Topology& topology, const ScanOptions& options) {
  if (auto checked = check_topology_against(topology, readings); !checked) return checked.error();
  ScanResult out;
  out.first_end_s = readings.first_end_s;
  out.last_end_s = readings.end_s(readings.count - 1);
  out.interval_s = readings.interval_s;
  out.utc_offset_s = readings.utc_offset_s;
  const int64_t slots = 86400 / readings.interval_s;
  const double days = static_cast<double>(readings.count) / static_cast<double>(slots);
  out.calibration_days = std::clamp(static_cast<int>(0.4 * days), 1, std::max(1, options.max_calibration_days));
  if (days < 2) out.warnings.push_back("less than 2 days of readings: the balance cannot be calibrated");
  if (days < 9) out.warnings.push_back("less than 9 days of readings: pattern scores need 8 days of history");

  // Meters with readings that the topology does not mention are ignored (and said so).
  size_t unused = 0;
  std::string unused_examples;
  {
    std::unordered_map<std::string, int> known;
    for (const auto& t : topology.transformers) {
      known[t.check_meter] = 1;
      for (const auto& c : t.consumers) known[c] = 1;
    }
    for (const auto& m : readings.meters) {
      if (known.count(m.id)) continue;
      if (++unused <= 3) unused_examples += (unused_examples.empty() ? "" : ", ") + m.id;
    }
  }
  if (unused > 0) {
    out.warnings.push_back(std::to_string(unused) +
                           " meter(s) in the readings are not in the topology and were "
                           "ignored (" +
                           unused_examples + (unused > 3 ? ", ..." : "") + ")");
  }
  if (readings.missing_intervals > 0 || readings.filled_intervals > 0) {
    out.warnings.push_back(std::to_string(readings.missing_intervals) + " meter-intervals missing, " +
                           std::to_string(readings.filled_intervals) + " filled from register advances");
  }

  MonitorConfig config = MonitorConfig::for_interval(readings.interval_s, out.calibration_days);
  config.utc_offset_s = readings.utc_offset_s;
  for (const auto& t : topology.transformers) {
    const MeterSeries* check = readings.find(t.check_meter);
    std::vector<const MeterSeries*> consumers;
    for (const auto& c : t.consumers) consumers.push_back(readings.find(c));
    TransformerMonitor monitor(t.id, t.consumers, config);
    std::vector<MeterValue> values(consumers.size());
    for (int64_t k = 0; k < readings.count; ++k) {
      const size_t kk = static_cast<size_t>(k);
      for (size_t i = 0; i < consumers.size(); ++i) {
        values[i] = MeterValue{consumers[i]->energy_kwh[kk], consumers[i]->quality[kk]};
      }
      monitor.push(readings.end_s(k), MeterValue{check->energy_kwh[kk], check->quality[kk]}, values);
    }
    TransformerReport report = monitor.report();
    for (auto& s : report.suspects) {
      if (consumers[s.consumer]->register_went_back) {
        s.evidence.emplace_back("its cumulative register went backwards (reset or rollback)");
      }
    }
    if (check->register_went_back) {
      report.evidence.emplace_back("the check meter's register went backwards (reset or rollback)");
    }
    out.transformers.push_back(std::move(report));
  }
  return out;
}

namespace {}  // namespace

std::string scan_to_json_lines(const ScanResult& result) {
  std::string out;
  for (const auto& t : result.transformers) {
    for (const auto& s : t.suspects) {
      nlohmann::json j;
      j["meter"] = s.meter;
      j["transformer"] = t.transformer;
      j["score"] = round_to_step(s.score, 1e-4);
      j["rank"] = s.rank;
      j["flagged"] = s.flagged;
      j["evidence"] = s.evidence;
      j["pattern_score"] = round_to_step(s.pattern_score, 1e-3);
      j["loss_share"] = round_to_step(s.loss_share, 1e-4);
      if (s.first_flagged_end_s >= 0) {
        j["first_flagged"] = format_time(s.first_flagged_end_s, result.utc_offset_s);
      }
      out += j.dump() + "\n";
    }
    nlohmann::json j;
    j["transformer"] = t.transformer;
    j["alert"] = t.alert;
    j["unexplained_kwh"] = round_to_step(t.unexplained_kwh, 1e-3);
    j["loss_share"] = round_to_step(t.loss_share, 1e-5);
    std::vector<std::string> suspects;
    for (const auto& s : t.suspects) suspects.push_back(s.meter);
    j["suspects"] = suspects;
    j["calibrated"] = t.calibrated;
    j["alerts_raised"] = t.alerts_raised;
    if (t.alert_onset_end_s >= 0)
      j["alert_since"] = format_time(t.alert_onset_end_s - result.interval_s, result.utc_offset_s);
    j["check_kwh"] = round_to_step(t.check_kwh, 1e-3);
    j["technical_kwh"] = round_to_step(t.technical_kwh, 1e-3);
    j["evidence"] = t.evidence;
    out += j.dump() + "\n";
  }
  return out;
}

std::string scan_to_table(const ScanResult& result) {
  std::string out;
  char buf[512];
  std::snprintf(buf, sizeof buf, "Scanned %s .. %s, %lld s intervals, calibration %d days\n",
                format_time(result.first_end_s - result.interval_s, result.utc_offset_s).c_str(),
                format_time(result.last_end_s, result.utc_offset_s).c_str(), static_cast<long long>(result.interval_s),
                result.calibration_days);
  out += buf;
  for (const auto& w : result.warnings) out += "note: " + w + "\n";
  for (const auto& t : result.transformers) {
    std::snprintf(buf, sizeof buf,
                  "\nTransformer %s: %s, unexplained %.1f kWh (%.2f%% of %.1f kWh), technical %.1f kWh\n",
                  t.transformer.c_str(), !t.calibrated ? "NOT CALIBRATED" : (t.alert ? "ALERT" : "ok"),
                  t.unexplained_kwh, 100.0 * t.loss_share, t.check_kwh, t.technical_kwh);
    out += buf;
    for (const auto& e : t.evidence) out += "  " + e + "\n";
    std::snprintf(buf, sizeof buf, "  %4s  %-20s %6s %7s %6s  %s\n", "rank", "meter", "score", "pattern", "flag",
                  "evidence");
    out += buf;
    const size_t shown = std::min<size_t>(t.suspects.size(), 10);
    for (size_t k = 0; k < shown; ++k) {
      const auto& s = t.suspects[k];
      std::snprintf(buf, sizeof buf, "  %4d  %-20s %6.3f %7.2f %6s  %s\n", s.rank, s.meter.c_str(), s.score,
                    s.pattern_score, s.flagged ? "YES" : "", s.evidence.empty() ? "" : s.evidence.front().c_str());
      out += buf;
      for (size_t e = 1; e < s.evidence.size() && e < 4; ++e) {
        out += std::string(48, ' ') + s.evidence[e] + "\n";
      }
    }
    if (t.suspects.size() > shown) {
      std::snprintf(buf, sizeof buf, "  ... %zu more consumers (use --json for all)\n", t.suspects.size() - shown);
      out += buf;
    }
  }
  return out;
}

}  // namespace wattguard::analytics
