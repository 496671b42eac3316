// Command-line options that describe a simulated meter and its load (simulate, record).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "wattguard/base/expected.h"
#include "wattguard/sim/load_profile.h"
#include "wattguard/sim/meter_simulator.h"
#include "wattguard/sim/sim_config.h"

namespace wattguard::cli {

struct SimulationOptions {
  double vrms = 230.0;
  double irms = 5.0;
  double pf = 1.0;
  bool lag = false;
  bool lead = false;
  bool reverse = false;
  double freq_hz = 50.0;
  double drift_hz_per_s = 0.0;
  std::string harmonics;    // current harmonics "3:30,5:10" (order:percent)
  std::string v_harmonics;  // voltage harmonics, same form
  std::string cycle;        // "ON/PERIOD" seconds: the load is on for ON s of every PERIOD s
  std::string steps;        // "T:I,T:I,...": from T s on the load draws I A
  std::string household;    // seed: a generated household instead of a fixed load
  double seconds = 20.0;
  uint32_t rate_hz = 4000;
  int bits = 12;
  double noise_counts = 3.0;
  double ct_lead_deg = 1.5;
  double skew_us = 0.0;
  uint64_t seed = 1;

  // Adds the options to `cmd`.
  void add_to(CLI::App* cmd);
  // Builds the simulator's configuration; for nonsense an Error (exit 2) naming the option and value.
  Expected<sim::SimConfig> sim_config() const;
  // The load from --household, --steps, --cycle or the fixed current; Errors as sim_config().
  Expected<std::shared_ptr<const sim::LoadProfile>> profile() const;
  // The simulator of sim_config() and profile(); their Errors.
  Expected<std::unique_ptr<sim::MeterSimulator>> simulator() const;
};

}  // namespace wattguard::cli
