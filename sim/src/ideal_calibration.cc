// The calibration constants the simulated hardware implies.
#include "wattguard/sim/ideal_calibration.h"

#include <cmath>

#include "wattguard/sim/current_sensor.h"

namespace wattguard::sim {

core::Calibration ideal_calibration(const SimConfig& config, double at_current_a) {
  const double cpv = config.adc.counts_per_volt();
  core::Calibration cal;
  cal.v_per_count = static_cast<float>(1.0 / (config.voltage_sensor.ratio_v_per_v * cpv));
  cal.i_per_count = static_cast<float>(1.0 / (volts_per_amp(config.phase_clamp) * cpv));
  cal.n_per_count = static_cast<float>(1.0 / (volts_per_amp(config.neutral_clamp) * cpv));
  const double skew_deg = 360.0 * config.nominal_frequency_hz * config.channel_skew_us * 1e-6;
  cal.phase_deg = static_cast<float>(ct_lead_deg(config.phase_clamp, at_current_a) -
                                     config.voltage_sensor.phase_lead_deg + skew_deg);
  const double noise = config.adc.noise_counts_rms;
  cal.i_noise_counts = static_cast<float>(std::sqrt(noise * noise + 1.0 / 12.0));
  return cal;
}

}  // namespace wattguard::sim
