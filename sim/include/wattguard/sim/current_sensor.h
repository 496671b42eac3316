// SCT-013-000 split-core current transformer (100 A : 50 mA, 2000 turns) with a burden resistor.
#pragma once

namespace wattguard::sim {

struct CurrentSensorConfig {
  double turns = 2000.0;
  // Burden resistor. 33 ohm puts Imax (30 A RMS, 42.4 A peak) at 0.70 V peak around the
  // 1.65 V bias, inside the ESP32's usable 0.15..2.45 V with room for harmonics.
  double burden_ohm = 33.0;
  // Phase lead of the secondary over the primary current at the nominal frequency and at
  // high current, degrees. First-order law over frequency like the voltage sensor.
  double phase_lead_deg = 1.5;
  // Extra lead as the current goes to zero (magnetising current matters more there):
  // lead = phase_lead_deg + low_current_extra_lead_deg * knee / (knee + I_rms).
  double low_current_extra_lead_deg = 0.0;
  double low_current_knee_a = 1.0;  // primary RMS current where the extra lead has halved
  // Core saturation (for the magnet scenario): the secondary follows
  // sat * tanh(i / sat) of the primary's instantaneous current i; 0 = never saturates.
  double saturation_a = 0.0;
};

// Volts across the burden per primary ampere.
inline double volts_per_amp(const CurrentSensorConfig& ct) { return ct.burden_ohm / ct.turns; }

// Lead at the nominal frequency for a primary RMS current.
inline double ct_lead_deg(const CurrentSensorConfig& ct, double primary_rms_a) {
  if (ct.low_current_extra_lead_deg == 0.0) return ct.phase_lead_deg;
  const double knee = ct.low_current_knee_a > 0.0 ? ct.low_current_knee_a : 1.0;
  const double i = primary_rms_a < 0.0 ? -primary_rms_a : primary_rms_a;
  return ct.phase_lead_deg + ct.low_current_extra_lead_deg * knee / (knee + i);
}

}  // namespace wattguard::sim
