// Real-household theft benchmark: split, grid shape from the part's size and span, runs over seeds.
#include "wattguard/evaluation/real_theft_bench.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>

namespace wattguard::evaluation {

const char* split_part_name(SplitPart p) { return p == SplitPart::kTune ? "tune" : "report"; }

SplitPart split_part_of(const std::string& household_id) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : household_id) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h % 2 == 0 ? SplitPart::kTune : SplitPart::kReport;
}

Expected<BenchResult> run_real_theft_bench(const std::string& name, const std::vector<RealHousehold>& households,
                                           const RealBenchOptions& options, const BenchProgress& progress) {
  std::vector<RealHousehold> part;
  for (const RealHousehold& h : households) {
    if (split_part_of(h.name) == options.part && !h.days.empty()) part.push_back(h);
  }
  constexpr size_t kMinHouseholds = 10;
  if (part.size() < kMinHouseholds) {
    return Error::invalid("households", name,
                          "only " + std::to_string(part.size()) + " households in the " +
                              split_part_name(options.part) + " part (at least 10 needed)");
  }
  // Every household must cover the run (days + one day either side); a window per full span it covers.
  int64_t shortest = INT64_MAX;
  for (const RealHousehold& h : part) shortest = std::min(shortest, h.days.back().day - h.days.front().day + 1);
  const int days = static_cast<int>(std::min<int64_t>(options.days, shortest - 2));
  if (days < options.calibration_days + 14) {
    return Error::invalid("households", name,
                          "households span only " + std::to_string(shortest) + " days; at least " +
                              std::to_string(options.calibration_days + 16) + " needed");
  }
  const int64_t windows = std::max<int64_t>(1, shortest / (days + 2));
  const int per_dt = std::min(options.homes_per_dt, static_cast<int>(part.size()));
  const int dts = static_cast<int>(
      std::min<int64_t>(options.max_dts, static_cast<int64_t>(part.size()) * windows / std::max(1, per_dt)));

  GridSimConfig config;
  config.transformers = std::max(1, dts);
  config.consumers = per_dt;
  config.days = days;
  config.calibration_days = options.calibration_days;
  config.thief_share = options.thief_share;
  // Real homes bring their own holidays, new appliances and changes; no synthetic ones are added.
  config.holiday_share = config.new_appliance_share = config.outage_share = 0;
  config.real = &part;
  config.real_distinct = true;
  config.utc_offset_s = 0;  // the files' clocks are fixed-offset labels
  std::vector<BenchResult> results;
  for (int run = 0; run < std::max(1, options.runs); ++run) {
    config.seed = options.seed + static_cast<uint64_t>(run);
    BenchProgress step;
    if (progress) {
      step = [&](double f) { progress((run + f) / std::max(1, options.runs)); };
    }
    results.push_back(run_theft_bench(config, step));
  }
  BenchResult result = results.size() > 1 ? median_of_runs(results) : results.front();
  char label[240];
  std::snprintf(label, sizeof label,
                "%s, %s part (%zu of %zu households; split by FNV-1a of the id: even = tune, odd = report), %d "
                "transformers x %d distinct real homes",
                name.c_str(), split_part_name(options.part), part.size(), households.size(), config.transformers,
                per_dt);
  result.label = label;
  return result;
}

}  // namespace wattguard::evaluation
