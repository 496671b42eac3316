// `wattguard bench forecast`: the day-ahead forecast benchmark on the real household data sets, per data set,
// held-out households reported (docs/forecasting.md). Attached under the shared `bench` subcommand.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "cli/command_registry.h"
#include "wattguard/evaluation/forecast_bench.h"
#include "wattguard/evaluation/forecast_boosting.h"
#include "wattguard/evaluation/forecast_tuning.h"

namespace wattguard::cli {
namespace {

namespace we = wattguard::evaluation;

struct BenchForecastArgs {
  // The shared data beside the project's checkout (CI and every developer machine keep it there).
  std::string data = WATTGUARD_SHARED_DATA;
  int max_households = 0;
  bool json = false;
  bool tune = false;
  std::string write_trees;  // with --tune: the fitted trees as analytics/forecast_tree_table.cc
  bool no_progress = false;
};

Expected<void> run_bench_forecast(const BenchForecastArgs& args) {
  // Progress goes to stderr whenever it is wanted; a terminal gets a redrawn line, anything else a line per
  // data set, so a log shows how far a run got.
  const bool tty = isatty(STDERR_FILENO) != 0 && std::getenv("CI") == nullptr;
  if (!args.write_trees.empty() && !args.tune) {
    return as_bad_input(Error::invalid("--write-trees", args.write_trees, "--write-trees needs --tune"));
  }
  if (!args.no_progress) std::fprintf(stderr, "loading %s ...\n", args.data.c_str());
  auto sets = we::load_forecast_data_sets(args.data, args.max_households);
  if (!sets.ok()) return as_bad_input(sets.error(), "option --data: " + sets.error().to_string());
  std::string last_set;
  we::ForecastProgress progress;
  if (!args.no_progress) {
    progress = [&](double done, const std::string& set) {
      if (tty) {
        std::fprintf(stderr, "\r%-6s %3.0f%%", set.c_str(), 100.0 * done);
      } else if (set != last_set) {
        std::fprintf(stderr, "scoring %s (%.0f%% done)\n", set.c_str(), 100.0 * done);
      }
      last_set = set;
      std::fflush(stderr);
    };
  }
  analytics::ForecastParams params = analytics::default_forecast_params();
  we::ForecastTuning tuning;  // outlives the run: params' trees point into it
  if (args.tune) {
    tuning = we::tune_forecast(sets.value(), params, progress);
    if (tty && !args.no_progress) std::fputs("\n", stderr);
    std::fputs(tuning.report.c_str(), args.json ? stderr : stdout);  // stdout stays one JSON object
    params = tuning.params;
    if (!args.write_trees.empty()) {
      FILE* out = std::fopen(args.write_trees.c_str(), "w");
      if (out == nullptr) return Error::invalid("--write-trees", args.write_trees, "cannot be written");
      const std::string source = we::forecast_trees_source(tuning.trees, "Fitted by `bench forecast --tune`.");
      const bool written = std::fputs(source.c_str(), out) >= 0;
      if (std::fclose(out) != 0 || !written) {
        return Error::invalid("--write-trees", args.write_trees, "cannot be written");
      }
    }
  }
  const we::ForecastBenchResult result = we::run_forecast_bench(sets.value(), params, false, progress);
  if (tty && !args.no_progress) std::fputs("\n", stderr);
  if (args.json) {
    std::printf("%s\n", we::forecast_bench_to_json(result).dump().c_str());
  } else {
    std::fputs(we::forecast_bench_to_table(result).c_str(), stdout);
  }
  return {};
}

void add_bench_forecast(CLI::App& app) {
  auto args = std::make_shared<BenchForecastArgs>();
  auto* bench = command_group(app, "bench", "Benchmarks: simulated workloads that print measured figures");
  auto* forecast = bench->add_subcommand(
      "forecast",
      "Forecast benchmark: day-ahead half-hourly forecasts from every local midnight on the real households "
      "(EDRP, SGSC, the four Australian homes), against same-slot-yesterday, last-week and 7-day-median baselines: "
      "MAE, daily MAPE, p10-p90 coverage and cycle-end error, held-out households reported");
  forecast->add_option("--data", args->data, "Directory holding households-real/*.csv.gz and households/")
      ->check(CLI::ExistingDirectory)
      ->capture_default_str();
  forecast->add_option("--max-households", args->max_households, "At most this many households per data set (quick)")
      ->check(CLI::Range(1, 100000));
  forecast->add_flag("--json", args->json, "One JSON object: per data set the held-out and tuning figures");
  forecast->add_flag("--tune", args->tune,
                     "First fit the parameters on the tuning households only, print them, then score with them");
  forecast->add_option("--write-trees", args->write_trees,
                       "With --tune: write the fitted trees as C++ (the source of analytics/forecast_tree_table.cc)");
  forecast->add_flag("--no-progress", args->no_progress, "No progress on stderr");
  forecast->callback([args] { finish(run_bench_forecast(*args)); });
}

const bool kRegistered = register_commands("bench_forecast", &add_bench_forecast);

}  // namespace
}  // namespace wattguard::cli
