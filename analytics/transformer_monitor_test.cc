#include "wattguard/analytics/transformer_monitor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace wattguard::analytics {
namespace {

// Ten households with a daily curve and noise; from day 28 household 0 reports only 30 % of its use. When
// `honest`, it really uses only that much (an empty house): the check meter sees the drop too. Otherwise the
// rest is stolen and still flows through the check meter. With `neighbour_steals`, household 1 runs a 1 kW load
// around its meter from day 21 on, so the transformer loses more energy a day than household 0's fall (for a
// different reason). Returns why household 0 was first flagged (kNone: never).
FlagCause household_zero_flagged(bool honest, double pattern_drop_loss_share, bool neighbour_steals = false) {
  MonitorConfig config = MonitorConfig::for_interval(900, 14);
  // Let the pattern alone flag readily, so the energy check is what decides.
  config.flag.pattern_alone = 0.6;
  config.flag.pattern_center = 2.5;
  config.flag.pattern_drop_loss_share = pattern_drop_loss_share;
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) ids.push_back("M" + std::to_string(i));
  TransformerMonitor monitor("T1", ids, config);
  std::mt19937 rng(5);
  std::normal_distribution<double> n01(0, 1);
  std::vector<MeterValue> values(ids.size());
  FlagCause flagged = FlagCause::kNone;
  const int64_t start_s = 1700000000 - 1700000000 % 86400;
  for (int k = 0; k < 42 * 96; ++k) {
    const int day = k / 96;
    const double hour = (k % 96) / 4.0;
    double total = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
      const double size = i == 0 ? 3.0 : 1.0;
      double used = size *
                    (0.08 + 0.25 * std::exp(-std::pow(hour - 19, 2) / 6) + 0.1 * std::exp(-std::pow(hour - 8, 2) / 3)) *
                    std::max(0.2, 1.0 + 0.15 * n01(rng));
      double reported = used;
      if (i == 0 && day >= 28) {
        reported = 0.3 * used;
        if (honest) used = reported;
      }
      if (i == 1 && neighbour_steals && day >= 21) used += 0.25;  // reported stays what its meter sees
      total += used;
      values[i] = MeterValue{std::round(reported * 1000) / 1000, Quality::kMeasured};
    }
    const double p_kw = total / 0.25;
    const double loss = (0.1 + 0.02 * p_kw + 0.001 * p_kw * p_kw) * 0.25 * (1 + 0.05 * n01(rng));
    const CycleResult r = monitor.push(start_s + (k + 1) * 900, MeterValue{total + loss, Quality::kMeasured}, values);
    for (size_t i : r.newly_flagged) {
      if (i == 0 && flagged == FlagCause::kNone) flagged = monitor.flag_cause(0);
    }
  }
  return flagged;
}

TEST(TransformerMonitor, PatternFlagForAFallInUseNeedsTheEnergyToGoMissingAtTheTransformer) {
  // Without the energy check, an honest household whose use fell is flagged on its pattern alone.
  EXPECT_EQ(household_zero_flagged(/*honest=*/true, /*pattern_drop_loss_share=*/0.0), FlagCause::kPattern);
  // With it: its transformer lost nothing, so the fall is real use, not theft.
  EXPECT_EQ(household_zero_flagged(/*honest=*/true, FlagConfig{}.pattern_drop_loss_share), FlagCause::kNone);
  // The same reports while the energy still flows through the check meter: flagged, and the first evidence is
  // the balance (its shortfall reappears as loss) or its pattern, never a silent meter.
  const FlagCause thief = household_zero_flagged(/*honest=*/false, FlagConfig{}.pattern_drop_loss_share);
  EXPECT_TRUE(thief == FlagCause::kBalance || thief == FlagCause::kPattern) << flag_cause_name(thief);
}

TEST(TransformerMonitor, AnotherThiefsLossDoesNotCoverAnHonestFallInUse) {
  // The neighbour's theft loses more energy a day than household 0's honest fall, so the day totals pass the
  // energy check; hour by hour the loss does not follow household 0's missing use, so it is not flagged.
  EXPECT_EQ(household_zero_flagged(/*honest=*/true, FlagConfig{}.pattern_drop_loss_share, /*neighbour_steals=*/true),
            FlagCause::kNone);
  // A thief among the same neighbours still is.
  EXPECT_NE(household_zero_flagged(/*honest=*/false, FlagConfig{}.pattern_drop_loss_share, /*neighbour_steals=*/true),
            FlagCause::kNone);
}

