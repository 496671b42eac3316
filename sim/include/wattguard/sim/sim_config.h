// Everything that defines a simulated meter's hardware and supply (the load comes separately).
#pragma once

#include <cstdint>
#include <string>

#include "wattguard/base/expected.h"
#include "wattguard/sim/adc_config.h"
#include "wattguard/sim/bias_divider.h"
#include "wattguard/sim/current_sensor.h"
#include "wattguard/sim/grid.h"
#include "wattguard/sim/voltage_sensor.h"
#include "wattguard/sim/wiring.h"

namespace wattguard::sim {

struct SimConfig {
  uint32_t sample_rate_hz = 4000;  // per channel, 1,000..20,000
  GridConfig grid;
  VoltageSensorConfig voltage_sensor;  // ZMPT101B
  CurrentSensorConfig phase_clamp;     // SCT-013-000 on the phase wire
  CurrentSensorConfig neutral_clamp;   // SCT-013-000 on the neutral wire
  BiasDivider clamp_bias;              // shared by both clamps
  AdcConfig adc;
  // The ESP32 converts the channels one after another: the phase current is sampled this
  // long after the voltage and the neutral current twice as long after it. A positive skew
  // looks like a current lead of 360 * f * skew degrees.
  double channel_skew_us = 0.0;
  Wiring wiring;
  // Frequency at which the sensors' phase leads are specified (and ideal_calibration's).
  double nominal_frequency_hz = 50.0;
  uint64_t seed = 1;  // ADC noise
  // Load segments kept for truth_at() queries into the past (oldest dropped first).
  uint32_t truth_history = 1024;  // ~100 bytes each; a fleet of many meters may keep fewer
};

// Checks every field. An Error naming the first bad field (`field`, e.g. "adc.bits") and its value
// (`value`); its message reads "adc.bits = 17: expected 10..16".
Expected<void> validate(const SimConfig& config);

}  // namespace wattguard::sim
