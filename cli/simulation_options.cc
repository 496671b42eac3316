// Builds the simulator's configuration and load profile from the `meter simulate` / `meter record` options.
#include "cli/simulation_options.h"

#include <charconv>
#include <cmath>
#include <sstream>
#include <vector>

#include "cli/command_registry.h"
#include "wattguard/sim/constant_profile.h"
#include "wattguard/sim/cyclic_profile.h"
#include "wattguard/sim/household_profile.h"
#include "wattguard/sim/step_profile.h"

namespace wattguard::cli {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, sep)) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

Expected<double> parse_number(const std::string& text, const std::string& option) {
  double value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || !std::isfinite(value)) {
    return option_error(option, text, "'" + text + "' is not a number");
  }
  return value;
}

// "3:30,5:10" -> harmonics (order 2..15, percent 0..100).
Expected<std::vector<sim::Harmonic>> parse_harmonics(const std::string& text, const std::string& option) {
  std::vector<sim::Harmonic> out;
  for (const auto& item : split(text, ',')) {
    const auto pair = split(item, ':');
    if (pair.size() != 2) return option_error(option, item, "'" + item + "' is not ORDER:PERCENT");
    const auto order = parse_number(pair[0], option);
    if (!order.ok()) return order.error();
    const auto percent = parse_number(pair[1], option);
    if (!percent.ok()) return percent.error();
    if (*order != std::floor(*order) || *order < 2 || *order > sim::kMaxHarmonicOrder) {
      return option_error(option, pair[0], "harmonic order " + pair[0] + " is outside 2..15");
    }
    if (*percent < 0 || *percent > 100) return option_error(option, pair[1], pair[1] + " % is outside 0..100");
    out.push_back(sim::Harmonic{static_cast<int>(*order), *percent, 0.0});
  }
  return out;
}

}  // namespace

void SimulationOptions::add_to(CLI::App* cmd) {
  cmd->add_option("--vrms", vrms, "Supply voltage, V RMS")->capture_default_str()->check(CLI::Range(1.0, 1000.0));
  cmd->add_option("--irms", irms, "Load current (fundamental), A RMS")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 200.0));
  cmd->add_option("--pf", pf, "Displacement power factor of the load, 0..1")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  auto* lag_flag = cmd->add_flag("--lag", lag, "Current lags the voltage (inductive; the default)");
  cmd->add_flag("--lead", lead, "Current leads the voltage (capacitive)")->excludes(lag_flag);
  cmd->add_flag("--reverse", reverse, "Power flows to the grid (export)");
  cmd->add_option("--freq", freq_hz, "Supply frequency, Hz")->capture_default_str()->check(CLI::Range(40.0, 70.0));
  cmd->add_option("--drift", drift_hz_per_s, "Frequency drift, Hz per second")->capture_default_str();
  cmd->add_option("--harmonics", harmonics, "Current harmonics as ORDER:PERCENT,... e.g. 3:30,5:10");
  cmd->add_option("--v-harmonics", v_harmonics, "Voltage harmonics as ORDER:PERCENT,...");
  cmd->add_option("--cycle", cycle, "Switch the load: on for ON of every PERIOD seconds, as ON/PERIOD (e.g. 0.7/3)");
  cmd->add_option("--steps", steps, "Load steps T:AMPS,... e.g. 0:5,10:0,20:8 (PF and harmonics as given)");
  cmd->add_option("--household", household, "Simulate a generated household (its seed) instead of a fixed load");
  cmd->add_option("--seconds", seconds, "Simulated duration, s")->capture_default_str()->check(CLI::Range(0.1, 1e7));
  cmd->add_option("--rate", rate_hz, "Sample rate per channel, Hz")
      ->capture_default_str()
      ->check(CLI::Range(1000, 20000));
  cmd->add_option("--bits", bits, "ADC width, bits")->capture_default_str()->check(CLI::Range(10, 16));
  cmd->add_option("--noise", noise_counts, "ADC noise, counts RMS")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100.0));
  cmd->add_option("--ct-lead", ct_lead_deg, "Phase lead of the current clamp, degrees")
      ->capture_default_str()
      ->check(CLI::Range(-20.0, 20.0));
  cmd->add_option("--skew-us", skew_us, "Delay of the current sample after the voltage sample, us")
      ->capture_default_str();
  cmd->add_option("--seed", seed, "Random seed (noise)")->capture_default_str();
}

