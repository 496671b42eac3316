// The resistor divider (with a decoupling capacitor) that biases the current clamp to mid-rail.
#pragma once

namespace wattguard::sim {

// The capacitor makes the bias node an AC ground, so only the DC level matters here.
struct BiasDivider {
  double supply_v = 3.3;
  double r_top_ohm = 10000.0;     // supply to bias node
  double r_bottom_ohm = 10000.0;  // bias node to ground
  double bias_v() const { return supply_v * r_bottom_ohm / (r_top_ohm + r_bottom_ohm); }
};

}  // namespace wattguard::sim
