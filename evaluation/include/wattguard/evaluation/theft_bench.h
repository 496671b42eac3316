// The theft benchmark: simulate a grid, run one TransformerMonitor per transformer cycle by cycle as a server
// would, and score detection, false alarms, precision/recall, pattern-score ROC AUC, localisation and time to
// detect per scenario (definitions in docs/theft-detection.md).
#pragma once

#include <array>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "wattguard/analytics/transformer_monitor.h"
#include "wattguard/evaluation/grid_simulator.h"

namespace wattguard::evaluation {

// A metric that does not apply (no such consumers, or not defined for honest scenarios) is NaN, null in JSON.
struct ScenarioMetrics {
  std::string name;
  bool theft = false;
  int consumers = 0;
  int flagged = 0;            // consumers flagged (thieves: after onset)
  double detection_rate = 0;  // thieves whose theft raised anything after onset (their DT or them)
  double false_alarms_per_dt_month = 0;
  double precision = 0;
  double recall = 0;  // thieves flagged individually after onset
  double auc = 0;     // pattern score: these consumers vs all honest consumers
  double top1 = 0;    // thief ranked above every honest consumer on its transformer
  double top3 = 0;
  double median_hours_to_detect = 0;   // onset to first flag of the thief (flagged thieves only)
  double median_hours_to_alert = 0;    // onset to the next balance alert on its transformer
  double hidden_share = 0;             // mean share of its use the thief hid after onset
  double alert_within_24h_ge3pct = 0;  // thieves taking >= 3 % of the DT's energy: flagged or DT alert in 24 h
  int ge3pct = 0;
};

struct BenchResult {
  GridSimConfig config;
  std::vector<ScenarioMetrics> scenarios;  // every scenario present, theft and honest
  ScenarioMetrics h1_h6;                   // the Jokar attacks pooled
  ScenarioMetrics overall;
  double dt_false_alerts_per_dt_month = 0;
  double consumer_false_flags_per_dt_month = 0;
  // The same split by what raised the flag, indexed by FlagCause (balance evidence, pattern alone, silence).
  std::array<double, analytics::kFlagCauseCount> false_flags_by_cause_per_dt_month{};
  double top1_all = 0, top3_all = 0;  // every energy-taking thief, whatever it hides
  int hiding_ge20 = 0;                // thieves behind overall top1/top3
  double seconds_simulate = 0, seconds_analyse = 0;
  int runs = 1;
  // Decisions in an operator's terms. A transformer alert is an alert episode (analytics::AlertEpisodes).
  double honest_flags_per_1000_consumer_months = 0;  // flag episodes of honest consumers
  double consumer_months = 0;                        // honest consumer-months monitored (after calibration)
  int clean_dts = 0;                                 // transformers without any thief
  double clean_dt_episodes_per_dt_month = 0;         // alert episodes on them
  // Thieves taking >= 3 % of their transformer's energy: episodes opened on its transformer from its onset (shared
  // by the thieves there), median; and the same counted in the balance test's own raise/clear cycles.
  double episodes_per_theft = 0;
  double balance_raises_per_theft = 0;
  int flag_ge20_n = 0;      // energy-taking thieves hiding >= 20 % of their use ...
  double flagged_ge20 = 0;  // ... and the share of them flagged after onset
  int h5_h6_n = 0;
  double flagged_h5_h6 = 0;
  std::string label;  // what the grid was built from (data set, split part), for the report
};

using BenchProgress = std::function<void(double fraction)>;
BenchResult run_theft_bench(const GridSimConfig& config, const BenchProgress& progress = {});
// Median of every metric over several runs (NaN entries ignored).
BenchResult median_of_runs(const std::vector<BenchResult>& runs);

nlohmann::json bench_to_json(const BenchResult& result);
std::string bench_to_table(const BenchResult& result);

}  // namespace wattguard::evaluation
