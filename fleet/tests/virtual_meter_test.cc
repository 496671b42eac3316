// Virtual meters on known loads: readings, registers, tamper events, commands, both fidelities.
#include "wattguard/fleet/virtual_meter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>

#include "wattguard/sim/constant_profile.h"
#include "wattguard/sim/load_state.h"

namespace wattguard::fleet {
namespace {

constexpr int64_t kBoot = 1'700'000'000'000;

MeterSetup setup_for(Fidelity fidelity, double power_w, TheftKind theft = TheftKind::kNone, double onset_s = 0) {
  MeterSetup s;
  s.index = 3;
  s.id = "m00004";
  s.model.fidelity = fidelity;
  s.model.seed = 42;
  s.model.sample_rate_hz = 2000;
  s.model.period_ms = 5000;
  s.model.profile = std::make_shared<sim::ConstantProfile>(sim::load_for_power(power_w, 0.95));
  s.theft = TheftPlan{theft, onset_s};
  s.boot_ms = kBoot;
  return s;
}

struct Outputs {
  std::vector<QueuedReading> readings;
  std::vector<protocol::MeterEvent> events;
};

Outputs run_for(VirtualMeter& m, double seconds, Outputs run = {}) {
  m.advance(kBoot + static_cast<int64_t>(seconds * 1000), &run.readings, &run.events);
  return run;
}

bool has_event(const Outputs& r, protocol::EventKind kind, protocol::EventEdge edge) {
  return std::any_of(r.events.begin(), r.events.end(),
                     [&](const protocol::MeterEvent& e) { return e.kind == kind && e.edge == edge; });
}

class BothFidelities : public ::testing::TestWithParam<Fidelity> {};

TEST_P(BothFidelities, OneReadingPerPeriodWithConsecutiveSequenceAndTimes) {
  VirtualMeter m(setup_for(GetParam(), 1000));
  const Outputs r = run_for(m, 60.0);
  ASSERT_EQ(r.readings.size(), 12u);
  for (std::size_t k = 0; k < r.readings.size(); ++k) {
    EXPECT_EQ(r.readings[k].seq, VirtualMeter::kFirstSeq + k);
    EXPECT_EQ(r.readings[k].time_ms, kBoot + 5000 * static_cast<int64_t>(k + 1));
  }
  EXPECT_EQ(m.next_seq(), VirtualMeter::kFirstSeq + 12);
  EXPECT_EQ(m.next_due_ms(), kBoot + 65000);
  EXPECT_TRUE(r.events.empty());
}

TEST_P(BothFidelities, MeasuresTheLoadAndRegistersItsEnergy) {
  VirtualMeter m(setup_for(GetParam(), 1000));
  const Outputs r = run_for(m, 3600.0);
  ASSERT_EQ(r.readings.size(), 720u);
  const QueuedReading& last = r.readings.back();
  EXPECT_NEAR(last.p_w, 1000.0, 15.0);
  EXPECT_NEAR(last.vrms, 230.0, 2.5);
  EXPECT_NEAR(last.irms, 1000.0 / 230.0 / 0.95, 0.06);
  EXPECT_NEAR(last.pf, 0.95, 0.02);
  EXPECT_NEAR(last.freq_hz, 50.0, 0.05);
  // One hour at 1 kW: 1 kWh within class 1 (1 %).
  EXPECT_NEAR(static_cast<double>(last.import_uwh) * 1e-6, 1000.0, 10.0);
  EXPECT_EQ(last.export_uwh, 0u);
  EXPECT_NEAR(m.model().true_import_wh(), 1000.0, 0.5);
  EXPECT_EQ(last.flags & protocol::kTamperFlagsMask, 0u);
}

TEST_P(BothFidelities, RelayOffIsObeyedAcknowledgedAndCurrentDropsToZero) {
  VirtualMeter m(setup_for(GetParam(), 2000));
  Outputs r = run_for(m, 30.0);
  ASSERT_GT(r.readings.back().irms, 5.0f);
  protocol::Command cmd;
  cmd.id = "c1";
  cmd.meter_id = m.id();
  cmd.kind = protocol::CommandKind::kRelayOff;
  std::vector<protocol::MeterEvent> events;
  const auto outcome = m.execute(cmd, kBoot + 30000, kBoot + 30000, &events);
  EXPECT_TRUE(outcome.ack.ok);
  EXPECT_TRUE(outcome.settings_changed);
  EXPECT_EQ(outcome.ack.id, "c1");
  EXPECT_EQ(outcome.ack.relay, protocol::RelayState::kOff);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, protocol::EventKind::kRelayOpened);
  const Outputs after = run_for(m, 60.0);
  ASSERT_FALSE(after.readings.empty());
  const QueuedReading& last = after.readings.back();
  EXPECT_LT(last.irms, 0.02f);
  EXPECT_NEAR(last.p_w, 0.0, 1.0);
  EXPECT_NE(last.flags & protocol::kFlagRelayOpen, 0u);
  cmd.kind = protocol::CommandKind::kRelayOn;
  EXPECT_EQ(m.execute(cmd, kBoot + 60000, kBoot + 60000, &events).ack.relay, protocol::RelayState::kOn);
  const Outputs back = run_for(m, 90.0);
  EXPECT_GT(back.readings.back().irms, 5.0f);
}

TEST_P(BothFidelities, BypassRaisesNeutralMismatchAndUnderReports) {
  VirtualMeter m(setup_for(GetParam(), 2000, TheftKind::kBypass, 20.0));
  const Outputs r = run_for(m, 120.0);
  EXPECT_TRUE(has_event(r, protocol::EventKind::kNeutralMismatch, protocol::EventEdge::kOnset));
  const QueuedReading& last = r.readings.back();
  EXPECT_NEAR(last.p_w, 0.3 * 2000, 30);  // 70 % bypassed
  EXPECT_NE(last.flags & protocol::kFlagTamperNeutralMismatch, 0u);
  // The event dates from the bypass, not from when it was confirmed.
  for (const auto& e : r.events) {
    if (e.kind == protocol::EventKind::kNeutralMismatch) {
      EXPECT_NEAR(e.time_ms, kBoot + 20000, 5000);
    }
  }
}

TEST_P(BothFidelities, VoltageLinkRemovedRaisesCurrentWithoutVoltage) {
  VirtualMeter m(setup_for(GetParam(), 2000, TheftKind::kVoltageLink, 10.0));
  const Outputs r = run_for(m, 90.0);
  EXPECT_TRUE(has_event(r, protocol::EventKind::kCurrentWithoutVoltage, protocol::EventEdge::kOnset));
  EXPECT_LT(r.readings.back().vrms, 5.0f);
  EXPECT_NEAR(r.readings.back().p_w, 0.0, 1.0);
}

TEST_P(BothFidelities, ReversedClampRaisesReverseFlowAndCountsExport) {
  VirtualMeter m(setup_for(GetParam(), 2000, TheftKind::kReversedCt, 10.0));
  const Outputs r = run_for(m, 90.0);
  EXPECT_TRUE(has_event(r, protocol::EventKind::kReverseFlow, protocol::EventEdge::kOnset));
  EXPECT_LT(r.readings.back().p_w, -1500.0f);
  EXPECT_GT(r.readings.back().export_uwh, 0u);
}

TEST_P(BothFidelities, MagnetRaisesMagnetic) {
  VirtualMeter m(setup_for(GetParam(), 2000, TheftKind::kMagnet, 10.0));
  const Outputs r = run_for(m, 90.0);
  EXPECT_TRUE(has_event(r, protocol::EventKind::kMagnetic, protocol::EventEdge::kOnset));
  EXPECT_FALSE(has_event(r, protocol::EventKind::kNeutralMismatch, protocol::EventEdge::kOnset));
}

TEST_P(BothFidelities, RegisterResetRaisesRollbackAndCoverOpenThenClear) {
  VirtualMeter m(setup_for(GetParam(), 2000, TheftKind::kRegisterReset, 600.0));
  const Outputs r = run_for(m, 900.0);
  EXPECT_TRUE(has_event(r, protocol::EventKind::kRegisterRollback, protocol::EventEdge::kInstant));
  EXPECT_TRUE(has_event(r, protocol::EventKind::kCoverOpen, protocol::EventEdge::kOnset));
  EXPECT_TRUE(has_event(r, protocol::EventKind::kCoverOpen, protocol::EventEdge::kClear));
  // The register after the reset is well below the energy really delivered.
  EXPECT_LT(static_cast<double>(r.readings.back().import_uwh) * 1e-6, 0.8 * m.model().true_import_wh());
}

TEST_P(BothFidelities, SetPeriodChangesTheReportInterval) {
  VirtualMeter m(setup_for(GetParam(), 500));
  Outputs r = run_for(m, 10.0);
  ASSERT_EQ(r.readings.size(), 2u);
  protocol::Command cmd;
  cmd.id = "p";
  cmd.meter_id = m.id();
  cmd.kind = protocol::CommandKind::kSetPeriod;
  cmd.period_s = 2;
  std::vector<protocol::MeterEvent> events;
  const auto outcome = m.execute(cmd, kBoot + 10000, kBoot + 10000, &events);
  EXPECT_TRUE(outcome.ack.ok);
  EXPECT_EQ(outcome.ack.period_s, 2u);
  const Outputs after = run_for(m, 20.0);
  ASSERT_EQ(after.readings.size(), 5u);
  EXPECT_EQ(after.readings[0].time_ms, kBoot + 12000);
  EXPECT_EQ(after.readings[0].seq, VirtualMeter::kFirstSeq + 2);
  cmd.period_s = 0;
  EXPECT_FALSE(m.execute(cmd, kBoot + 20000, kBoot + 20000, &events).ack.ok);
}

INSTANTIATE_TEST_SUITE_P(Fleet, BothFidelities, ::testing::Values(Fidelity::kSamples, Fidelity::kFast),
                         [](const auto& info) { return std::string(fidelity_name(info.param)); });

TEST(VirtualMeter, ExpiredCommandIsRefusedAndChangesNothing) {
  VirtualMeter m(setup_for(Fidelity::kFast, 500));
  protocol::Command cmd;
  cmd.id = "old";
  cmd.meter_id = m.id();
  cmd.kind = protocol::CommandKind::kRelayOff;
  cmd.expires_ms = 1000;
  std::vector<protocol::MeterEvent> events;
  const auto outcome = m.execute(cmd, kBoot, kBoot, &events);
  EXPECT_FALSE(outcome.ack.ok);
  EXPECT_EQ(outcome.ack.relay, protocol::RelayState::kOn);
  EXPECT_TRUE(m.relay_closed());
  EXPECT_TRUE(events.empty());
}

TEST(VirtualMeter, ResumeContinuesSequenceRegistersAndRelayAndReportsThePowerUp) {
  VirtualMeter m(setup_for(Fidelity::kFast, 1000));
  ResumeState state;
  state.next_seq = 500;
  state.import_uwh = 7'000'000'000;
  state.relay_closed = false;
  state.last_time_ms = kBoot - 120'000;
  std::vector<protocol::MeterEvent> events;
  m.resume(state, &events);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, protocol::EventKind::kPowerUp);
  EXPECT_NE(events[0].details.find("120 s"), std::string::npos);
  EXPECT_FALSE(m.relay_closed());
  const Outputs r = run_for(m, 10.0);
  ASSERT_EQ(r.readings.size(), 2u);
  EXPECT_EQ(r.readings[0].seq, 500u);
  EXPECT_EQ(r.readings[0].import_uwh, 7'000'000'000u);  // relay open: nothing added
}

TEST(VirtualMeter, ASavedPeriodIsResumedButADamagedOneIsIgnored) {
  for (const Fidelity fidelity : {Fidelity::kFast, Fidelity::kSamples}) {
    std::vector<protocol::MeterEvent> events;
    VirtualMeter usable(setup_for(fidelity, 1000));
    ResumeState state;
    state.period_ms = 10'000;
    usable.resume(state, &events);
    EXPECT_EQ(usable.period_ms(), 10'000u);
    // What no command can set (1..3600 s) can only come from a damaged state file: the configured 5 s stays.
    for (const uint32_t damaged : {999u, 3'600'001u, 4'000'000'000u}) {
      VirtualMeter meter(setup_for(fidelity, 1000));
      state.period_ms = damaged;
      meter.resume(state, &events);
      EXPECT_EQ(meter.period_ms(), 5000u) << damaged;
      EXPECT_EQ(run_for(meter, 10.0).readings.size(), 2u) << damaged;
    }
  }
}

TEST(VirtualMeter, FastAndSampleFidelityAgreeOnEnergy) {
  VirtualMeter fast(setup_for(Fidelity::kFast, 1500));
  VirtualMeter samples(setup_for(Fidelity::kSamples, 1500));
  const Outputs a = run_for(fast, 600.0);
  const Outputs b = run_for(samples, 600.0);
  const double ea = static_cast<double>(a.readings.back().import_uwh);
  const double eb = static_cast<double>(b.readings.back().import_uwh);
  EXPECT_NEAR(ea / eb, 1.0, 0.01);
}

}  // namespace
}  // namespace wattguard::fleet
