// What one load (an appliance, or a whole house at an instant) draws: a phasor description.
#pragma once

#include <vector>

#include "wattguard/sim/harmonic.h"

namespace wattguard::sim {

enum class PowerDirection {
  kImport,  // the load takes power from the grid
  kExport,  // power flows to the grid (a PV inverter, or a reversed meter connection)
};

struct LoadState {
  double irms_a = 0.0;   // RMS of the fundamental current, amperes
  double pf = 1.0;       // displacement power factor of the fundamental, 0..1
  bool leading = false;  // false: current lags the voltage (inductive); true: capacitive
  PowerDirection direction = PowerDirection::kImport;
  std::vector<Harmonic> harmonics;  // current harmonics, percent of the fundamental current
};

// A load drawing `power_w` of active power from a supply of `vrms` (fundamental only, so
// current harmonics add no active power) at power factor `pf`.
LoadState load_for_power(double power_w, double pf = 1.0, bool leading = false, std::vector<Harmonic> harmonics = {},
                         double vrms = 230.0);

}  // namespace wattguard::sim
