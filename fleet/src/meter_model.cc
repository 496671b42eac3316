// Builds the model a fleet's fidelity asks for, around the meter's seeded household.
#include "wattguard/fleet/meter_model.h"

#include "fast_meter_model.h"
#include "sample_meter_model.h"
#include "wattguard/sim/household_profile.h"

namespace wattguard::fleet {

const char* fidelity_name(Fidelity fidelity) {
  switch (fidelity) {
    case Fidelity::kSamples: return "samples";
    case Fidelity::kFast: return "fast";
  }
  return "unknown";
}

std::unique_ptr<MeterModel> make_meter_model(const MeterModelConfig& config) {
  std::shared_ptr<const sim::LoadProfile> profile = config.profile;
  bool exports = false;
  std::string description = "custom load";
  if (!profile) {
    sim::HouseholdOptions options;
    options.start_time_of_day_s = config.start_time_of_day_s;
    options.start_day = config.start_day;
    options.allow_solar = config.allow_solar;
    options.vrms = config.supply_vrms;
    auto house = std::make_shared<sim::HouseholdProfile>(config.seed, options);
    exports = house->traits().solar_peak_w > 0;
    description = house->describe();
    profile = std::move(house);
  }
  if (config.fidelity == Fidelity::kFast) {
    return std::make_unique<FastMeterModel>(config, std::move(profile), exports, std::move(description));
  }
  return std::make_unique<SampleMeterModel>(config, std::move(profile), exports, std::move(description));
}

}  // namespace wattguard::fleet
