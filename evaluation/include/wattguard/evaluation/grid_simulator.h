// A simulated distribution grid for the theft benchmark: transformers with check meters and varied households
// (synthetic, or built from real half-hourly exports), technical losses with noise, meter errors, missing
// readings, honest anomalies (holidays, new appliances, long outages, a seasonal temperature shift) and thieves
// spread over every theft scenario. Everything is drawn from one seed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wattguard/evaluation/real_households.h"

namespace wattguard::evaluation {

enum class Scenario : int {
  // honest
  kNormal = 0,
  kHoliday,       // away for 3-14 days: base load only
  kNewAppliance,  // an EV charger or heat pump from some day on
  kMeterOutage,   // a 1-4 day communication outage
  // theft
  kBypassFraction,  // a share of the load (20-80 %) wired around the meter
  kBypassLarge,     // a large customer bypassing 50-100 % (>= 3 % of its transformer's energy)
  kZeroReporting,   // full bypass: the meter sees nothing
  kFlatReporting,   // reports a small constant
  kH1,
  kH2,
  kH3,
  kH4,
  kH5,
  kH6,                 // Jokar et al. 2016 false-data attacks (reference/theft.md)
  kNightIntermittent,  // full bypass at night, on most nights
  kRamp,               // slowly growing share hidden (0.07 per day up to 40-90 %)
  kOffline,            // meter taken offline, use unmetered
  kCount
};
inline constexpr int kScenarioCount = static_cast<int>(Scenario::kCount);
const char* scenario_name(Scenario s);
bool is_theft(Scenario s);
// h5 and h6 keep each day's energy: the balance cannot see them, only the pattern can.
bool takes_energy(Scenario s);

struct GridSimConfig {
  uint64_t seed = 1;
  int transformers = 20;
  int consumers = 50;  // per transformer
  int days = 60;
  int calibration_days = 14;  // thefts start after this (the balance learns the loss model first)
  double thief_share = 0.05;
  double holiday_share = 0.08;
  double new_appliance_share = 0.05;
  double outage_share = 0.04;
  double short_outages_per_day = 1.0 / 15;           // every meter: short communication gaps
  const std::vector<RealHousehold>* real = nullptr;  // when set, honest profiles come from these
  // With `real`: every consumer is its own household, unscaled and unshifted (consumer k of the grid is
  // household k % size, in its own window k / size of days + 2 days from the household's first day), so a grid
  // of real homes keeps their real changes; the caller sets the synthetic honest anomaly shares to 0.
  bool real_distinct = false;
  int32_t utc_offset_s = 10 * 3600;
};

struct SimConsumer {
  std::string id;
  int transformer = 0;
  Scenario scenario = Scenario::kNormal;
  int64_t onset = -1;               // interval index where the theft (or honest anomaly) starts
  std::vector<float> true_kwh;      // what the household used (as its meter would measure)
  std::vector<float> reported_kwh;  // what the meter reports
  std::vector<uint8_t> present;     // 0 = reading missing
};

struct SimTransformer {
  std::string id;
  std::string check_id;
  std::vector<int> consumers;
  std::vector<float> check_kwh;
  std::vector<uint8_t> check_present;
  std::vector<float> technical_kwh;  // the true technical loss (for inspection)
};

struct SimulatedGrid {
  int64_t first_end_s = 0;
  int64_t interval_s = 900;
  int64_t count = 0;
  int32_t utc_offset_s = 0;
  int slots_per_day = 96;
  std::vector<SimConsumer> consumers;
  std::vector<SimTransformer> transformers;
  int64_t end_s(int64_t k) const { return first_end_s + k * interval_s; }
};

SimulatedGrid simulate_grid(const GridSimConfig& config);

// Writes the grid as the scan's input files (docs/theft-formats.md). with_register adds a register_kwh column so
// gaps are covered. Returns false if a file cannot be written.
bool write_grid_csv(const SimulatedGrid& grid, const std::string& readings_path, const std::string& topology_path,
                    bool with_register);

}  // namespace wattguard::evaluation
