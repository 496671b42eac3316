// The exact values the simulator knows analytically, at one sample index.
#pragma once

#include <cstdint>

namespace wattguard::sim {

struct Truth {
  int64_t sample_index = 0;  // the values describe the load in force at this sample...
  double t_s = 0.0;          // ...taken at this time (sample_index / rate)
  double vrms = 0.0;         // total RMS including harmonics
  double irms = 0.0;         // load current, total RMS including harmonics
  double p_w = 0.0;          // active power including harmonic power; < 0 when exporting
  double q_var = 0.0;        // reactive power of the fundamental: + inductive, - capacitive
  double s_va = 0.0;         // vrms * irms
  // |P| / S, signed like the core's reading: + lagging (q_var >= 0), - leading;
  // 1 when S is 0 (no load), like the core's default.
  double pf = 1.0;
  double freq_hz = 0.0;
  // Energy of every sample before sample_index (each sample holds its load for 1/rate s),
  // in Wh: import where P > 0, export where P < 0.
  double e_import_wh = 0.0;
  double e_export_wh = 0.0;
  // What the clamps see (Wiring fractions applied), RMS amperes.
  double i_phase_clamp_rms = 0.0;
  double i_neutral_clamp_rms = 0.0;
  bool relay_closed = true;
};

}  // namespace wattguard::sim
