// Typical household appliances as load states: power factor and current harmonics by type.
//
// The harmonic spectra are typical shapes, not measurements of one product: capacitor-input
// rectifiers (LED drivers, TVs, chargers) draw peaky currents rich in odd harmonics whose
// phases put every harmonic's peak on the fundamental's peak; motors draw a lagging, nearly
// sinusoidal current; power-factor-corrected inverters draw little distortion.
#pragma once

#include "wattguard/sim/load_state.h"

namespace wattguard::sim::appliances {

// Each takes the active power drawn at `vrms` volts.
LoadState resistive(double power_w, double vrms = 230.0);                  // kettle, heater, oven, hob
LoadState fridge_compressor(double power_w = 120.0, double vrms = 230.0);  // PF 0.75 lagging
LoadState led_lighting(double power_w = 60.0, double vrms = 230.0);        // PF 0.9 leading, strong 3rd/5th
LoadState electronics(double power_w = 150.0, double vrms = 230.0);        // TV/computer SMPS, PF 0.95 leading
LoadState standby_mix(double power_w = 80.0, double vrms = 230.0);         // router, chargers, standby
LoadState inverter_ac(double power_w = 1200.0, double vrms = 230.0);       // PFC front end, PF 0.97 lagging
LoadState washing_motor(double power_w = 300.0, double vrms = 230.0);      // PF 0.6 lagging
LoadState microwave(double power_w = 1200.0, double vrms = 230.0);         // PF 0.95 lagging
LoadState ev_charger(double power_w = 3600.0, double vrms = 230.0);        // PF 0.99
// A PV inverter feeding `power_w` into the grid (exported, PF 1, a little distortion).
LoadState pv_inverter(double power_w = 3000.0, double vrms = 230.0);

}  // namespace wattguard::sim::appliances
