// Synthetic household: minute-resolution appliance model summed into 15-minute energy.
#include "wattguard/evaluation/synthetic_household.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace wattguard::evaluation {
namespace {

constexpr double kPi = 3.14159265358979323846;

void add_block(std::array<float, 1440>& kw, double start_min, double length_min, double power_kw) {
  const int a = std::max(0, static_cast<int>(start_min));
  const int b = std::min(1440, static_cast<int>(start_min + length_min));
  for (int m = a; m < b; ++m) kw[m] += static_cast<float>(power_kw);
}

}  // namespace

SyntheticHousehold::SyntheticHousehold(uint64_t seed, double scale_hint) : rng_(seed) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> n01(0.0, 1.0);
  HouseholdTraits& t = traits_;
  t.scale = scale_hint * std::exp(0.35 * n01(rng_));
  t.standby_kw = 0.04 + 0.16 * u(rng_);
  t.fridge_kw = 0.08 + 0.10 * u(rng_);
  t.fridge_period_min = 35 + static_cast<int>(40 * u(rng_));
  t.fridge_phase_min = static_cast<int>(60 * u(rng_));
  const double r = u(rng_);
  t.occupancy = r < 0.55 ? 0 : (r < 0.85 ? 1 : 2);
  t.wake_h = 6.3 + 0.8 * n01(rng_) * 0.7;
  t.sleep_h = 22.7 + 0.7 * n01(rng_);
  t.return_h = 17.3 + 0.8 * n01(rng_);
  t.heating_kw_per_c = u(rng_) < 0.45 ? 0.05 + 0.20 * u(rng_) : 0.0;
  t.cooling_kw_per_c = u(rng_) < 0.45 ? 0.05 + 0.15 * u(rng_) : 0.0;
  t.water_heater = u(rng_) < 0.3;
  t.pool_pump = u(rng_) < 0.1;
  t.lights_kw = 0.08 + 0.3 * u(rng_);
  t.media_kw = 0.05 + 0.3 * u(rng_);
}

