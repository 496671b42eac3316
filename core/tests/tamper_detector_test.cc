// Meter-side tamper detection on simulated theft scenarios: each raised within one report
// period of its minimum duration, and cleared when the condition ends.
#include "wattguard/core/tamper_detector.h"

#include <gtest/gtest.h>

#include <vector>

#include "sim_harness.h"
#include "wattguard/sim/household_profile.h"

namespace wattguard::core {
namespace {

struct Scenario {
  std::vector<TamperEvent> events;
  std::vector<double> emitted_at_s;  // end of the period whose update raised each event
  std::vector<PeriodReading> readings;
};

// Runs `before_s` honest seconds, then `tamper` for `during_s`, then honest again for
// `after_s`, feeding every period to a detector.
template <class Tamper, class Restore>
Scenario run_scenario(sim::MeterSimulator& simulator, MetrologyEngine& engine, TamperDetector& detector,
                      double before_s, double during_s, double after_s, Tamper tamper, Restore restore,
                      DigitalInputs inputs = {}, DigitalInputs tamper_inputs = {}) {
  Scenario out;
  auto feed = [&](double seconds, const DigitalInputs& in) {
    const auto r = testing::run(simulator, engine, seconds);
    for (const auto& reading : r.readings) {
      TamperEvent buf[8];
      const uint32_t n = detector.update(reading, in, engine.config().has_neutral_channel, buf, 8);
      out.events.insert(out.events.end(), buf, buf + n);
      out.emitted_at_s.insert(out.emitted_at_s.end(), n, reading.t_end_s);
      out.readings.push_back(reading);
    }
  };
  feed(before_s, inputs);
  tamper();
  feed(during_s, tamper_inputs);
  restore();
  feed(after_s, inputs);
  return out;
}

class TamperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = testing::noisy_household_front_end(31);
    simulator_ = std::make_unique<sim::MeterSimulator>(config_, testing::constant_load(6.0, 0.95, false));
    ASSERT_EQ(engine_.configure(testing::meter_config_for(config_, /*neutral=*/true)), Status::kOk);
  }
  // The onset must come within one 5 s period after the minimum duration (30 s) of the
  // condition that started at 20 s; the clear likewise after it ends at 80 s.
  void expect_onset_and_clear(const Scenario& s, TamperKind kind) {
    int onsets = 0, clears = 0;
    for (size_t k = 0; k < s.events.size(); ++k) {
      const TamperEvent& e = s.events[k];
      if (e.kind != kind) {
        ADD_FAILURE() << "unexpected " << tamper_kind_name(e.kind) << " at " << e.t_s;
        continue;
      }
      if (e.onset) {
        ++onsets;
        EXPECT_NEAR(e.t_s, 20.0, 5.0) << "onset time is when the condition began";
        // Raised within one report period of the 30 s minimum duration.
        EXPECT_LE(s.emitted_at_s[k], 20.0 + 30.0 + 5.0 + 5.0);
      } else {
        ++clears;
        EXPECT_NEAR(e.t_s, 80.0, 5.0);
        EXPECT_LE(s.emitted_at_s[k], 80.0 + 30.0 + 5.0 + 5.0);
      }
    }
    EXPECT_EQ(onsets, 1) << tamper_kind_name(kind);
    EXPECT_EQ(clears, 1) << tamper_kind_name(kind);
  }
  sim::SimConfig config_;
  std::unique_ptr<sim::MeterSimulator> simulator_;
  MetrologyEngine engine_;
  TamperDetector detector_;
};

TEST_F(TamperTest, BypassOfThePhaseClampIsANeutralMismatch) {
  const auto s = run_scenario(
      *simulator_, engine_, detector_, 20, 60, 60,
      [&] {
        simulator_->set_wiring({0.1, 1.0});
      },
      [&] {
        simulator_->set_wiring({1.0, 1.0});
      });
  expect_onset_and_clear(s, TamperKind::kNeutralMismatch);
  EXPECT_FALSE(detector_.active(TamperKind::kNeutralMismatch));
}

TEST_F(TamperTest, EarthReturnIsANeutralMismatch) {
  const auto s = run_scenario(
      *simulator_, engine_, detector_, 20, 60, 60,
      [&] {
        simulator_->set_wiring({1.0, 0.0});
      },
      [&] {
        simulator_->set_wiring({1.0, 1.0});
      });
  expect_onset_and_clear(s, TamperKind::kNeutralMismatch);
  for (const auto& e : s.events) {
    if (e.onset) {
      EXPECT_LT(e.value, e.ref_value) << "neutral smaller than phase";
    }
  }
}

