// Tests of the technical-loss model and its robust calibration.
#include "wattguard/analytics/loss_model.h"

#include <gtest/gtest.h>

#include <random>

namespace wattguard::analytics {
namespace {

TEST(LossModel, ExpectedLossIsNoLoadPlusShareAndSquareTerms) {
  TechnicalLossModel m;
  m.no_load_kw = 0.2;
  m.share = 0.01;
  m.quadratic_per_kw = 0.001;
  // 10 kWh in a quarter hour = 40 kW: 0.2 + 0.4 + 1.6 = 2.2 kW for 0.25 h.
  EXPECT_NEAR(m.expected_kwh(10.0, 0.25), 0.55, 1e-12);
  m.hour_offset_kwh[18] = 0.05;
  EXPECT_NEAR(m.expected_kwh(10.0, 0.25, 18), 0.60, 1e-12);
  EXPECT_NEAR(m.expected_kwh(10.0, 0.25, 3), 0.55, 1e-12);
}

std::vector<BalanceSample> history(const TechnicalLossModel& truth, double noise_kwh, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> n01(0, 1);
  std::vector<BalanceSample> out;
  for (int k = 0; k < 14 * 96; ++k) {
    const double hour = (k % 96) / 4.0;
    const double load_kwh = 3.0 + 2.5 * std::sin((hour - 8) / 24.0 * 6.283) + 0.8 * std::abs(n01(rng));
    const double loss = truth.expected_kwh(load_kwh, 0.25);
    BalanceSample s;
    s.check_kwh = load_kwh;
    s.consumers_kwh = load_kwh - loss - noise_kwh * n01(rng);
    s.hour = static_cast<int>(hour);
    out.push_back(s);
  }
  return out;
}

TEST(LossModel, CalibrationRecoversTheModelFromCleanHistory) {
  TechnicalLossModel truth;
  truth.no_load_kw = 0.15;
  truth.share = 0.004;
  truth.quadratic_per_kw = 0.0006;
  const auto cal = calibrate_loss_model(history(truth, 0.002, 1), 0.25);
  EXPECT_FALSE(cal.capped);
  for (double load : {1.0, 3.0, 6.0}) {
    EXPECT_NEAR(cal.model.expected_kwh(load, 0.25, 12), truth.expected_kwh(load, 0.25), 0.004) << load;
  }
  EXPECT_GT(cal.model.noise_share + cal.model.noise_floor_kwh, 0.0);
}

TEST(LossModel, CalibrationIgnoresAFewWildIntervals) {
  TechnicalLossModel truth;
  truth.no_load_kw = 0.15;
  truth.quadratic_per_kw = 0.0006;
  auto samples = history(truth, 0.002, 2);
  for (size_t k = 0; k < samples.size(); k += 50) samples[k].consumers_kwh -= 2.0;  // 2 % of intervals, huge
  const auto cal = calibrate_loss_model(samples, 0.25);
  EXPECT_NEAR(cal.model.expected_kwh(4.0, 0.25, 12), truth.expected_kwh(4.0, 0.25), 0.01);
}

TEST(LossModel, ImplausiblyHighLossIsCappedSoTheExcessStaysVisible) {
  TechnicalLossModel truth;
  truth.share = 0.15;  // 15 %: theft in the history, not technical loss
  LossCalibrationOptions options;
  options.max_share = 0.08;
  const auto cal = calibrate_loss_model(history(truth, 0.002, 3), 0.25, options);
  EXPECT_TRUE(cal.capped);
  EXPECT_NEAR(cal.fitted_share, 0.15, 0.01);
  EXPECT_NEAR(cal.mean_loss_share, 0.08, 1e-9);
  EXPECT_NEAR(cal.model.expected_kwh(4.0, 0.25) / 4.0, 0.08, 0.01);
}

TEST(LossModel, HourOfDayTermLearnsASystematicEveningExcess) {
  TechnicalLossModel truth;
  truth.no_load_kw = 0.1;
  auto samples = history(truth, 0.001, 4);
  for (auto& s : samples) {
    if (s.hour == 23) s.consumers_kwh -= 0.05;  // e.g. water heaters on one phase
  }
  const auto cal = calibrate_loss_model(samples, 0.25);
  EXPECT_NEAR(cal.model.hour_offset_kwh[23], 0.05, 0.01);
  EXPECT_NEAR(cal.model.hour_offset_kwh[12], 0.0, 0.01);
}

TEST(LossModel, TooLittleHistoryGivesAnEmptyModel) {
  const auto cal = calibrate_loss_model(std::vector<BalanceSample>(3), 0.25);
  EXPECT_EQ(cal.samples, 3);
  EXPECT_EQ(cal.model.expected_kwh(5.0, 0.25), 0.0);
}

}  // namespace
}  // namespace wattguard::analytics