void SyntheticHousehold::day(int weekday, double mean_temp_c, int day_of_year, float* out96, bool away) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> n01(0.0, 1.0);
  const HouseholdTraits& t = traits_;
  std::array<float, 1440> kw{};
  const bool weekend = weekday >= 5;
  // Base: standby plus a fridge compressor cycling a little harder on warm days.
  const double duty = std::clamp(0.33 + 0.01 * (mean_temp_c - 20.0), 0.2, 0.55);
  for (int m = 0; m < 1440; ++m) {
    const int phase = (m + t.fridge_phase_min) % t.fridge_period_min;
    kw[m] = static_cast<float>(t.standby_kw + (phase < duty * t.fridge_period_min ? t.fridge_kw : 0.0));
  }
  if (away) {
    if (t.water_heater) add_block(kw, 23 * 60 + 20 * u(rng_), 15 + 10 * u(rng_), 3.6);
    if (t.pool_pump) add_block(kw, 9 * 60, 6 * 60, 1.1);
    hot_water_debt_ = 0.5;
  }
  // Occupancy for the day.
  const double wake = (weekend ? t.wake_h + 1.2 : t.wake_h) + 0.4 * n01(rng_);
  const double sleep = t.sleep_h + (weekend ? 0.4 : 0.0) + 0.4 * n01(rng_);
  double away_from = 99, away_to = 99;
  if (!weekend && t.occupancy == 0 && u(rng_) < 0.92) {
    away_from = wake + 0.8 + 0.3 * u(rng_);
    away_to = t.return_h + 0.6 * n01(rng_);
  } else if (t.occupancy == 2 && u(rng_) < 0.7) {
    away_from = 13.0 + 2.0 * u(rng_);
    away_to = away_from + 8.0;
  } else if (weekend && u(rng_) < 0.4) {
    away_from = 10.0 + 3.0 * u(rng_);
    away_to = away_from + 1.5 + 4.0 * u(rng_);
  }
  auto active = [&](double h) { return !away && h >= wake && h < sleep && !(h >= away_from && h < away_to); };
  const double activity = std::exp(0.2 * n01(rng_));
  // Daylight: sunrise/sunset swing through the year (southern-hemisphere-like phase does not matter here).
  const double season = std::cos(2 * kPi * (day_of_year - 172) / 365.0);
  const double sunset_h = 18.0 + 1.3 * season, sunrise_h = 6.3 - 1.0 * season;
  // Lights and media while someone is up and at home.
  for (int m = 0; m < 1440; ++m) {
    const double h = m / 60.0;
    if (!active(h)) continue;
    double p = t.media_kw * (h > 17 ? 1.0 : 0.45);
    if (h < sunrise_h + 0.5 || h > sunset_h - 0.5) p += t.lights_kw;
    // Heating and cooling follow the hour's temperature.
    const double temp = mean_temp_c + 5.0 * std::cos(2 * kPi * (h - 15.0) / 24.0);
    if (temp < 16.0) p += t.heating_kw_per_c * (16.0 - temp) * (0.6 + 0.4 * u(rng_));
    if (temp > 25.0 && h > 12) p += t.cooling_kw_per_c * (temp - 25.0) * 2.0 * (0.6 + 0.4 * u(rng_));
    kw[m] += static_cast<float>(p * activity);
  }
  // Breakfast: kettle and toaster shortly after waking.
  if (!away && u(rng_) < 0.85) {
    const double s = (wake + 0.1 + 0.3 * u(rng_)) * 60;
    add_block(kw, s, 3 + 2 * u(rng_), 2.2 * activity);
    if (u(rng_) < 0.5) add_block(kw, s + 5, 3, 1.0);
  }
  // Dinner: cooktop / oven if home in the evening.
  const double dinner = std::max(17.0, std::min(20.5, (active(18.5) ? 18.0 : away_to) + 0.6 * u(rng_)));
  if (active(dinner) && u(rng_) < 0.85) add_block(kw, dinner * 60, 25 + 40 * u(rng_), (1.2 + 1.5 * u(rng_)) * activity);
  if (!away && u(rng_) < 0.4) add_block(kw, (12.0 + 1.0 * u(rng_)) * 60, 5, 1.5);  // lunch microwave
  // Laundry, dryer, dishwasher.
  if (!away && u(rng_) < (weekend ? 0.5 : 0.22)) {
    double s = active(10.0) ? 9.0 + 3 * u(rng_) : std::max(wake + 0.3, 19.0) + u(rng_);
    add_block(kw, s * 60, 15, 2.0);
    add_block(kw, s * 60 + 15, 75, 0.3);
    if (u(rng_) < 0.35) add_block(kw, s * 60 + 95, 50 + 20 * u(rng_), 2.4);
  }
  if (!away && u(rng_) < 0.5) {
    const double s = std::min(23.0, dinner + 1.2 + 1.5 * u(rng_));
    add_block(kw, s * 60, 20, 1.8);
    add_block(kw, s * 60 + 20, 70, 0.15);
  }
  // Off-peak water heating from 23:00, as long as yesterday's use demands.
  if (t.water_heater && !away) {
    add_block(kw, 23 * 60 + 20 * u(rng_), std::min(60.0, hot_water_debt_ * 60), 3.6);
    add_block(kw, 0, std::max(0.0, hot_water_debt_ * 60 - 60), 3.6);  // the rest after midnight (same day)
    hot_water_debt_ = std::clamp(1.0 + 0.6 * n01(rng_) + (weekend ? 0.3 : 0.0), 0.4, 2.5);
  }
  if (t.pool_pump && !away) add_block(kw, 9 * 60, 6 * 60, 1.1);
  // Scale and integrate into 15-minute energy.
  for (int s = 0; s < 96; ++s) {
    double e = 0;
    for (int m = s * 15; m < s * 15 + 15; ++m) e += kw[m];
    const double base = (t.standby_kw + duty * t.fridge_kw) * 15;
    // Scale active use only; base load scales mildly.
    e = base * std::sqrt(t.scale) + std::max(0.0, e - base) * t.scale;
    out96[s] = static_cast<float>(e / 60.0);
  }
}

}  // namespace wattguard::evaluation