TEST_F(TamperTest, ReversedClampIsReverseFlow) {
  const auto s = run_scenario(
      *simulator_, engine_, detector_, 20, 60, 60,
      [&] {
        simulator_->set_wiring({-1.0, -1.0});
      },
      [&] {
        simulator_->set_wiring({1.0, 1.0});
      });
  expect_onset_and_clear(s, TamperKind::kReverseFlow);
}

TEST_F(TamperTest, RemovedVoltageLinkIsCurrentWithoutVoltage) {
  const auto s = run_scenario(
      *simulator_, engine_, detector_, 20, 60, 60, [&] { simulator_->set_voltage_connected(false); },
      [&] { simulator_->set_voltage_connected(true); });
  expect_onset_and_clear(s, TamperKind::kCurrentWithoutVoltage);
}

TEST_F(TamperTest, MagnetInputAndCoverSwitch) {
  const auto s = run_scenario(
      *simulator_, engine_, detector_, 20, 60, 60, [] {}, [] {}, DigitalInputs{}, DigitalInputs{true, false});
  expect_onset_and_clear(s, TamperKind::kMagneticInterference);
  TamperDetector d;
  TamperEvent buf[4];
  PeriodReading r;
  r.duration_s = 5;
  r.t_end_s = 5;
  EXPECT_EQ(d.update(r, DigitalInputs{false, true}, false, buf, 4), 1u);
  EXPECT_EQ(buf[0].kind, TamperKind::kCoverOpen);
  EXPECT_TRUE(buf[0].onset);
}

TEST_F(TamperTest, ShortConditionsDoNotRaise) {
  // A 15 s bypass (shorter than the 30 s minimum) raises nothing.
  const auto s = run_scenario(
      *simulator_, engine_, detector_, 20, 15, 40,
      [&] {
        simulator_->set_wiring({0.1, 1.0});
      },
      [&] {
        simulator_->set_wiring({1.0, 1.0});
      });
  EXPECT_TRUE(s.events.empty());
}

TEST(Tamper, RegisterRollbackAtBootAndInReadings) {
  TamperDetector d;
  TamperEvent buf[4];
  EXPECT_EQ(d.check_restored_registers(5'000'000, 0, 5'000'000, 0, 0.0, buf, 4), 0u);
  ASSERT_EQ(d.check_restored_registers(5'000'000, 0, 1'000'000, 0, 0.0, buf, 4), 1u);
  EXPECT_EQ(buf[0].kind, TamperKind::kRegisterRollback);
  EXPECT_NEAR(buf[0].value, 4.0, 1e-6);  // Wh lost
  PeriodReading r;
  r.duration_s = 5;
  r.t_end_s = 5;
  r.import_uwh = 2'000'000;
  EXPECT_EQ(d.update(r, {}, false, buf, 4), 0u);
  r.import_uwh = 1'500'000;
  r.t_end_s = 10;
  ASSERT_EQ(d.update(r, {}, false, buf, 4), 1u);
  EXPECT_EQ(buf[0].kind, TamperKind::kRegisterRollback);
  ASSERT_EQ(d.power_up(3600, 0, buf, 4), 1u);
  EXPECT_EQ(buf[0].kind, TamperKind::kPowerUp);
  EXPECT_FLOAT_EQ(buf[0].value, 3600.0f);
}

TEST(Tamper, HonestHouseholdDayRaisesNothing) {
  // Six hours of a generated household (motors, LED lighting, inverter AC, kettle...) at
  // 1 kHz, with both clamps honest: no tamper event. (The 30-day soak is a benchmark.)
  for (uint64_t seed : {3u, 8u}) {
    sim::SimConfig s = testing::noisy_household_front_end(seed);
    s.sample_rate_hz = 1000;
    sim::HouseholdOptions options;
    options.start_time_of_day_s = 16 * 3600.0;  // the evening peak
    options.allow_solar = false;
    sim::MeterSimulator simulator(s, std::make_shared<sim::HouseholdProfile>(seed, options));
    MetrologyEngine engine;
    ASSERT_EQ(engine.configure(testing::meter_config_for(s, true)), Status::kOk);
    TamperDetector detector;
    const auto r = testing::run(simulator, engine, 6 * 3600.0);
    for (const auto& reading : r.readings) {
      TamperEvent buf[8];
      const uint32_t n = detector.update(reading, {}, true, buf, 8);
      for (uint32_t k = 0; k < n; ++k) {
        ADD_FAILURE() << "seed " << seed << ": false " << tamper_kind_name(buf[k].kind) << " at " << buf[k].t_s
                      << " s, value " << buf[k].value << " ref " << buf[k].ref_value;
      }
    }
  }
}

}  // namespace
}  // namespace wattguard::core
