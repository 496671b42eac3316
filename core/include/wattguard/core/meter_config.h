// Configuration of the metrology engine: ADC format, calibration and the meter's ratings.
#pragma once

#include <cstdint>

#include "wattguard/core/status.h"

namespace wattguard::core {

// Calibration constants: what one ADC count means on each channel, and the phase error
// between the voltage and current sensors.
struct Calibration {
  float v_per_count = 0.0f;  // volts (instantaneous) per ADC count, voltage channel
  float i_per_count = 0.0f;  // amperes per ADC count, current (phase) channel
  float n_per_count = 0.0f;  // amperes per ADC count, neutral channel (0: same as i_per_count)
  // Phase lead of the current channel over the voltage channel that the sensors add, in
  // degrees at the measured frequency (a CT typically leads by 1 to 3 degrees). The engine
  // removes it with a fractional-sample delay of the leading channel.
  float phase_deg = 0.0f;
  // RMS noise of the current channel with no current, in counts. Subtracted (as power) from
  // Irms so ADC noise is not shown as current.
  float i_noise_counts = 3.0f;
};

struct MeterConfig {
  uint32_t sample_rate_hz = 4000;  // per channel, 1,000..20,000
  uint8_t adc_bits = 12;           // 10..16
  Calibration cal;
  uint32_t report_period_ms = 5000;
  // Ratings, used for the no-load and starting-current rules.
  float nominal_voltage_v = 230.0f;
  float nominal_frequency_hz = 50.0f;
  float basic_current_a = 5.0f;  // Ib
  float max_current_a = 30.0f;   // Imax
  // Starting current as a fraction of Ib (IEC 62053-21 class 1: 0.004).
  float starting_current_ratio = 0.004f;
  bool has_neutral_channel = false;
};

// The calibration of the reference front end (docs/metrology.md): 3.3 V full scale, ZMPT101B
// trimmed to 0.55 V peak at 230 V RMS, SCT-013-000 into a 33 ohm burden. A starting point:
// a real meter is calibrated against a reference load (calibration.h).
Calibration default_calibration(uint8_t adc_bits);

// Checks every field; returns the first problem found.
Status validate(const MeterConfig& config);

}  // namespace wattguard::core
