// A seeded generator of realistic household consumption (15-minute energy), for the theft benchmark and tests:
// base load and fridge cycles, occupancy schedules (workers, people at home, shift workers), cooking, laundry,
// dishwasher, lighting after dark, temperature-driven heating and cooling, off-peak water heating, pool pumps.
#pragma once

#include <cstdint>
#include <random>

namespace wattguard::evaluation {

struct HouseholdTraits {
  double scale = 1.0;  // multiplies all active use (size of the household)
  double standby_kw = 0.1;
  double fridge_kw = 0.12;
  int fridge_period_min = 50;
  int fridge_phase_min = 0;
  int occupancy = 0;  // 0 worker, 1 at home, 2 shift worker
  double wake_h = 6.5;
  double sleep_h = 22.8;
  double return_h = 17.5;
  double heating_kw_per_c = 0;  // electric heating below 16 C
  double cooling_kw_per_c = 0;  // air conditioning above 25 C
  bool water_heater = false;    // off-peak electric water heating at night
  bool pool_pump = false;
  double lights_kw = 0.2;
  double media_kw = 0.2;
};

class SyntheticHousehold {
 public:
  // Draws the household's traits from its own seed; scale_hint multiplies the drawn size.
  SyntheticHousehold(uint64_t seed, double scale_hint = 1.0);

  // True energy (kWh) of the 15-minute slots of one local day (out has 96 entries).
  // weekday: 0 Monday .. 6 Sunday; mean_temp_c: the day's mean outdoor temperature; day_of_year for daylight.
  // away: nobody home (holiday): standby, fridge, timers (pool pump) and water-heater standing losses only.
  void day(int weekday, double mean_temp_c, int day_of_year, float* out96, bool away = false);

  const HouseholdTraits& traits() const { return traits_; }

 private:
  HouseholdTraits traits_;
  std::mt19937_64 rng_;
  double hot_water_debt_ = 1.0;  // hours of water heating owed from yesterday's use
};

}  // namespace wattguard::evaluation
