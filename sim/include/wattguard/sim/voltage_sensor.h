// ZMPT101B voltage sensor module: a 2 mA : 2 mA transformer and an op-amp biased at mid-supply.
#pragma once

#include <cmath>

namespace wattguard::sim {

struct VoltageSensorConfig {
  // Output volts per mains volt (instantaneous), set by the module's trimmer. The default
  // gives 0.55 V peak at 230 V RMS, so 115 % of 230 V with 10 % harmonics (about 0.7 V peak)
  // stays well inside the ESP32's usable 0.15..2.45 V around a 1.65 V bias.
  double ratio_v_per_v = 0.55 / (230.0 * 1.4142135623730951);
  // Phase lead of the output over the mains voltage at the nominal frequency, degrees
  // (negative: lag). Modelled as a first-order network, so the lead at frequency f is
  // atan(tan(lead) * f_nominal / f): smaller for harmonics.
  double phase_lead_deg = 0.3;
  double bias_v = 1.65;  // op-amp output at zero input (mid-supply)
  // false: the voltage link to the meter is removed (tamper); the output stays at the bias
  // and the ADC reads only its noise, while the house still draws power.
  bool connected = true;
};

// Lead in degrees at frequency f_hz of a first-order network that leads by lead_deg at
// nominal_hz.
inline double first_order_lead_deg(double lead_deg, double nominal_hz, double f_hz) {
  constexpr double kDeg = 3.14159265358979323846 / 180.0;
  if (lead_deg == 0.0 || f_hz <= 0.0) return lead_deg;
  return std::atan(std::tan(lead_deg * kDeg) * nominal_hz / f_hz) / kDeg;
}

}  // namespace wattguard::sim
