// End-to-end: a simulated grid with one planted thief is written as CSV files, read back, scanned, and the
// JSON lines checked (fields, the thief first and flagged, its transformer alerting, the other quiet).
#include "wattguard/analytics/theft_scan.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "wattguard/analytics/readings_csv.h"
#include "wattguard/analytics/topology_io.h"
#include "wattguard/evaluation/grid_simulator.h"
#include "wattguard/evaluation/theft_bench.h"
#include "wattguard/test_support/temp_dir.h"

namespace wattguard::analytics {
namespace {

using evaluation::BenchResult;
using evaluation::GridSimConfig;
using evaluation::run_theft_bench;
using evaluation::SimConsumer;
using evaluation::SimulatedGrid;

// A grid without thieves, holidays, new appliances or long outages, where a test plants what it needs.
GridSimConfig quiet_grid(uint64_t seed, int transformers, int consumers, int days) {
  GridSimConfig config;
  config.seed = seed;
  config.transformers = transformers;
  config.consumers = consumers;
  config.days = days;
  config.calibration_days = 9;
  config.thief_share = 0;
  config.holiday_share = 0;
  config.new_appliance_share = 0;
  config.outage_share = 0;
  return config;
}

// Writes the grid as the CSV files `theft scan` reads (R<tag>.csv, T<tag>.csv in dir), reads them back and
// scans them.
Expected<ScanResult> scan_written_grid(const SimulatedGrid& grid, const std::filesystem::path& dir,
                                       const std::string& tag, bool with_register) {
  const std::string readings_path = (dir / ("R" + tag + ".csv")).string();
  const std::string topology_path = (dir / ("T" + tag + ".csv")).string();
  if (!evaluation::write_grid_csv(grid, readings_path, topology_path, with_register)) {
    return Error::io("cannot write the grid's CSV files").at(dir.string());
  }
  auto readings = read_readings_csv(readings_path);
  if (!readings.ok()) return readings.error();
  auto topology = read_topology_file(topology_path);
  if (!topology.ok()) return topology.error();
  return scan_grid(readings.value(), topology.value());
}

TEST(TheftScan, FindsAPlantedBypassEndToEnd) {
  SimulatedGrid grid = evaluation::simulate_grid(quiet_grid(11, 2, 15, 24));
  // Consumer 4 of the first transformer bypasses its meter completely from day 16, 14:00.
  SimConsumer& thief = grid.consumers[4];
  const int64_t onset = 16 * 96 + 56;
  for (int64_t k = onset; k < grid.count; ++k) thief.reported_kwh[static_cast<size_t>(k)] = 0.0f;

  const test_support::TempDir temp("theft-scan");
  const auto& dir = temp.path();
  auto result = scan_written_grid(grid, dir, "", true);
  ASSERT_TRUE(result.ok()) << result.error().to_string();

  std::istringstream lines(scan_to_json_lines(result.value()));
  std::string line;
  int consumers = 0, transformers = 0, flagged_honest = 0;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    if (j.contains("meter")) {
      ++consumers;
      for (const char* key : {"meter", "transformer", "score", "rank", "flagged", "evidence"}) {
        ASSERT_TRUE(j.contains(key)) << key << " in " << line;
      }
      EXPECT_GE(j["score"].get<double>(), 0.0);
      EXPECT_LE(j["score"].get<double>(), 1.0);
      if (j["meter"] == thief.id) {
        EXPECT_EQ(j["rank"], 1) << line;
        EXPECT_TRUE(j["flagged"].get<bool>()) << line;
        EXPECT_FALSE(j["evidence"].empty());
      } else if (j["flagged"].get<bool>()) {
        ++flagged_honest;
      }
    } else {
      ++transformers;
      for (const char* key : {"transformer", "alert", "unexplained_kwh", "loss_share", "suspects"}) {
        ASSERT_TRUE(j.contains(key)) << key << " in " << line;
      }
      if (j["transformer"] == "DT001") {
        EXPECT_TRUE(j["alert"].get<bool>()) << line;
        EXPECT_EQ(j["suspects"][0], thief.id);
        EXPECT_GT(j["unexplained_kwh"].get<double>(), 5.0);
      } else {
        EXPECT_FALSE(j["alert"].get<bool>()) << line;
      }
      EXPECT_EQ(j["suspects"].size(), 15u);
    }
  }
  EXPECT_EQ(consumers, 30);
  EXPECT_EQ(transformers, 2);
  EXPECT_EQ(flagged_honest, 0);
  EXPECT_NE(scan_to_table(result.value()).find("ALERT"), std::string::npos);
}

// A meter that goes dark for good is flagged once it has been silent offline_flag_days; one silent for two days
// (a communication outage) is not.
TEST(TheftScan, LongSilentMeterIsFlaggedAShortOutageIsNot) {
  GridSimConfig config = quiet_grid(12, 1, 12, 30);
  config.short_outages_per_day = 0;
  SimulatedGrid grid = evaluation::simulate_grid(config);
  SimConsumer& dark = grid.consumers[2];
  SimConsumer& outage = grid.consumers[5];
  for (int64_t k = 20 * 96; k < grid.count; ++k) dark.present[static_cast<size_t>(k)] = 0;
  for (int64_t k = 15 * 96; k < 17 * 96; ++k) outage.present[static_cast<size_t>(k)] = 0;
  for (auto& p : grid.transformers[0].check_present) p = 1;

  const test_support::TempDir temp("theft-scan");
  const auto& dir = temp.path();
  auto result = scan_written_grid(grid, dir, "2", false);
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  const double days_dark = (grid.count - 20 * 96) / 96.0;
  ASSERT_GE(days_dark, MonitorConfig{}.flag.offline_flag_days);
  bool saw_dark = false;
  for (const auto& s : result.value().transformers[0].suspects) {
    if (s.meter == dark.id) {
      saw_dark = true;
      EXPECT_TRUE(s.flagged);
      ASSERT_FALSE(s.evidence.empty());
      EXPECT_NE(s.evidence.front().find("no readings for 10.0 days"), std::string::npos) << s.evidence.front();
    } else {
      EXPECT_FALSE(s.flagged) << s.meter;
    }
  }
  EXPECT_TRUE(saw_dark);
}

TEST(TheftScan, TopologyNamingAMeterWithoutReadingsIsABadInput) {
  auto readings = parse_readings_csv("meter,time,kwh\nC,1700000100,1\nC,1700001000,1\nA,1700000100,1\n");
  ASSERT_TRUE(readings.ok());
  auto topology = parse_topology_csv("transformer,meter,role\nT,C,check\nT,A,consumer\nT,B,consumer\n", "T.csv");
  ASSERT_TRUE(topology.ok());
  auto result = scan_grid(readings.value(), topology.value());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().line, 4);
  EXPECT_EQ(result.error().value, "B");
}

TEST(TheftBench, SmallRunReportsEveryScenarioAndOverall) {
  GridSimConfig config;
  config.seed = 5;
  config.transformers = 4;
  config.consumers = 20;
  config.days = 20;
  config.calibration_days = 7;
  config.thief_share = 0.2;  // enough thieves in a small grid to cover every scenario
  const BenchResult r = run_theft_bench(config);
  const auto j = evaluation::bench_to_json(r);
  ASSERT_TRUE(j.contains("overall"));
  for (const char* key : {"detection_rate", "false_alarms_per_dt_month", "precision", "recall", "auc", "top1", "top3",
                          "median_hours_to_detect"}) {
    EXPECT_TRUE(j["overall"].contains(key)) << key;
  }
  EXPECT_EQ(j["overall"]["consumers"], 16);
  for (const char* s : {"h1_scaled", "h6_reversed", "zero_reporting", "offline", "normal"}) {
    EXPECT_TRUE(j.contains(s)) << s;
  }
  EXPECT_GE(r.overall.detection_rate, 0.5);
  EXPECT_LE(r.overall.detection_rate, 1.0);
}

}  // namespace
}  // namespace wattguard::analytics
