// Seeded household load profile generator: house traits per seed, intervals per day.
#include "wattguard/sim/household_profile.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "wattguard/sim/appliances.h"
#include "wattguard/sim/random.h"

namespace wattguard::sim {
namespace {

constexpr double kDay = 86400.0;
constexpr double kHour = 3600.0;
constexpr double kMinute = 60.0;
constexpr double kPi = 3.14159265358979323846;
constexpr size_t kCachedDays = 2;

// Appliance table indices.
enum Appliance : uint16_t {
  kBase,
  kFridge,
  kFreezer,
  kKettle,
  kMicrowave,
  kCooking,
  kLighting,  // one lamp group = 1/3 of the house's lighting
  kTv,
  kWasherHeater,
  kWasherMotor,
  kDishwasherHeater,
  kDishwasherPump,
  kAc,
  kWaterHeater,
  kEv,
  kSolar,
  kToaster,
  kHairDryer,
  kSpaceHeater,
  kApplianceCount,
};

// Collects intervals for one day, clipped to the day.
class DayBuilder {
 public:
  void add(Appliance a, double start_s, double end_s, double scale = 1.0) {
    start_s = std::max(start_s, 0.0);
    end_s = std::min(end_s, kDay);
    if (!(end_s > start_s) || scale <= 0.0) return;
    intervals_.push_back({start_s, end_s, static_cast<uint16_t>(a), static_cast<float>(scale)});
  }
  // Thermostat-style cycling within [start, end): on for on_s, off for off_s, repeated.
  void cycle(Appliance a, double start_s, double end_s, double on_s, double off_s, double scale = 1.0) {
    for (double t = start_s; t < end_s; t += on_s + off_s) add(a, t, std::min(t + on_s, end_s), scale);
  }
  std::vector<HouseholdProfile::Interval> take() {
    std::sort(intervals_.begin(), intervals_.end(), [](const auto& x, const auto& y) { return x.start_s < y.start_s; });
    return std::move(intervals_);
  }

