#include "wattguard/core/meter_config.h"

#include <cmath>

namespace wattguard::core {
namespace {

bool positive_finite(float x) { return std::isfinite(x) && x > 0.0f; }

}  // namespace

Calibration default_calibration(uint8_t adc_bits) {
  // Reference front end (see docs/metrology.md): 3.3 V full scale; ZMPT101B trimmed to
  // 0.55 V peak at 230 V RMS; SCT-013-000 (2000 turns) into a 33 ohm burden, so 30 A RMS
  // stays inside the ESP32's usable +-0.8 V around the 1.65 V bias.
  const float volts_per_count = 3.3f / static_cast<float>(1u << adc_bits);
  Calibration cal;
  cal.v_per_count = volts_per_count * (230.0f * 1.41421356f / 0.55f);
  cal.i_per_count = volts_per_count / 33.0f * 2000.0f;
  cal.n_per_count = cal.i_per_count;
  cal.phase_deg = 0.0f;
  cal.i_noise_counts = 3.0f;
  return cal;
}

Status validate(const MeterConfig& c) {
  if (c.sample_rate_hz < 1000 || c.sample_rate_hz > 20000) return Status::kSampleRateOutOfRange;
  if (c.adc_bits < 10 || c.adc_bits > 16) return Status::kAdcBitsOutOfRange;
  if (!positive_finite(c.cal.v_per_count) || !positive_finite(c.cal.i_per_count)) {
    return Status::kScaleNotPositive;
  }
  if (c.has_neutral_channel && !(c.cal.n_per_count == 0.0f || positive_finite(c.cal.n_per_count))) {
    return Status::kScaleNotPositive;
  }
  if (!std::isfinite(c.cal.phase_deg) || std::fabs(c.cal.phase_deg) > 20.0f) {
    return Status::kPhaseOutOfRange;
  }
  if (!std::isfinite(c.cal.i_noise_counts) || c.cal.i_noise_counts < 0.0f) {
    return Status::kScaleNotPositive;
  }
  if (c.report_period_ms < 100 || c.report_period_ms > 3600000) return Status::kPeriodOutOfRange;
  if (!positive_finite(c.nominal_voltage_v) || c.nominal_voltage_v > 1000.0f ||
      !(c.nominal_frequency_hz >= 40.0f && c.nominal_frequency_hz <= 70.0f) || !positive_finite(c.basic_current_a) ||
      !(c.max_current_a >= c.basic_current_a) ||
      !(c.starting_current_ratio > 0.0f && c.starting_current_ratio < 0.1f)) {
    return Status::kNominalOutOfRange;
  }
  return Status::kOk;
}

}  // namespace wattguard::core