Expected<sim::SimConfig> SimulationOptions::sim_config() const {
  sim::SimConfig c;
  c.sample_rate_hz = rate_hz;
  c.grid.vrms = vrms;
  c.grid.frequency_hz = freq_hz;
  c.grid.drift_hz_per_s = drift_hz_per_s;
  auto grid_harmonics = parse_harmonics(v_harmonics, "--v-harmonics");
  if (!grid_harmonics.ok()) return grid_harmonics.error();
  c.grid.harmonics = std::move(grid_harmonics).value();
  c.adc.bits = bits;
  c.adc.noise_counts_rms = noise_counts * std::pow(2.0, bits - 12);
  c.phase_clamp.phase_lead_deg = ct_lead_deg;
  c.neutral_clamp.phase_lead_deg = ct_lead_deg;
  c.channel_skew_us = skew_us;
  c.seed = seed;
  // The message names the setting and its value ("adc.bits = 17: expected 10..16").
  if (auto usable = sim::validate(c); !usable) return as_bad_input(usable.error());
  return c;
}

Expected<std::shared_ptr<const sim::LoadProfile>> SimulationOptions::profile() const {
  using Profile = std::shared_ptr<const sim::LoadProfile>;
  if (!household.empty()) {
    const auto seed_value = parse_number(household, "--household");
    if (!seed_value.ok()) return seed_value.error();
    return Profile(std::make_shared<sim::HouseholdProfile>(static_cast<uint64_t>(*seed_value)));
  }
  // --harmonics is read for each load state, so a bad value is reported only once a state is built (after the
  // --steps item's own checks), as it always has been.
  auto state_for = [&](double amps) -> Expected<sim::LoadPhasors> {
    sim::LoadState s;
    s.irms_a = amps;
    s.pf = pf;
    s.leading = lead;
    s.direction = reverse ? sim::PowerDirection::kExport : sim::PowerDirection::kImport;
    auto load_harmonics = parse_harmonics(harmonics, "--harmonics");
    if (!load_harmonics.ok()) return load_harmonics.error();
    s.harmonics = std::move(load_harmonics).value();
    return sim::LoadPhasors(s);
  };
  if (!steps.empty()) {
    std::vector<sim::StepProfile::Step> list;
    for (const auto& item : split(steps, ',')) {
      const auto pair = split(item, ':');
      if (pair.size() != 2) return option_error("--steps", item, "'" + item + "' is not TIME:AMPS");
      const auto t = parse_number(pair[0], "--steps");
      if (!t.ok()) return t.error();
      const auto amps = parse_number(pair[1], "--steps");
      if (!amps.ok()) return amps.error();
      if (*t < 0 || *amps < 0) return option_error("--steps", item, "'" + item + "' has a negative time or current");
      auto state = state_for(*amps);
      if (!state.ok()) return state.error();
      list.push_back({*t, std::move(state).value()});
    }
    return Profile(std::make_shared<sim::StepProfile>(std::move(list)));
  }
  if (!cycle.empty()) {
    const auto pair = split(cycle, '/');
    if (pair.size() != 2) return option_error("--cycle", cycle, "'" + cycle + "' is not ON/PERIOD");
    const auto on = parse_number(pair[0], "--cycle");
    if (!on.ok()) return on.error();
    const auto period = parse_number(pair[1], "--cycle");
    if (!period.ok()) return period.error();
    if (!(*period > 0) || *on < 0 || *on > *period) {
      return option_error("--cycle", cycle, "need 0 <= ON <= PERIOD and PERIOD > 0, got " + cycle);
    }
    // The checks above are CycleSpec's rules, so the constructor's precondition holds.
    auto state = state_for(irms);
    if (!state.ok()) return state.error();
    return Profile(std::make_shared<sim::CyclicProfile>(std::move(state).value(), sim::CycleSpec{*on, *period, 0.0}));
  }
  auto state = state_for(irms);
  if (!state.ok()) return state.error();
  return Profile(std::make_shared<sim::ConstantProfile>(std::move(state).value()));
}

Expected<std::unique_ptr<sim::MeterSimulator>> SimulationOptions::simulator() const {
  auto config = sim_config();
  if (!config.ok()) return config.error();
  auto load = profile();
  if (!load.ok()) return load.error();
  return sim::MeterSimulator::create(config.value(), std::move(load).value());
}

}  // namespace wattguard::cli
