// Tests of alert episodes: a flapping balance alert is one episode, it closes only once the loss has clearly
// stopped, and a silent check meter leaves the transformer not evaluable rather than clean.
#include "wattguard/analytics/alert_episodes.h"

#include <gtest/gtest.h>

#include "analytics/suspect_reason.h"

namespace wattguard::analytics {
namespace {

constexpr int64_t kInterval = 900;

BalanceStep step(bool alert, double unexplained_kwh) {
  BalanceStep s;
  s.evaluated = true;
  s.alert = alert;
  s.unexplained_kwh = unexplained_kwh;
  return s;
}

TEST(AlertEpisodes, AnAlertThatComesAndGoesWithinADayIsOneEpisode) {
  AlertEpisodes e;
  int64_t t = 1'000'000;
  // 10 days of an intermittent theft: the balance alerts 6 hours, drops for 10 hours, alerts again...
  for (int cycle = 0; cycle < 15; ++cycle) {
    for (int k = 0; k < 24; ++k) {
      t += kInterval;
      e.push(t, true, step(true, 0.5), true, 0.06, 0.03, t - 6 * 3600);
    }
    for (int k = 0; k < 40; ++k) e.push(t += kInterval, true, step(false, 0.2), true, 0.05, 0.03, -1);
  }
  EXPECT_EQ(e.opened(), 1);
  ASSERT_EQ(e.episodes().size(), 1u);
  EXPECT_TRUE(e.open());
  EXPECT_EQ(e.state(true), TransformerState::kAlert);
  // Every interval's unexplained energy from the start, the quiet stretches between alerts included.
  EXPECT_NEAR(e.episodes()[0].energy_kwh, 14 * (24 * 0.5 + 40 * 0.2) + 24 * 0.5, 1e-6);
  EXPECT_NEAR(e.episodes()[0].peak_loss_share, 0.06, 1e-12);
}

TEST(AlertEpisodes, ClosesOnlyAfterADayQuietWithTheLossBackUnderHalfTheAlertLevel) {
  AlertEpisodes e;
  int64_t t = 1'000'000;
  for (int k = 0; k < 8; ++k) e.push(t += kInterval, true, step(true, 1.0), true, 0.05, 0.03, 1'000'000);
  const int64_t last_alert = t;
  // Two days quiet but the day's loss still at 2 % (over half of the 3 % level): stays open.
  for (int k = 0; k < 192; ++k) e.push(t += kInterval, true, step(false, 0.1), true, 0.02, 0.03, -1);
  EXPECT_TRUE(e.open());
  // Once the day's loss is under 1.5 % the episode closes, ending at its last alerting interval.
  e.push(t += kInterval, true, step(false, 0.0), true, 0.01, 0.03, -1);
  EXPECT_FALSE(e.open());
  ASSERT_EQ(e.episodes().size(), 1u);
  EXPECT_EQ(e.episodes()[0].end_end_s, last_alert);
  EXPECT_NEAR(e.episodes()[0].energy_kwh, 8.0, 1e-9);  // the quiet tail after the last alert is not counted
  EXPECT_EQ(e.state(true), TransformerState::kClean);
  // A new alert after it closed is a new episode.
  t += kInterval;
  e.push(t, true, step(true, 1.0), true, 0.05, 0.03, t);
  EXPECT_EQ(e.opened(), 2);
}

TEST(AlertEpisodes, ASilentCheckMeterIsNotEvaluableNotClean) {
  AlertEpisodes e;
  int64_t t = 1'000'000;
  for (int k = 0; k < 96; ++k) e.push(t += kInterval, true, step(false, 0.0), true, 0.0, 0.03, -1);
  EXPECT_EQ(e.state(true), TransformerState::kClean);
  BalanceStep missing;  // the balance skips intervals without a check reading
  for (int k = 0; k < 15; ++k) e.push(t += kInterval, false, missing, true, 0.0, 0.03, -1);
  EXPECT_EQ(e.state(true), TransformerState::kClean);  // under 4 hours: a gap, not yet a dead meter
  e.push(t += kInterval, false, missing, true, 0.0, 0.03, -1);
  EXPECT_EQ(e.state(true), TransformerState::kNotEvaluable);
  EXPECT_STREQ(transformer_state_name(e.state(true)), "not_evaluable");
  EXPECT_DOUBLE_EQ(e.check_silent_hours(kInterval), 4.0);
  e.push(t += kInterval, true, step(false, 0.0), true, 0.0, 0.03, -1);
  EXPECT_EQ(e.state(true), TransformerState::kClean);
}

TEST(SuspectReason, SpeaksInPlainWordsWithTheNumbers) {
  SuspectFacts f;
  f.decision = SuspectFacts::Decision::kFlagged;
  f.cause = SuspectFacts::Cause::kBalance;
  f.pattern_ready = true;
  f.usual_kwh_per_day = 8.2;
  f.recent_kwh_per_day = 3.1;
  f.loss_share = 0.9;
  f.attributed_kwh_per_day = 4.9;
  f.transformer_alert = true;
  f.since_end_s = 1'678'579'200;  // 2023-03-12 00:00 UTC
  const std::string r = suspect_reason(f);
  EXPECT_EQ(r,
            "uses 62 % less since 12 Mar (3.1 instead of 8.2 kWh a day) while the transformer's unexplained loss "
            "rose by about the same: 4.9 kWh a day, 90 % of that loss");
  f.decision = SuspectFacts::Decision::kUnknown;
  f.history_days = 5.4;
  f.needed_days = 8;
  EXPECT_EQ(suspect_reason(f), "too little history to judge yet: 5 of the 8 days of readings needed");
  const std::string alert = episode_reason(1'678'627'800, 38.24, 0.061, 0.03, 0);
  EXPECT_EQ(alert,
            "since 12 Mar 13:30, 38.2 kWh went missing: 6.1 % of the energy through the transformer in the last 24 "
            "hours is not explained by its consumers or technical losses (alert level 3.0 %)");
  EXPECT_EQ(alert.find("CUSUM"), std::string::npos);
}

}  // namespace
}  // namespace wattguard::analytics
