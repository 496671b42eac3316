// The calibration the modelled hardware implies exactly, to compare the core against truth.
#pragma once

#include "wattguard/core/meter_config.h"
#include "wattguard/sim/sim_config.h"

namespace wattguard::sim {

// v_per_count, i_per_count (phase clamp) and n_per_count from the sensor ratios, burden,
// ADC scale and gain error; phase_deg = net lead of the current channel over the voltage
// channel at the nominal frequency (clamp lead at `at_current_a` minus the voltage sensor's
// lead, plus the channel skew); i_noise_counts = the ADC noise including quantisation
// (sqrt(noise^2 + 1/12) counts RMS). Wiring tamper settings are not part of the hardware and
// are ignored.
core::Calibration ideal_calibration(const SimConfig& config, double at_current_a = 5.0);

}  // namespace wattguard::sim
