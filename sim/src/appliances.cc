// Typical household appliance load states.
#include "wattguard/sim/appliances.h"

#include <vector>

namespace wattguard::sim::appliances {
namespace {

// Odd-harmonic spectrum of a capacitor-input rectifier: phases that make a peaky wave
// (180 degrees for orders 3, 7, 11, 15; 0 for 5, 9, 13).
std::vector<Harmonic> rectifier(std::initializer_list<double> percents) {
  std::vector<Harmonic> out;
  int order = 3;
  for (double p : percents) {
    out.push_back({order, p, order % 4 == 3 ? 180.0 : 0.0});
    order += 2;
  }
  return out;
}

}  // namespace

LoadState resistive(double power_w, double vrms) { return load_for_power(power_w, 1.0, false, {}, vrms); }

LoadState fridge_compressor(double power_w, double vrms) {
  return load_for_power(power_w, 0.75, false, {{3, 8.0, 0.0}, {5, 3.0, 0.0}}, vrms);
}

LoadState led_lighting(double power_w, double vrms) {
  return load_for_power(power_w, 0.9, true, rectifier({70, 45, 25, 12, 6, 4, 3}), vrms);
}

LoadState electronics(double power_w, double vrms) {
  return load_for_power(power_w, 0.95, true, rectifier({80, 55, 30, 15, 8, 5, 3}), vrms);
}

LoadState standby_mix(double power_w, double vrms) {
  return load_for_power(power_w, 0.85, false, rectifier({35, 18, 8, 4}), vrms);
}

LoadState inverter_ac(double power_w, double vrms) {
  return load_for_power(power_w, 0.97, false, rectifier({12, 8, 4, 2}), vrms);
}

LoadState washing_motor(double power_w, double vrms) {
  return load_for_power(power_w, 0.6, false, {{3, 10.0, 0.0}}, vrms);
}

LoadState microwave(double power_w, double vrms) {
  return load_for_power(power_w, 0.95, false, rectifier({25, 10, 5}), vrms);
}

LoadState ev_charger(double power_w, double vrms) {
  return load_for_power(power_w, 0.99, false, rectifier({5, 3, 2}), vrms);
}

LoadState pv_inverter(double power_w, double vrms) {
  return load_for_power(-power_w, 1.0, false, {{3, 2.0, 0.0}, {5, 1.5, 0.0}}, vrms);
}

}  // namespace wattguard::sim::appliances
