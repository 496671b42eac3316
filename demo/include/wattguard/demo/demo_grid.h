// The demo's grid: distribution transformers with check meters and their consumers, a few of them stealing,
// with weeks of 15-minute history ending now, so the server's energy balance, localiser and pattern scores
// have something to find the moment the demo starts (live virtual meters would need two weeks to calibrate a
// balance). Simulated by analytics' grid simulator, the benchmark's, and loaded the way an operator would load
// real data: meters provisioned, the topology added, the readings CSV imported. Built only with the server.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "wattguard/base/expected.h"
#include "wattguard/serve/server.h"

namespace wattguard::demo {

struct DemoGridOptions {
  int transformers = 2;
  int consumers = 40;         // per transformer
  int days = 28;              // of history; the first calibration_days are honest
  int calibration_days = 15;  // one more than the server's default, so no theft is learned as loss
  double thief_share = 0.1;
  uint64_t seed = 1;
  std::string area = "grid-demo";
  // readings.csv and topology.csv (to try `wattguard theft scan` on) and thieves.csv (the truth) go here.
  std::filesystem::path files_dir;
};

struct DemoThief {
  std::string meter;
  std::string transformer;
  std::string scenario;  // analytics' scenario name, e.g. "h1_scaled"
};

struct DemoGridSummary {
  bool seeded = false;  // false: the store already had a topology, nothing was added
  size_t transformers = 0;
  size_t consumers = 0;
  size_t intervals_stored = 0;
  std::vector<DemoThief> thieves;  // the simulation's truth, to compare with what the server finds
  std::filesystem::path readings_csv, topology_csv, thieves_csv;  // thieves.csv: meter,transformer,scenario
};

// Seeds the server's store once: when it has no transformers yet, provisions the simulated meters, adds the
// transformers (area options.area) and imports the readings, ending at the last local midnight before now_ms
// (TheftOptions::utc_offset_s), then runs one analysis cycle. With a topology already there (a reused data
// directory, or an operator's own), does nothing. An error names the step.
Expected<DemoGridSummary> seed_demo_grid(serve::Server& server, const DemoGridOptions& options, int64_t now_ms);

}  // namespace wattguard::demo
