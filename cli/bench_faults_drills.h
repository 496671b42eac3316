// The five fault drills of `wattguard bench faults` (server_kill, broker_kill, disk_full, clock_jump,
// meter_outage): each starts a fresh Rig, lets the meters report, injects its fault, ends it, watches the system
// recover, drains the meters, stops the server and counts the database's rows. docs/fault-drills.md says what
// each does and how every figure is measured.
// Thread safety: none; drills run one after the other on the calling thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cli/bench_faults_accounting.h"

namespace wattguard::cli {

// Every drill, in the order they run.
const std::vector<std::string>& drill_names();

struct DrillSettings {
  std::filesystem::path root;  // each drill gets root/<name>, fresh
  std::size_t meters = 20;
  std::size_t outage_meters = 2;  // meter_outage only: the meters that lose their network
  uint32_t period_ms = 1000;
  uint64_t seed = 1;
  double warmup_s = 15;           // normal reporting before the fault
  double down_s = 10;             // server_kill, broker_kill: how long the process stays dead
  double disk_full_s = 20;        // disk_full: how long the disk stays full
  double clock_jump_s = 20;       // clock_jump: how long the server's clock stays off
  int64_t clock_offset_s = 3600;  // clock_jump: the jump (negative: back)
  double outage_s = 600;          // meter_outage: how long the meters' network is down
  double watch_s = 120;           // longest wait for recovery after the fault's end
  double poll_s = 1;              // how often the store is asked
  uint64_t tmpfs_mib = 64;        // disk_full: size of the server's data directory
  uint64_t disk_freed_mib = 6;    // disk_full: space the fault's end frees (0: the whole ballast)
  std::string faketime_library = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
  bool progress = true;  // a line per phase on stderr
};

// What one drill measured.
struct DrillReport {
  std::string drill;
  std::string skipped;  // non-empty: the drill could not run here, and why
  std::string error;    // non-empty: the drill broke off (the rig did not start...)
  DrillCounts counts;
  std::optional<double> recovered_s;
  double fault_s = 0;                   // how long the fault lasted
  std::size_t meters = 0;               // every meter of the drill
  std::set<std::string> health_during;  // /api/v1/health status seen from the fault's start to recovery
  std::set<int> ready_during;           // /readyz statuses seen then (0: no answer)
  std::string health_after;             // status once drained
  std::string notes;                    // what else the drill saw (ballast size, server exit...)
};

// Runs one drill. REQUIRES: name is one of drill_names().
DrillReport run_drill(const std::string& name, const DrillSettings& settings);

}  // namespace wattguard::cli