// Ten households over 30 days; household 3 goes silent for good from day 22. The check meter reports except
// where check_missing(k) says (k: interval index). Returns the monitor at the end.
std::unique_ptr<TransformerMonitor> silent_meter_run(const std::function<bool(int)>& check_missing) {
  MonitorConfig config = MonitorConfig::for_interval(900, 14);
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) ids.push_back("M" + std::to_string(i));
  auto monitor = std::make_unique<TransformerMonitor>("T1", ids, config);
  std::mt19937 rng(9);
  std::normal_distribution<double> n01(0, 1);
  std::vector<MeterValue> values(ids.size());
  const int64_t start_s = 1700000000 - 1700000000 % 86400;
  for (int k = 0; k < 30 * 96; ++k) {
    const double hour = (k % 96) / 4.0;
    const bool area_silent = check_missing(k);
    double total = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
      const double used = (0.08 + 0.25 * std::exp(-std::pow(hour - 19, 2) / 6)) * std::max(0.2, 1.0 + 0.3 * n01(rng));
      total += used;
      const bool silent = (i == 3 && k >= 22 * 96) || area_silent;
      values[i] =
          silent ? MeterValue{0, Quality::kMissing} : MeterValue{std::round(used * 1000) / 1000, Quality::kMeasured};
    }
    const double p_kw = total / 0.25;
    const double loss = (0.1 + 0.002 * p_kw * p_kw) * 0.25 * (1 + 0.05 * n01(rng));
    monitor->push(start_s + (k + 1) * 900,
                  area_silent ? MeterValue{0, Quality::kMissing} : MeterValue{total + loss, Quality::kMeasured},
                  values);
  }
  return monitor;
}

// A meter that goes silent for good while the check meter reports: flagged after offline_flag_days, and ranked
// first with it (its theft is invisible to the balance, so only the silence can put it above its neighbours).
TEST(TransformerMonitor, ASilentMeterIsFlaggedAndRankedFirst) {
  const auto monitor = silent_meter_run([](int) { return false; });
  EXPECT_TRUE(monitor->flagged(3));
  EXPECT_EQ(monitor->flag_cause(3), FlagCause::kSilence);
  const TransformerReport r = monitor->report();
  ASSERT_FALSE(r.suspects.empty());
  EXPECT_EQ(r.suspects[0].meter, "M3");
  EXPECT_GE(r.suspects[0].score, 0.9);
}

// The last hours have no readings at all, the check meter's included (its file is not imported yet): the
// silence seen while the check meter reported still stands; the flag and the rank do not flicker off.
TEST(TransformerMonitor, ASilentMeterStaysFlaggedWhileTheCheckReadingsAreLate) {
  const auto monitor = silent_meter_run([](int k) { return k >= 30 * 96 - 24; });
  EXPECT_TRUE(monitor->flagged(3));
  const TransformerReport r = monitor->report();
  ASSERT_FALSE(r.suspects.empty());
  EXPECT_EQ(r.suspects[0].meter, "M3");
}

// Days 22-28 nothing reports, the check meter included (an area outage): only the two days since the check
// meter came back count as silence, under offline_flag_days.
TEST(TransformerMonitor, AnAreaOutageDoesNotCountAsAMetersSilence) {
  const auto monitor = silent_meter_run([](int k) { return k >= 22 * 96 && k < 28 * 96; });
  EXPECT_FALSE(monitor->flagged(3));
}

// Thirty households; from day 22 household 4 reports only part of its use (`hidden`), too little for the
// balance to alert. Returns the report at day 40.
TransformerReport small_thief_report(double hidden, double quiet_weight) {
  MonitorConfig config = MonitorConfig::for_interval(900, 14);
  config.flag.quiet_weight = quiet_weight;
  std::vector<std::string> ids;
  for (int i = 0; i < 30; ++i) ids.push_back("M" + std::to_string(i));
  TransformerMonitor monitor("T1", ids, config);
  std::mt19937 rng(21);
  std::normal_distribution<double> n01(0, 1);
  std::vector<MeterValue> values(ids.size());
  const int64_t start_s = 1700000000 - 1700000000 % 86400;
  for (int k = 0; k < 40 * 96; ++k) {
    const double hour = (k % 96) / 4.0;
    double total = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
      const double used = (0.02 + 0.2 * std::exp(-std::pow(hour - 19 + 0.1 * static_cast<double>(i), 2) / 4)) *
                          std::max(0.1, 1.0 + 0.6 * n01(rng));
      total += used;
      const double reported = (i == 4 && k >= 22 * 96) ? (1.0 - hidden) * used : used;
      values[i] = MeterValue{std::round(reported * 1000) / 1000, Quality::kMeasured};
    }
    const double p_kw = total / 0.25;
    const double loss = (0.1 + 0.03 * p_kw) * 0.25 * (1 + 0.3 * n01(rng));
    monitor.push(start_s + (k + 1) * 900, MeterValue{total + loss, Quality::kMeasured}, values);
  }
  return monitor.report();
}

TEST(TransformerMonitor, ASmallThiefBelowTheAlertIsRankedByTheQuietFit) {
  const TransformerReport quiet = small_thief_report(0.3, FlagConfig{}.quiet_weight);
  // The theft stays below what the balance alerts on ...
  EXPECT_EQ(quiet.alerts_raised, 0);
  ASSERT_FALSE(quiet.suspects.empty());
  // ... yet the loss follows the thief's reports, so the daily quiet fit puts it first, with that evidence.
  EXPECT_EQ(quiet.suspects[0].meter, "M4");
  bool said = false;
  for (const auto& e : quiet.suspects[0].evidence) said |= e.find("below the alert level") != std::string::npos;
  EXPECT_TRUE(said);
  EXPECT_FALSE(quiet.suspects[0].flagged);  // ranking only: a fit without an alert flags nobody
  // Without the quiet fit, only its pattern speaks for it.
  const TransformerReport without = small_thief_report(0.3, 0.0);
  EXPECT_LT(without.suspects[0].score, quiet.suspects[0].score);
}

}  // namespace
}  // namespace wattguard::analytics
