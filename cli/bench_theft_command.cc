// `wattguard bench theft`: the grid-side theft benchmark (simulated grid, per-scenario detection figures).
// Registered as group "bench_theft" and attached under the shared `bench` subcommand (command_group).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "cli/command_registry.h"
#include "wattguard/evaluation/long_households.h"
#include "wattguard/evaluation/real_households.h"
#include "wattguard/evaluation/real_theft_bench.h"
#include "wattguard/evaluation/theft_bench.h"

namespace wattguard::cli {
namespace {

namespace we = wattguard::evaluation;

struct BenchTheftArgs {
  uint64_t seed = 1;
  int transformers = 20;
  int consumers = 50;
  int days = 60;
  int runs = 1;
  std::string households;
  std::vector<std::string> real;  // long-format files of real households (households-real)
  std::string part = "report";
  int homes_per_dt = 30;
  bool days_given = false;  // --real runs 90 days unless --days says otherwise
  bool json = false;
  bool no_progress = false;
};

// One section per file of real households: grids of distinct real homes, reported on the chosen split part.
Expected<void> run_bench_theft_real(const BenchTheftArgs& args, bool bar) {
  we::RealBenchOptions options;
  options.part = args.part == "tune" ? we::SplitPart::kTune : we::SplitPart::kReport;
  options.homes_per_dt = args.homes_per_dt;
  options.days = args.days_given ? args.days : 90;
  options.seed = args.seed;
  options.runs = args.runs;
  nlohmann::json all = nlohmann::json::object();
  for (const std::string& path : args.real) {
    auto households = we::load_long_households(path);
    if (!households.ok()) return as_bad_input(households.error(), "option --real: " + households.error().to_string());
    std::string name = path.substr(path.find_last_of('/') + 1);
    name = name.substr(0, name.find('.'));
    we::BenchProgress progress;
    if (bar) {
      progress = [&](double f) {
        std::fprintf(stderr, "\r%s %3.0f%%", name.c_str(), 100.0 * f);
        std::fflush(stderr);
      };
    }
    auto result = we::run_real_theft_bench(name, households.value(), options, progress);
    if (bar) std::fprintf(stderr, "\r%*s\r", 70, "");
    if (!result.ok()) return as_bad_input(result.error(), "option --real: " + result.error().to_string());
    if (args.json) {
      all[name] = we::bench_to_json(result.value());
    } else {
      std::fputs(we::bench_to_table(result.value()).c_str(), stdout);
      std::fputs("\n", stdout);
    }
  }
  if (args.json) std::printf("%s\n", all.dump().c_str());
  return {};
}

Expected<void> run_bench_theft(const BenchTheftArgs& args) {
  std::vector<we::RealHousehold> real;
  we::GridSimConfig config;
  config.transformers = args.transformers;
  config.consumers = args.consumers;
  config.days = args.days;
  config.calibration_days = std::min(14, std::max(1, args.days / 4));
  if (!args.households.empty()) {
    auto loaded = we::load_real_households(args.households);
    if (!loaded.ok()) return as_bad_input(loaded.error(), "option --households: " + loaded.error().to_string());
    real = std::move(loaded).value();
    config.real = &real;
  }
  // A bar only for people: not when stderr is a file or pipe, nor in CI.
  const bool bar = !args.no_progress && isatty(STDERR_FILENO) && std::getenv("CI") == nullptr;
  if (!args.real.empty()) return run_bench_theft_real(args, bar);
  std::vector<we::BenchResult> results;
  for (int run = 0; run < args.runs; ++run) {
    config.seed = args.seed + static_cast<uint64_t>(run);
    we::BenchProgress progress;
    if (bar) {
      progress = [&](double f) {
        const int width = 40, done = static_cast<int>(f * width);
        std::fprintf(stderr, "\rrun %d/%d [%.*s%*s] %3.0f%%", run + 1, args.runs, done,
                     "########################################", width - done, "", 100.0 * f);
        std::fflush(stderr);
      };
    }
    results.push_back(we::run_theft_bench(config, progress));
    if (bar) std::fprintf(stderr, "\r%*s\r", 70, "");
  }
  const we::BenchResult result = args.runs > 1 ? we::median_of_runs(results) : results.front();
  if (args.json) {
    std::printf("%s\n", we::bench_to_json(result).dump().c_str());
  } else {
    std::fputs(we::bench_to_table(result).c_str(), stdout);
  }
  return {};
}

void add_bench_theft(CLI::App& app) {
  auto args = std::make_shared<BenchTheftArgs>();
  auto* bench = command_group(app, "bench", "Benchmarks: simulated workloads that print measured figures");
  auto* theft = bench->add_subcommand(
      "theft",
      "Theft-detection benchmark: simulate transformers with check meters, households, 5% thieves over every "
      "scenario, missing data and honest anomalies; report detection, false alarms, precision/recall, pattern AUC, "
      "localisation top-1/top-3 and time to detect per scenario");
  theft->add_option("--seed", args->seed, "Random seed (runs use seed, seed+1, ...)");
  theft->add_option("--transformers", args->transformers, "Transformers")->check(CLI::Range(1, 2000));
  theft->add_option("--consumers", args->consumers, "Consumers per transformer")->check(CLI::Range(2, 500));
  auto* days = theft->add_option("--days", args->days, "Days of 15-minute readings (default 60; 90 with --real)")
                   ->check(CLI::Range(8, 730));
  theft->add_option("--runs", args->runs, "Run this many seeds and report the median of each figure")
      ->check(CLI::Range(1, 100));
  theft
      ->add_option("--households", args->households,
                   "Honest profiles from real half-hourly exports in this directory (default: synthetic)")
      ->check(CLI::ExistingDirectory);
  theft
      ->add_option("--real", args->real,
                   "Grids of distinct real households from this long-format file (household,time,kwh; .csv.gz), "
                   "one section per file; repeatable. --days caps the run, --runs sets the seeds")
      ->check(CLI::ExistingFile);
  theft->add_option("--part", args->part, "With --real: the split part to report on (tune or report)")
      ->check(CLI::IsMember({"tune", "report"}));
  theft->add_option("--homes-per-dt", args->homes_per_dt, "With --real: households per transformer")
      ->check(CLI::Range(10, 60));
  theft->add_flag("--json", args->json, "One JSON object: an entry per scenario, h1_h6, overall and meta");
  theft->add_flag("--no-progress", args->no_progress, "No progress bar on stderr");
  theft->callback([args, days] {
    args->days_given = days->count() > 0;
    finish(run_bench_theft(*args));
  });
}

const bool kRegistered = register_commands("bench_theft", &add_bench_theft);

}  // namespace
}  // namespace wattguard::cli
