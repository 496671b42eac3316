// Tests of the transformer balance: arithmetic, calibration then CUSUM alerting, missing data handling.
#include "wattguard/analytics/transformer_balance.h"

#include <gtest/gtest.h>

#include <random>

namespace wattguard::analytics {
namespace {

TEST(TransformerBalance, UnexplainedIsCheckMinusConsumersMinusExpectedLoss) {
  TransformerBalance b;
  TechnicalLossModel m;
  m.no_load_kw = 0.4;  // 0.1 kWh per quarter hour
  m.noise_floor_kwh = 0.05;
  m.noise_share = 0.0;
  b.set_model(m, 10.0);
  BalanceInput in;
  in.check_kwh = 5.0;
  in.consumers_kwh = 4.7;
  const BalanceStep s = b.push(in);
  ASSERT_TRUE(s.evaluated);
  EXPECT_NEAR(s.expected_loss_kwh, 0.1, 1e-12);
  EXPECT_NEAR(s.unexplained_kwh, 0.2, 1e-12);
  EXPECT_NEAR(s.sigma_kwh, 0.05, 1e-12);
  EXPECT_NEAR(s.z, 4.0, 1e-9);
  EXPECT_NEAR(s.cusum, 4.0 - BalanceConfig{}.cusum_k, 1e-9);  // z - k
  EXPECT_NEAR(b.unexplained_total_kwh(), 0.2, 1e-12);

  // A missing check reading is skipped, not counted as loss.
  in.check_present = false;
  EXPECT_FALSE(b.push(in).evaluated);
  EXPECT_NEAR(b.unexplained_total_kwh(), 0.2, 1e-12);
}

// A transformer with ~50 households: load follows a daily curve, loss = 0.2 kW + 3 % of load^2 scaled, noise.
struct Area {
  std::mt19937 rng{42};
  std::normal_distribution<double> n01{0, 1};
  int k = 0;
  BalanceInput next(double stolen_share, double missing_estimate_var = 0) {
    const double hour = (k++ % 96) / 4.0;
    const double consumers = 4.0 + 3.0 * std::exp(-std::pow(hour - 19, 2) / 8) + 0.3 * n01(rng);
    const double p_kw = consumers / 0.25;
    const double loss = (0.2 + 0.0015 * p_kw * p_kw) * 0.25 * (1 + 0.05 * n01(rng));
    BalanceInput in;
    in.check_kwh = (consumers + loss) / (1.0 - stolen_share);  // theft flows through the check meter too
    in.consumers_kwh = consumers;
    in.estimate_var_kwh2 = missing_estimate_var;
    in.hour = static_cast<int>(hour);
    return in;
  }
};

TEST(TransformerBalance, CalibratesThenFlagsThreePercentTheftWithinHours) {
  BalanceConfig config;
  config.calibration_intervals = 14 * 96;
  TransformerBalance b(config);
  Area area;
  for (int k = 0; k < 14 * 96; ++k) EXPECT_FALSE(b.push(area.next(0.0)).alert);
  ASSERT_TRUE(b.calibrated());
  EXPECT_GT(b.calibration().mean_loss_share, 0.005);
  // Fourteen quiet days more: no false alarm.
  for (int k = 0; k < 14 * 96; ++k) ASSERT_FALSE(b.push(area.next(0.0)).alert) << "false alarm at " << k;
  // Now 3 % of the energy goes missing.
  int raised_after = -1;
  for (int k = 0; k < 96; ++k) {
    const BalanceStep s = b.push(area.next(0.03));
    if (s.alert_raised) {
      raised_after = k;
      EXPECT_GE(s.onset_interval, 28 * 96 - 2);  // the change point is found near the real start
      break;
    }
  }
  ASSERT_GE(raised_after, 0) << "not flagged within 24 h";
  // Each interval adds at most max_z - k, so the alert needs at least h_min / (max_z - k) intervals (10 with
  // the defaults); a 3 % theft is 5-15 sigma, so it should come close to that: within four hours.
  EXPECT_LT(raised_after, 16);
}

// An area whose loss relation drifts by a third over two months (seasonal load mix), no theft at all.
struct DriftingArea {
  std::mt19937 rng{7};
  std::normal_distribution<double> n01{0, 1};
  int k = 0;
  double drift_per_interval = 0.35 / (60 * 96);
  BalanceInput next() {
    const double hour = (k % 96) / 4.0;
    const double growth = 1.0 + drift_per_interval * k++;
    const double consumers = 4.0 + 3.0 * std::exp(-std::pow(hour - 19, 2) / 8) + 0.3 * n01(rng);
    const double p_kw = consumers / 0.25;
    const double loss = (0.2 + 0.0015 * p_kw * p_kw) * growth * 0.25 * (1 + 0.05 * n01(rng));
    BalanceInput in;
    in.check_kwh = consumers + loss;
    in.consumers_kwh = consumers;
    in.hour = static_cast<int>(hour);
    return in;
  }
};

int alerts_over_drift(int recalibrate_every_intervals, int* recalibrations) {
  BalanceConfig config;
  config.recalibrate_every_intervals = recalibrate_every_intervals;
  TransformerBalance b(config);
  DriftingArea area;
  for (int k = 0; k < 60 * 96; ++k) b.push(area.next());
  *recalibrations = b.recalibrations();
  return b.alerts_raised();
}

TEST(TransformerBalance, RecalibrationFollowsSlowDriftOfTechnicalLoss) {
  int recalibrations = 0;
  EXPECT_EQ(alerts_over_drift(BalanceConfig{}.recalibrate_every_intervals, &recalibrations), 0);
  EXPECT_GE(recalibrations, 3);
  // The same drift without recalibration is read as a growing theft: the refits are what keeps it quiet.
  EXPECT_GE(alerts_over_drift(0, &recalibrations), 1);
  EXPECT_EQ(recalibrations, 0);
}

TEST(TransformerBalance, WidelyEstimatedConsumersDoNotRaiseAlerts) {
  TransformerBalance b;
  Area area;
  for (int k = 0; k < 14 * 96; ++k) b.push(area.next(0.0));
  ASSERT_TRUE(b.calibrated());
  // A day where an estimate stands in for a missing consumer and happens to be 0.3 kWh too low each interval,
  // with its uncertainty declared (and the estimated energy, 0.6 kWh per interval, so the day test knows that
  // half of it may be missing): the balance must not call that theft.
  for (int k = 0; k < 96; ++k) {
    BalanceInput in = area.next(0.0, 0.4 * 0.4);
    in.consumers_kwh -= 0.3;
    in.estimated_kwh = 0.6;
    ASSERT_FALSE(b.push(in).alert) << k;
  }
}

// The day test alone (CUSUM switched off by an unreachable threshold): 3 % of the energy missing over a day.
BalanceConfig day_test_only() {
  BalanceConfig config;
  config.cusum_h_min = 1e9;
  return config;
}

TEST(TransformerBalance, DayTestFlagsThreePercentWithin24HoursAndFindsTheStart) {
  TransformerBalance b(day_test_only());
  Area area;
  for (int k = 0; k < 14 * 96; ++k) b.push(area.next(0.0));
  ASSERT_TRUE(b.calibrated());
  EXPECT_GE(b.day_share_threshold(), BalanceConfig{}.day_share_min);
  EXPECT_LT(b.day_share_threshold(), 0.03);
  for (int k = 0; k < 14 * 96; ++k) ASSERT_FALSE(b.push(area.next(0.0)).alert) << "false alarm at " << k;
  // Theft only in the evening (18:00-23:00), 3 % of the day's energy in all: strong for five hours, then nothing.
  int raised_after = -1;
  for (int k = 0; k < 2 * 96 && raised_after < 0; ++k) {
    const int slot = k % 96;
    const bool evening = slot >= 72 && slot < 92;
    const BalanceStep s = b.push(area.next(evening ? 0.03 * 96 / 20 : 0.0));
    if (s.alert_raised) {
      raised_after = k;
      EXPECT_GE(s.onset_interval, 28 * 96 + 72 - 4);  // the change point is near the first evening interval
      EXPECT_LE(s.onset_interval, 28 * 96 + 72 + 8);
    }
  }
  ASSERT_GE(raised_after, 0) << "not flagged within 48 h";
  EXPECT_LT(raised_after, 96) << "not flagged within 24 h";
  EXPECT_TRUE(b.alert());
}

TEST(TransformerBalance, DayTestAllowsForEnergyRestingOnEstimates) {
  TransformerBalance b(day_test_only());
  Area area;
  for (int k = 0; k < 14 * 96; ++k) b.push(area.next(0.0));
  ASSERT_TRUE(b.calibrated());
  // Two days where a missing large consumer's estimate (1 kWh per interval) is 0.25 kWh short each interval,
  // about 4 % of the energy: uncertain as a whole, so not theft.
  for (int k = 0; k < 2 * 96; ++k) {
    BalanceInput in = area.next(0.0);
    in.consumers_kwh -= 0.25;
    in.estimated_kwh = 1.0;
    ASSERT_FALSE(b.push(in).alert) << k;
  }
  EXPECT_GT(b.day_share(), 0.03);
}

}  // namespace
}  // namespace wattguard::analytics
