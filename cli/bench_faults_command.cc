// `wattguard bench faults`: fault drills against the real broker, server process and virtual meters on
// loopback; one JSON object (or table row) per drill with sent, stored, lost, stored_twice and recovered_s.
// The drills themselves are in cli/bench_faults_drills.h; docs/fault-drills.md explains them.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "cli/bench_faults_drills.h"
#include "cli/command_registry.h"

namespace wattguard::cli {
namespace {

// The target: back to normal within this long after the fault's end.
constexpr double kRecoveryTargetS = 30;

struct BenchFaultsArgs {
  bool json = false;
  bool short_run = false;
  std::vector<std::string> drills;
  std::size_t meters = 0;  // 0: 20, or 10 with --short
  std::size_t outage_meters = 2;
  int period_s = 1;
  double outage_s = 0;  // 0: 600, or 12 with --short
  int64_t clock_jump_s = 3600;
  uint64_t disk_freed_mib = DrillSettings{}.disk_freed_mib;
  std::string data;
  bool keep_data = false;
  bool no_progress = false;
  uint64_t seed = 1;
  bool verbose = false;
};

// Ordered: the six keys of the contract come first, in its order.
nlohmann::ordered_json to_json(const DrillReport& r) {
  nlohmann::ordered_json j{{"drill", r.drill}};
  if (!r.skipped.empty() || !r.error.empty()) {
    for (const char* k : {"sent", "stored", "lost", "stored_twice", "recovered_s"}) j[k] = nullptr;
    if (!r.skipped.empty()) j["skipped"] = r.skipped;
    if (!r.error.empty()) j["error"] = r.error;
    return j;
  }
  j["sent"] = r.counts.sent;
  j["stored"] = r.counts.stored;
  j["lost"] = r.counts.lost;
  j["stored_twice"] = r.counts.stored_twice;
  j["recovered_s"] =
      r.recovered_s ? nlohmann::ordered_json(std::round(*r.recovered_s * 10) / 10) : nlohmann::ordered_json(nullptr);
  j["recovered"] = r.recovered_s.has_value() && *r.recovered_s <= kRecoveryTargetS;
  j["fault_s"] = std::round(r.fault_s * 10) / 10;
  j["meters"] = r.meters;
  j["health_during"] = r.health_during;
  j["ready_during"] = r.ready_during;
  j["health_after"] = r.health_after;
  if (!r.notes.empty()) j["notes"] = r.notes;
  return j;
}

std::string joined(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += (out.empty() ? "" : ",") + x;
  return out.empty() ? "-" : out;
}

void print_row(const DrillReport& r) {
  if (!r.skipped.empty() || !r.error.empty()) {
    std::printf("%-13s %s: %s\n", r.drill.c_str(), r.skipped.empty() ? "ERROR" : "skipped",
                (r.skipped.empty() ? r.error : r.skipped).c_str());
    return;
  }
  char rec[32];
  if (r.recovered_s) {
    std::snprintf(rec, sizeof rec, "%.1f", *r.recovered_s);
  } else {
    std::snprintf(rec, sizeof rec, "never");
  }
  std::printf("%-13s %8llu %8llu %6llu %6llu %11s %7.1f  %-16s %s\n", r.drill.c_str(),
              static_cast<unsigned long long>(r.counts.sent), static_cast<unsigned long long>(r.counts.stored),
              static_cast<unsigned long long>(r.counts.lost), static_cast<unsigned long long>(r.counts.stored_twice),
              rec, r.fault_s, joined(r.health_during).c_str(), r.notes.c_str());
}

Expected<void> run_bench_faults(const BenchFaultsArgs& a) {
  if (!a.verbose) spdlog::set_level(spdlog::level::warn);
  if (!spdlog::get("wattguard")) {
    auto logger = spdlog::stderr_color_mt("wattguard");
    logger->set_pattern("%H:%M:%S.%e %^%-5l%$ %v");
    spdlog::set_default_logger(logger);
    if (!a.verbose) spdlog::set_level(spdlog::level::warn);
  }
  std::vector<std::string> drills = a.drills.empty() ? drill_names() : a.drills;
  for (const auto& d : drills) {
    if (std::find(drill_names().begin(), drill_names().end(), d) == drill_names().end()) {
      return option_error(
          "--drill", d, "--drill: '" + d + "' is not server_kill, broker_kill, disk_full, clock_jump or meter_outage");
    }
  }

  DrillSettings s;
  s.meters = a.meters != 0 ? a.meters : 20;
  s.outage_meters = a.outage_meters;
  s.period_ms = static_cast<uint32_t>(a.period_s) * 1000u;
  s.seed = a.seed;
  s.clock_offset_s = a.clock_jump_s;
  s.disk_freed_mib = a.disk_freed_mib;
  s.progress = !a.no_progress;
  if (a.short_run) {
    s.warmup_s = 4;
    s.down_s = 3;
    s.disk_full_s = 10;
    s.clock_jump_s = 6;
    s.outage_s = 12;
    s.watch_s = 45;
  }
  if (a.outage_s > 0) s.outage_s = a.outage_s;
  const bool temp = a.data.empty();
  s.root = temp ? std::filesystem::temp_directory_path() / ("wattguard-faults-" + std::to_string(::getpid()))
                : std::filesystem::absolute(a.data);

  if (!a.json) {
    std::printf("bench faults: %zu meters, a reading every %d s%s\n", s.meters, a.period_s,
                a.short_run ? " (short version)" : "");
    std::printf("%-13s %8s %8s %6s %6s %11s %7s  %-16s %s\n", "drill", "sent", "stored", "lost", "twice", "recovered_s",
                "fault_s", "health", "notes");
    std::fflush(stdout);
  }
  for (const auto& d : drills) {
    const DrillReport r = run_drill(d, s);
    if (a.json) {
      std::printf("%s\n", to_json(r).dump().c_str());
    } else {
      print_row(r);
    }
    std::fflush(stdout);
  }
  if (temp && !a.keep_data) {
    std::error_code ec;
    std::filesystem::remove_all(s.root, ec);
  } else if (s.progress) {
    std::fprintf(stderr, "[bench faults] data kept in %s\n", s.root.c_str());
  }
  return {};
}

void add_bench_faults(CLI::App& app) {
  auto a = std::make_shared<BenchFaultsArgs>();
  auto* bench = command_group(app, "bench", "Benchmarks: simulated workloads that print measured figures");
  auto* cmd = bench->add_subcommand(
      "faults",
      "Fault drills on this machine: a private Mosquitto, `wattguard serve` as its own process and virtual meters "
      "with journals, on loopback. Each drill starts fresh, lets the meters report, injects a fault, ends it and "
      "counts the database's rows:\n"
      "  server_kill   kill -9 of the server mid-stream, restarted on the same data and config\n"
      "  broker_kill   kill -9 of the broker, restarted on the same port and persistence\n"
      "  disk_full     the server's data directory (a tmpfs; needs root) filled with a ballast file, then 6 MiB of it "
      "freed\n"
      "  clock_jump    the server's wall clock jumps (+1 h by default, libfaketime) and comes back\n"
      "  meter_outage  some meters lose their network (10 min; --short: 12 s), power-cycle and replay their "
      "journal\n"
      "Per drill: sent (readings the meters made), stored (distinct meter+seq rows in the database), lost, "
      "stored_twice (rows beyond the first), recovered_s (fault's end until the store caught up; "
      "docs/fault-drills.md). Target: 0 lost, 0 twice, recovered within 30 s.");
  cmd->add_flag("--json", a->json,
                "One JSON object per drill (drill, sent, stored, lost, stored_twice, recovered_s...)");
  cmd->add_flag("--short", a->short_run, "The short version `make test` runs (faults of seconds)");
  cmd->add_option("--drill", a->drills, "Run only this drill (repeatable); default: all five");
  cmd->add_option("--meters", a->meters, "Meters reporting straight to the broker")->check(CLI::Range(1, 2000));
  cmd->add_option("--outage-meters", a->outage_meters, "Meters that lose their network in meter_outage")
      ->check(CLI::Range(1, 100));
  cmd->add_option("--period-s", a->period_s, "Report period of every meter, seconds")->check(CLI::Range(1, 60));
  cmd->add_option("--outage-s", a->outage_s, "meter_outage: seconds without network (default 600; --short 12)")
      ->check(CLI::Range(1.0, 86400.0));
  cmd->add_option("--clock-jump-s", a->clock_jump_s, "clock_jump: how far the server's clock jumps (negative: back)")
      ->check(CLI::Range(int64_t{-86400}, int64_t{86400}));
  cmd->add_option("--disk-freed-mib", a->disk_freed_mib,
                  "disk_full: MiB the fault's end frees (default 6, as an operator deleting a log; 0: all of it)")
      ->check(CLI::Range(uint64_t{0}, uint64_t{1024}));
  cmd->add_option("--data", a->data, "Directory for the drills' data (default: a temporary one, removed afterwards)");
  cmd->add_flag("--keep-data", a->keep_data, "Keep the temporary directory (logs, databases, journals)");
  cmd->add_flag("--no-progress", a->no_progress, "No progress lines on stderr");
  cmd->add_option("--seed", a->seed, "Seed for the households");
  cmd->add_flag("--verbose", a->verbose, "Log at info level (default: warnings only)");
  cmd->callback([a] { finish(run_bench_faults(*a)); });
}

const bool kRegistered = register_commands("bench_faults", &add_bench_faults);

}  // namespace
}  // namespace wattguard::cli
