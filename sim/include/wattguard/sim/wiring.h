// How the load current passes the two clamps: normal, bypassed, earth return, or reversed.
#pragma once

namespace wattguard::sim {

// Fractions of the load current each clamp sees. Normal wiring: both 1. A bypass wire around
// the phase clamp: phase < 1. Current returning through earth instead of neutral: neutral < 1.
// A clamp fitted the wrong way round: negative. Range -2..2.
struct Wiring {
  double phase_clamp_fraction = 1.0;
  double neutral_clamp_fraction = 1.0;
};

}  // namespace wattguard::sim
