// `wattguard theft ...`: grid-side theft analytics on anyone's data, without a server.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/command_registry.h"
#include "wattguard/analytics/csv_fields.h"
#include "wattguard/analytics/readings_csv.h"
#include "wattguard/analytics/theft_scan.h"
#include "wattguard/analytics/topology_io.h"
#include "wattguard/evaluation/grid_simulator.h"
#include "wattguard/evaluation/real_households.h"

namespace wattguard::cli {
namespace {

namespace wa = wattguard::analytics;
namespace we = wattguard::evaluation;

struct ScanArgs {
  std::string readings;
  std::string topology;
  bool json = false;
  std::string utc_offset;
  int calibration_days = 14;
};

Expected<int32_t> parse_offset(const std::string& text) {
  // "+10:00", "-05:30", "Z"
  if (text == "Z" || text == "z" || text == "0") return int32_t{0};
  if (text.size() == 6 && (text[0] == '+' || text[0] == '-') && text[3] == ':') {
    const auto hh = wa::parse_number(text.substr(1, 2));
    const auto mm = wa::parse_number(text.substr(4, 2));
    if (hh && mm && *hh <= 14 && *mm < 60) {
      const int32_t s = static_cast<int32_t>(*hh) * 3600 + static_cast<int32_t>(*mm) * 60;
      return text[0] == '-' ? -s : s;
    }
  }
  return Error::invalid("--utc-offset", text,
                        "option --utc-offset, value \"" + text + "\": expected +HH:MM, -HH:MM or Z");
}

// The analytics' Errors keep the file, line and field in their own fields: the line shown is their to_string(),
// the format docs/theft-formats.md gives. Any of them (an unreadable file too) is the user's input: exit 2.
Error shown_as_input(const Error& error) { return as_bad_input(error, error.to_string()); }

Expected<void> run_scan(const ScanArgs& args) {
  wa::ReadingsCsvOptions options;
  options.source = args.readings;
  if (!args.utc_offset.empty()) {
    const auto offset = parse_offset(args.utc_offset);
    if (!offset.ok()) return offset.error();
    options.utc_offset_s = offset.value();
  }
  auto topology = wa::read_topology_file(args.topology);
  if (!topology.ok()) return shown_as_input(topology.error());
  auto readings = wa::read_readings_csv(args.readings, options);
  if (!readings.ok()) return shown_as_input(readings.error());
  wa::ScanOptions scan_options;
  scan_options.max_calibration_days = args.calibration_days;
  auto result = wa::scan_grid(readings.value(), topology.value(), scan_options);
  if (!result.ok()) return shown_as_input(result.error());
  if (args.json) {
    for (const auto& w : result.value().warnings) std::fprintf(stderr, "wattguard: note: %s\n", w.c_str());
    std::fputs(wa::scan_to_json_lines(result.value()).c_str(), stdout);
  } else {
    std::fputs(wa::scan_to_table(result.value()).c_str(), stdout);
  }
  return {};
}

struct SimulateArgs {
  uint64_t seed = 1;
  int transformers = 3;
  int consumers = 20;
  int days = 30;
  std::string readings = "readings.csv";
  std::string topology = "topology.csv";
  std::string truth;
  std::string households;
  bool with_register = false;
};

Expected<void> run_simulate(const SimulateArgs& args) {
  we::GridSimConfig config;
  config.seed = args.seed;
  config.transformers = args.transformers;
  config.consumers = args.consumers;
  config.days = args.days;
  config.calibration_days = std::min(14, std::max(1, static_cast<int>(0.4 * args.days)));
  std::vector<we::RealHousehold> real;
  if (!args.households.empty()) {
    auto loaded = we::load_real_households(args.households);
    if (!loaded.ok()) return as_bad_input(loaded.error(), "option --households: " + loaded.error().to_string());
    real = std::move(loaded).value();
    config.real = &real;
  }
  const we::SimulatedGrid grid = we::simulate_grid(config);
  // Files that cannot be written are failures of the run (exit 1), as they have always been.
  if (!we::write_grid_csv(grid, args.readings, args.topology, args.with_register)) {
    return Error::io("cannot write " + args.readings + " or " + args.topology);
  }
  if (!args.truth.empty()) {
    FILE* f = std::fopen(args.truth.c_str(), "w");
    if (!f) return Error::io("cannot write " + args.truth).at(args.truth);
    std::fprintf(f, "meter,transformer,scenario,thief,onset\n");
    for (const auto& c : grid.consumers) {
      std::fprintf(f, "%s,%s,%s,%d,%s\n", c.id.c_str(),
                   grid.transformers[static_cast<size_t>(c.transformer)].id.c_str(), we::scenario_name(c.scenario),
                   we::is_theft(c.scenario) ? 1 : 0,
                   c.onset >= 0 ? wa::format_time(grid.end_s(c.onset) - grid.interval_s, grid.utc_offset_s).c_str()
                                : "");
    }
    std::fclose(f);
  }
  std::fprintf(stderr, "wrote %s and %s: %d transformers x %d consumers x %d days\n", args.readings.c_str(),
               args.topology.c_str(), args.transformers, args.consumers, args.days);
  return {};
}

void add_theft_commands(CLI::App& app) {
  auto* theft = app.add_subcommand("theft", "Grid-side power-theft analytics: energy balance, suspects, patterns");
  theft->require_subcommand(1);
  auto args = std::make_shared<ScanArgs>();
  auto* scan = theft->add_subcommand(
      "scan",
      "Scan a readings CSV against a topology: per-transformer energy balance with a calibrated technical-loss "
      "model, per-consumer theft score, rank, flag and evidence (formats: docs/theft-formats.md)");
  scan->add_option("--readings", args->readings, "Readings CSV: meter,time,kwh[,register_kwh]")
      ->required()
      ->check(CLI::ExistingFile);
  scan->add_option("--topology", args->topology, "Topology CSV (transformer,meter,role) or JSON")
      ->required()
      ->check(CLI::ExistingFile);
  scan->add_flag("--json", args->json, "One JSON object per line: every consumer, then its transformer");
  scan->add_option("--utc-offset", args->utc_offset,
                   "Local offset for day boundaries when times are Unix seconds (+HH:MM); default: from ISO times");
  scan->add_option("--calibration-days", args->calibration_days,
                   "Most days used to calibrate the loss model and threshold (default 14; at most 40% of the span)")
      ->check(CLI::Range(1, 365));
  scan->callback([args] { finish(run_scan(*args)); });

  auto sim = std::make_shared<SimulateArgs>();
  auto* simulate = theft->add_subcommand(
      "simulate",
      "Write a simulated grid (readings and topology CSV, optional ground truth) with thieves and honest "
      "anomalies, to try `theft scan` on");
  simulate->add_option("--seed", sim->seed, "Random seed");
  simulate->add_option("--transformers", sim->transformers, "Transformers")->check(CLI::Range(1, 1000));
  simulate->add_option("--consumers", sim->consumers, "Consumers per transformer")->check(CLI::Range(1, 500));
  simulate->add_option("--days", sim->days, "Days of 15-minute readings")->check(CLI::Range(2, 730));
  simulate->add_option("--readings", sim->readings, "Readings CSV to write");
  simulate->add_option("--topology", sim->topology, "Topology CSV to write");
  simulate->add_option("--truth", sim->truth, "Also write who is a thief (meter,transformer,scenario,thief,onset)");
  simulate->add_option("--households", sim->households, "Build honest profiles from real exports in this directory")
      ->check(CLI::ExistingDirectory);
  simulate->add_flag("--register", sim->with_register, "Add the register_kwh column (covers gaps)");
  simulate->callback([sim] { finish(run_simulate(*sim)); });
}

const bool kRegistered = register_commands("theft", &add_theft_commands);

}  // namespace
}  // namespace wattguard::cli
