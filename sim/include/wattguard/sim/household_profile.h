// A seeded generator of realistic daily household load profiles, for the virtual-meter fleet.
//
// A seed fixes the house (which appliances, their sizes, the occupants' habits); each day is
// then generated from the seed and the day number: wake-up and bedtime, whether people are
// out during the day, kettle and microwave uses, cooking with the hob's thermostat cycling,
// toaster and hair dryer in the morning, a space heater on cold days, fridge and freezer
// compressor cycles, lighting in rooms switched on and off in the evening,
// TV, washing, dishwasher, air conditioning on some days, an off-peak water heater, an EV, and
// rooftop PV that exports at midday. The result has a morning and a larger evening peak and
// a base load at night, like real half-hourly data, and is the same for the same seed.
//
// Thread-safe: days are generated on demand and cached behind a mutex.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "wattguard/sim/load_profile.h"

namespace wattguard::sim {

struct HouseholdOptions {
  double start_time_of_day_s = 0.0;  // profile time 0 is this time of day (0: midnight)
  int64_t start_day = 0;             // day number at profile time 0 (0 is a Monday)
  bool allow_solar = true;           // allow rooftop PV (export) in some houses
  double vrms = 230.0;               // supply voltage the appliance powers refer to
};

// What the seed made of the house.
struct HouseholdTraits {
  int occupants = 2;
  double base_w = 100;  // always-on standby
  double fridge_w = 120;
  bool has_freezer = false;
  double freezer_w = 100;
  double kettle_w = 0;  // 0: none
  double microwave_w = 0;
  double toaster_w = 0;
  double hair_dryer_w = 0;
  double space_heater_w = 0;  // electric heater used on cold days; 0: none
  double cooking_w = 0;       // electric hob/oven; 0: cooks with gas
  double lighting_w = 120;    // all LED lamps on at once
  double tv_w = 120;
  double washer_heater_w = 0;    // 0: no washing machine
  double dishwasher_w = 0;       // 0: none
  double ac_w = 0;               // inverter air conditioner; 0: none
  double water_heater_w = 0;     // off-peak storage water heater; 0: none
  double ev_w = 0;               // EV charging; 0: none
  double solar_peak_w = 0;       // PV peak export; 0: none
  bool out_on_weekdays = false;  // everyone away from morning to late afternoon
};

class HouseholdProfile final : public LoadProfile {
 public:
  explicit HouseholdProfile(uint64_t seed, HouseholdOptions options = {});

  LoadSegment segment_at(double t_s) const override;

  const HouseholdTraits& traits() const { return traits_; }
  uint64_t seed() const { return seed_; }
  // One line naming the house's appliances, for logs.
  std::string describe() const;

  // One appliance switched on over [start_s, end_s) of a day (seconds from midnight), at
  // `scale` times its rated load.
  struct Interval {
    double start_s = 0;
    double end_s = 0;
    uint16_t appliance = 0;  // index into appliances()
    float scale = 1.0f;
  };
  // The intervals of day `day_number` (generated on first use).
  std::vector<Interval> day_intervals(int64_t day_number) const;
  // Rated load of each appliance, in the order of the Appliance enum in the source.
  const std::vector<LoadPhasors>& appliances() const { return appliances_; }

 private:
  struct Day {
    std::vector<Interval> intervals;  // sorted by start
  };
  std::shared_ptr<const Day> day(int64_t day_number) const;
  Day build_day(int64_t day_number) const;

  uint64_t seed_;
  HouseholdOptions options_;
  HouseholdTraits traits_;
  std::vector<LoadPhasors> appliances_;
  mutable std::mutex mutex_;
  mutable std::map<int64_t, std::shared_ptr<const Day>> cache_;
};

}  // namespace wattguard::sim
