#include "wattguard/core/meter_config.h"

#include <gtest/gtest.h>

#include <limits>

#include "wattguard/core/metrology_engine.h"

namespace wattguard::core {
namespace {

MeterConfig good() {
  MeterConfig c;
  c.cal = default_calibration(12);
  return c;
}

TEST(MeterConfig, DefaultsAreValid) { EXPECT_EQ(validate(good()), Status::kOk); }

TEST(MeterConfig, RejectsNonsense) {
  auto c = good();
  c.sample_rate_hz = 0;
  EXPECT_EQ(validate(c), Status::kSampleRateOutOfRange);
  c = good();
  c.sample_rate_hz = 25000;
  EXPECT_EQ(validate(c), Status::kSampleRateOutOfRange);
  c = good();
  c.adc_bits = 8;
  EXPECT_EQ(validate(c), Status::kAdcBitsOutOfRange);
  c = good();
  c.adc_bits = 17;
  EXPECT_EQ(validate(c), Status::kAdcBitsOutOfRange);
  c = good();
  c.cal.v_per_count = 0;
  EXPECT_EQ(validate(c), Status::kScaleNotPositive);
  c = good();
  c.cal.i_per_count = -0.01f;
  EXPECT_EQ(validate(c), Status::kScaleNotPositive);
  c = good();
  c.cal.i_per_count = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(validate(c), Status::kScaleNotPositive);
  c = good();
  c.cal.phase_deg = 45;
  EXPECT_EQ(validate(c), Status::kPhaseOutOfRange);
  c = good();
  c.report_period_ms = 0;
  EXPECT_EQ(validate(c), Status::kPeriodOutOfRange);
}

TEST(MeterConfig, EngineKeepsOldConfigOnError) {
  MetrologyEngine e;
  auto c = good();
  c.sample_rate_hz = 8000;
  ASSERT_EQ(e.configure(c), Status::kOk);
  c.adc_bits = 3;
  EXPECT_EQ(e.configure(c), Status::kAdcBitsOutOfRange);
  EXPECT_EQ(e.config().sample_rate_hz, 8000u);
  EXPECT_EQ(e.config().adc_bits, 12);
}

TEST(MeterConfig, DefaultCalibrationScalesWithBits) {
  const auto c12 = default_calibration(12);
  const auto c16 = default_calibration(16);
  EXPECT_NEAR(c12.v_per_count / c16.v_per_count, 16.0, 1e-3);
  // 30 A RMS must fit in +-0.8 V around the 1.65 V bias (ESP32 usable range).
  const double peak_counts = 30.0 * 1.41421356 / c12.i_per_count;
  EXPECT_LT(peak_counts * 3.3 / 4096, 0.8);
}

}  // namespace
}  // namespace wattguard::core