 private:
  std::vector<HouseholdProfile::Interval> intervals_;
};

double hours(double h) { return h * kHour; }

}  // namespace

HouseholdProfile::HouseholdProfile(uint64_t seed, HouseholdOptions options) : seed_(seed), options_(options) {
  Rng rng(mix_seed(seed, 1));
  HouseholdTraits& t = traits_;
  const double occupants_pick = rng.uniform();
  t.occupants = occupants_pick < 0.25   ? 1
                : occupants_pick < 0.6  ? 2
                : occupants_pick < 0.8  ? 3
                : occupants_pick < 0.95 ? 4
                                        : 5;
  t.base_w = rng.uniform(40, 140) + 15.0 * t.occupants;
  t.fridge_w = rng.uniform(90, 180);
  t.has_freezer = rng.chance(0.3);
  t.freezer_w = rng.uniform(80, 150);
  t.kettle_w = rng.chance(0.85) ? rng.uniform(1800, 3000) : 0.0;
  t.microwave_w = rng.chance(0.8) ? rng.uniform(900, 1300) : 0.0;
  t.toaster_w = rng.chance(0.6) ? rng.uniform(800, 1100) : 0.0;
  t.hair_dryer_w = rng.chance(0.6) ? rng.uniform(1200, 2000) : 0.0;
  t.space_heater_w = rng.chance(0.3) ? rng.uniform(1000, 2000) : 0.0;
  t.cooking_w = rng.chance(0.6) ? rng.uniform(1500, 3000) : 0.0;
  t.lighting_w = rng.uniform(40, 120) + 25.0 * t.occupants;
  t.tv_w = rng.uniform(60, 250);
  t.washer_heater_w = rng.chance(0.85) ? rng.uniform(1800, 2200) : 0.0;
  t.dishwasher_w = rng.chance(0.5) ? rng.uniform(1700, 2100) : 0.0;
  t.ac_w = rng.chance(0.35) ? rng.uniform(800, 2200) : 0.0;
  t.water_heater_w = rng.chance(0.25) ? rng.uniform(2000, 3600) : 0.0;
  t.ev_w = rng.chance(0.08) ? 3600.0 : 0.0;
  t.solar_peak_w = (options_.allow_solar && rng.chance(0.25)) ? rng.uniform(1500, 5000) : 0.0;
  t.out_on_weekdays = rng.chance(0.6);

  const double v = options_.vrms;
  appliances_.resize(kApplianceCount);
  appliances_[kBase] = appliances::standby_mix(t.base_w, v);
  appliances_[kFridge] = appliances::fridge_compressor(t.fridge_w, v);
  appliances_[kFreezer] = appliances::fridge_compressor(t.freezer_w, v);
  appliances_[kKettle] = appliances::resistive(t.kettle_w, v);
  appliances_[kMicrowave] = appliances::microwave(t.microwave_w, v);
  appliances_[kCooking] = appliances::resistive(t.cooking_w, v);
  appliances_[kLighting] = appliances::led_lighting(t.lighting_w / 3.0, v);
  appliances_[kTv] = appliances::electronics(t.tv_w, v);
  appliances_[kWasherHeater] = appliances::resistive(t.washer_heater_w, v);
  appliances_[kWasherMotor] = appliances::washing_motor(300.0, v);
  appliances_[kDishwasherHeater] = appliances::resistive(t.dishwasher_w, v);
  appliances_[kDishwasherPump] = appliances::washing_motor(120.0, v);
  appliances_[kAc] = appliances::inverter_ac(t.ac_w, v);
  appliances_[kWaterHeater] = appliances::resistive(t.water_heater_w, v);
  appliances_[kEv] = appliances::ev_charger(t.ev_w, v);
  appliances_[kSolar] = appliances::pv_inverter(t.solar_peak_w, v);
  appliances_[kToaster] = appliances::resistive(t.toaster_w, v);
  appliances_[kHairDryer] = appliances::resistive(t.hair_dryer_w, v);
  appliances_[kSpaceHeater] = appliances::resistive(t.space_heater_w, v);
}

std::string HouseholdProfile::describe() const {
  const HouseholdTraits& t = traits_;
  std::ostringstream out;
  out.precision(0);
  out << std::fixed << "house seed " << seed_ << ": " << t.occupants << " occupant(s), base " << t.base_w
      << " W, fridge " << t.fridge_w << " W";
  if (t.has_freezer) out << ", freezer " << t.freezer_w << " W";
  if (t.kettle_w > 0) out << ", kettle " << t.kettle_w << " W";
  if (t.toaster_w > 0) out << ", toaster";
  if (t.hair_dryer_w > 0) out << ", hair dryer";
  if (t.space_heater_w > 0) out << ", space heater " << t.space_heater_w << " W";
  if (t.microwave_w > 0) out << ", microwave " << t.microwave_w << " W";
  if (t.cooking_w > 0) out << ", electric cooking " << t.cooking_w << " W";
  out << ", LED lighting " << t.lighting_w << " W, TV " << t.tv_w << " W";
  if (t.washer_heater_w > 0) out << ", washer";
  if (t.dishwasher_w > 0) out << ", dishwasher";
  if (t.ac_w > 0) out << ", inverter AC " << t.ac_w << " W";
  if (t.water_heater_w > 0) out << ", water heater " << t.water_heater_w << " W";
  if (t.ev_w > 0) out << ", EV " << t.ev_w << " W";
  if (t.solar_peak_w > 0) out << ", PV " << t.solar_peak_w << " W peak";
  if (t.out_on_weekdays) out << ", out on weekdays";
  return out.str();
}

HouseholdProfile::Day HouseholdProfile::build_day(int64_t day_number) const {
  Rng rng(mix_seed(seed_, 1000 + static_cast<uint64_t>(day_number)));
  const HouseholdTraits& t = traits_;
  DayBuilder b;
  const int64_t weekday = ((day_number % 7) + 7) % 7;  // 0 = Monday
  const bool weekend = weekday >= 5;
  const bool out = t.out_on_weekdays && !weekend;

  const double wake = hours(rng.uniform(5.5, 7.75) + (weekend ? rng.uniform(0.5, 1.5) : 0.0));
  const double sleep = hours(rng.uniform(22.0, 23.9));
  const double leave = wake + hours(rng.uniform(0.75, 1.5));
  const double back = hours(rng.uniform(16.5, 18.5));
  const double sunset = hours(rng.uniform(17.0, 19.5));
  auto home = [&](double s) { return !out || s < leave || s >= back; };

  // Always on, a little different every day.
  b.add(kBase, 0, kDay, rng.uniform(0.9, 1.1));

  // Compressors cycle all day; warmer days (or a door opened often) mean longer on-times.
  auto compressor = [&](Appliance a, double on_min, double period_min) {
    const double on = on_min * kMinute * rng.uniform(0.85, 1.15);
    const double period = period_min * kMinute;
    b.cycle(a, -rng.uniform(0, period), kDay, on, period - on);
  };
  compressor(kFridge, rng.uniform(8, 16), rng.uniform(30, 55));
  if (t.has_freezer) compressor(kFreezer, rng.uniform(10, 20), rng.uniform(40, 70));

  // Lighting: a dim morning, then three lamp groups switched on and off through the evening.
  b.add(kLighting, wake, wake + hours(rng.uniform(0.5, 1.2)), rng.uniform(0.5, 1.0));
  for (int group = 0; group < 3; ++group) {
    const double on = std::max(sunset + hours(rng.uniform(-0.5, 1.5)), out ? back : 0.0);
    const double off = sleep - hours(rng.uniform(0.0, 1.5));
    b.add(kLighting, on, off);
  }

  // TV / computer in the evening, and in the afternoon for people at home.
  b.add(kTv, std::max(back, hours(18.0)) + hours(rng.uniform(0.5, 2.0)), sleep - hours(rng.uniform(0, 0.5)));
  if (!out && rng.chance(0.6)) {
    const double s = hours(rng.uniform(12.0, 16.0));
    b.add(kTv, s, s + hours(rng.uniform(0.5, 2.5)));
  }

  auto short_use = [&](Appliance a, double from_s, double to_s, double min_s, double max_s) {
    const double s = rng.uniform(from_s, to_s);
    if (home(s)) b.add(a, s, s + rng.uniform(min_s, max_s));
  };
  if (t.kettle_w > 0) {
    const int morning = rng.uniform_int(1, 2);
    for (int k = 0; k < morning; ++k) short_use(kKettle, wake + 300, wake + hours(0.7), 120, 240);
    const int day_uses = out ? 0 : rng.uniform_int(0, 3);
    for (int k = 0; k < day_uses; ++k) short_use(kKettle, hours(10), hours(16), 120, 240);
    const int evening = rng.uniform_int(1, 2);
    for (int k = 0; k < evening; ++k) short_use(kKettle, std::max(back, hours(17)), hours(21.5), 120, 240);
  }
  if (t.microwave_w > 0) {
    if (rng.chance(0.4)) short_use(kMicrowave, wake + 300, wake + hours(0.8), 60, 240);
    if (rng.chance(0.6)) short_use(kMicrowave, std::max(back, hours(17)), hours(20.5), 60, 300);
  }

  // The morning routine: toast, hair drying, the radio or TV on.
  const double ready = out ? leave : wake + hours(1.5);
  if (t.toaster_w > 0 && rng.chance(0.6)) short_use(kToaster, wake + 300, ready - 300, 120, 240);
  if (t.hair_dryer_w > 0) {
    for (int k = 0; k < t.occupants; ++k) {
      if (rng.chance(0.3)) short_use(kHairDryer, wake + 600, ready - 300, 240, 600);
    }
  }
  if (rng.chance(0.5)) {
    const double s = wake + rng.uniform(0, 900);
    b.add(kTv, s, s + kMinute * rng.uniform(20, 60), 0.6);
  }

  // A space heater on cold days: morning and evening, cycled by its thermostat.
  if (t.space_heater_w > 0 && rng.chance(0.5)) {
    b.cycle(kSpaceHeater, wake, wake + kMinute * rng.uniform(30, 90), rng.uniform(300, 600), rng.uniform(120, 400));
    const double s = std::max(back, hours(17.5)) + hours(rng.uniform(0, 1));
    b.cycle(kSpaceHeater, s, s + hours(rng.uniform(1, 3)), rng.uniform(300, 600), rng.uniform(200, 600));
  }

  // Dinner on an electric hob/oven: the thermostat cycles the element.
  if (t.cooking_w > 0 && rng.chance(0.85)) {
    const double start = std::max(back, hours(17.25)) + hours(rng.uniform(0.0, 1.5));
    const double length = kMinute * rng.uniform(20, 70);
    b.cycle(kCooking, start, start + length, rng.uniform(60, 120), rng.uniform(40, 120), rng.uniform(0.5, 1.0));
    if (weekend && rng.chance(0.5)) {
      const double lunch = hours(rng.uniform(11.5, 13.0));
      b.cycle(kCooking, lunch, lunch + kMinute * rng.uniform(15, 40), rng.uniform(60, 120), rng.uniform(40, 120),
              rng.uniform(0.4, 0.9));
    }
  }

  // Washing: heat the water first, then the drum motor with a final spin.
  if (t.washer_heater_w > 0 && rng.chance(0.4 + 0.1 * t.occupants)) {
    const double start = out ? hours(rng.uniform(18.5, 20.5)) : hours(rng.uniform(8.5, 15.0));
    const double heat = kMinute * rng.uniform(10, 20);
    const double run = kMinute * rng.uniform(30, 60);
    b.add(kWasherHeater, start, start + heat);
    b.add(kWasherMotor, start, start + heat + run);
    b.add(kWasherMotor, start + heat + run - 600, start + heat + run, 0.7);  // spin on top
  }
  if (t.dishwasher_w > 0 && rng.chance(0.6)) {
    const double start = hours(rng.uniform(20.0, 22.0));
    b.add(kDishwasherPump, start, start + kMinute * rng.uniform(60, 100));
    b.add(kDishwasherHeater, start + 300, start + 300 + kMinute * rng.uniform(12, 22));
  }

  // Air conditioning on warm days: an inverter compressor that modulates its power.
  if (t.ac_w > 0 && rng.chance(0.5)) {
    double s = std::max(out ? back : hours(rng.uniform(12.0, 16.0)), hours(12.0));
    const double end = hours(rng.uniform(21.0, 23.5));
    while (s < end) {
      const double step = kMinute * rng.uniform(5, 15);
      b.add(kAc, s, std::min(s + step, end), rng.uniform(0.3, 1.0));
      s += step;
    }
  }

  // Off-peak storage water heater after midnight; EV charging overnight on some days.
  if (t.water_heater_w > 0) {
    const double s = hours(rng.uniform(0.0, 0.5));
    b.add(kWaterHeater, s, s + hours(rng.uniform(0.75, 2.0)));
  }
  if (t.ev_w > 0 && rng.chance(0.5)) {
    const double s = hours(rng.uniform(0.0, 1.0));
    b.add(kEv, s, s + hours(rng.uniform(1.5, 4.0)));
  }

  // Rooftop PV: a half-sine over the daylight hours, dimmed by clouds that drift every 5 min.
  if (t.solar_peak_w > 0) {
    const double rise = hours(rng.uniform(6.0, 7.0));
    const double set = hours(rng.uniform(17.5, 19.0));
    const double clear = rng.uniform(0.3, 1.0);
    double cloud = 1.0;
    for (double s = rise; s < set; s += 5 * kMinute) {
      cloud = std::clamp(cloud + rng.normal(0.0, 0.15), 0.2, 1.0);
      const double mid = s + 2.5 * kMinute;
      const double sun = std::pow(std::max(0.0, std::sin(kPi * (mid - rise) / (set - rise))), 1.3);
      b.add(kSolar, s, std::min(s + 5 * kMinute, set), sun * clear * cloud);
    }
  }
  return Day{b.take()};
}

std::shared_ptr<const HouseholdProfile::Day> HouseholdProfile::day(int64_t day_number) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = cache_.find(day_number);
  if (it != cache_.end()) return it->second;
  auto built = std::make_shared<const Day>(build_day(day_number));
  cache_[day_number] = built;
  // Keep the newest days: the simulator only moves forward.
  while (cache_.size() > kCachedDays) cache_.erase(cache_.begin());
  return built;
}

std::vector<HouseholdProfile::Interval> HouseholdProfile::day_intervals(int64_t day_number) const {
  return day(day_number)->intervals;
}

LoadSegment HouseholdProfile::segment_at(double t_s) const {
  const double rel = options_.start_time_of_day_s + t_s;
  const double day_index = std::floor(rel / kDay);
  const double local = rel - day_index * kDay;
  const auto d = day(options_.start_day + static_cast<int64_t>(day_index));
  LoadSegment seg;
  double end_local = kDay;
  for (const Interval& iv : d->intervals) {
    if (iv.start_s > local) {
      end_local = std::min(end_local, iv.start_s);
      break;  // sorted by start: nothing later is active
    }
    if (local < iv.end_s) {
      seg.load += appliances_[iv.appliance].scaled(iv.scale);
      end_local = std::min(end_local, iv.end_s);
    }
  }
  seg.end_s = t_s + (end_local - local);
  if (!(seg.end_s > t_s)) seg.end_s = std::nextafter(t_s, std::numeric_limits<double>::infinity());
  return seg;
}

}  // namespace wattguard::sim
