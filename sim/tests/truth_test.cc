// Tests of the simulator's analytic truth: powers, PF sign, harmonics, energy registers.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "wattguard/sim/composite_profile.h"
#include "wattguard/sim/constant_profile.h"
#include "wattguard/sim/cyclic_profile.h"
#include "wattguard/sim/meter_simulator.h"
#include "wattguard/sim/step_profile.h"

namespace wattguard::sim {
namespace {

constexpr double kPi = 3.14159265358979323846;

LoadState load(double irms, double pf = 1.0, bool leading = false, bool exporting = false) {
  LoadState s;
  s.irms_a = irms;
  s.pf = pf;
  s.leading = leading;
  s.direction = exporting ? PowerDirection::kExport : PowerDirection::kImport;
  return s;
}

TEST(Truth, LaggingLoadPowers) {
  MeterSimulator sim(SimConfig{}, std::make_shared<ConstantProfile>(load(5.0, 0.5)));
  const Truth t = sim.truth();
  EXPECT_DOUBLE_EQ(t.vrms, 230.0);
  EXPECT_NEAR(t.irms, 5.0, 1e-12);
  EXPECT_NEAR(t.p_w, 575.0, 1e-9);
  EXPECT_NEAR(t.q_var, 230.0 * 5.0 * std::sin(kPi / 3), 1e-9);
  EXPECT_NEAR(t.s_va, 1150.0, 1e-9);
  EXPECT_NEAR(t.pf, 0.5, 1e-12);
  EXPECT_DOUBLE_EQ(t.freq_hz, 50.0);
  EXPECT_EQ(t.e_import_wh, 0.0);
}

TEST(Truth, LeadingLoadHasNegativeQAndPf) {
  MeterSimulator sim(SimConfig{}, std::make_shared<ConstantProfile>(load(10.0, 0.8, true)));
  const Truth t = sim.truth();
  EXPECT_NEAR(t.p_w, 1840.0, 1e-9);
  EXPECT_NEAR(t.q_var, -230.0 * 10.0 * 0.6, 1e-9);
  EXPECT_NEAR(t.pf, -0.8, 1e-12);
}

TEST(Truth, ExportFillsExportRegisterOnly) {
  SimConfig config;
  MeterSimulator sim(config, std::make_shared<ConstantProfile>(load(4.0, 1.0, false, true)));
  sim.skip(4000 * 9);  // 9 s
  const Truth t = sim.truth();
  EXPECT_NEAR(t.p_w, -920.0, 1e-9);
  EXPECT_EQ(t.e_import_wh, 0.0);
  EXPECT_NEAR(t.e_export_wh, 920.0 * 9.0 / 3600.0, 1e-9);
}

TEST(Truth, HarmonicPowerAndRms) {
  SimConfig config;
  config.grid.harmonics = {{5, 10.0, 0.0}};
  LoadState l = load(8.0);
  l.harmonics = {{5, 40.0, 0.0}, {3, 30.0, 90.0}};
  MeterSimulator sim(config, std::make_shared<ConstantProfile>(l));
  const Truth t = sim.truth();
  EXPECT_NEAR(t.vrms, 230.0 * std::sqrt(1.01), 1e-9);
  EXPECT_NEAR(t.irms, 8.0 * std::sqrt(1.0 + 0.16 + 0.09), 1e-9);
  // In phase fundamental and 5th; the 3rd meets no voltage harmonic.
  EXPECT_NEAR(t.p_w, 230.0 * 8.0 + 23.0 * 3.2, 1e-9);
  EXPECT_NEAR(t.q_var, 0.0, 1e-9);
  EXPECT_NEAR(t.s_va, t.vrms * t.irms, 1e-9);
}

TEST(Truth, StepProfileEnergyAndQueries) {
  SimConfig config;
  auto profile = std::make_shared<StepProfile>(std::vector<StepProfile::Step>{
      {0.0, load(10.0)}, {2.0, load(1000.0 / 230.0, 1.0, false, true)}, {5.0, LoadPhasors{}}});
  MeterSimulator sim(config, profile);
  // The future is known from the profile.
  const auto ahead = sim.truth_at(4000 * 6);
  ASSERT_TRUE(ahead.has_value());
  EXPECT_NEAR(ahead->e_import_wh, 2300.0 * 2.0 / 3600.0, 1e-9);
  EXPECT_NEAR(ahead->e_export_wh, 1000.0 * 3.0 / 3600.0, 1e-9);
  EXPECT_EQ(ahead->irms, 0.0);
  std::vector<SampleSet> buf(4000 * 7);
  sim.generate(buf);
  const auto at3 = sim.truth_at(4000 * 3);
  ASSERT_TRUE(at3.has_value());
  EXPECT_NEAR(at3->p_w, -1000.0, 1e-9);
  EXPECT_NEAR(at3->e_import_wh, 2300.0 * 2.0 / 3600.0, 1e-9);
  EXPECT_NEAR(at3->e_export_wh, 1000.0 / 3600.0, 1e-9);
  EXPECT_NEAR(sim.truth().e_import_wh, ahead->e_import_wh, 1e-12);
  EXPECT_NEAR(sim.truth().e_export_wh, ahead->e_export_wh, 1e-12);
  EXPECT_FALSE(sim.truth_at(-1).has_value());
}

TEST(Truth, ChangeAppliesAtTheFirstSampleAtOrAfterItsTime) {
  SimConfig config;
  config.adc.noise_counts_rms = 0.0;
  config.adc.inl_end_counts = 0.0;
  auto profile = std::make_shared<StepProfile>(
      std::vector<StepProfile::Step>{{0.7, load(20.0)}, {0.70001, load(0.0)}, {0.9, load(20.0)}});
  MeterSimulator sim(config, profile);
  EXPECT_EQ(sim.truth_at(2799)->irms, 0.0);
  EXPECT_NEAR(sim.truth_at(2800)->irms, 20.0, 1e-12);
  // 0.70001 s falls between samples 2800 and 2801: sample 2801 sees no load again.
  EXPECT_EQ(sim.truth_at(2801)->irms, 0.0);
  EXPECT_NEAR(sim.truth_at(3600)->irms, 20.0, 1e-12);
  std::vector<SampleSet> buf(3700);
  sim.generate(buf);
  const uint16_t bias = buf[0].i;
  for (int k = 0; k < 2800; ++k) ASSERT_EQ(buf[static_cast<size_t>(k)].i, bias) << k;
  // 20 A at angle 0 of a 50 Hz sine sampled at 0.7 s (35 whole cycles): the first loaded
  // sample is at the zero crossing, moved by the clamp's 1.5 degree lead.
  const double amplitude = 20.0 * std::sqrt(2.0) * 33.0 / 2000.0 * 4096.0 / 3.3;
  EXPECT_NEAR(buf[2800].i - bias, amplitude * std::sin(1.5 * kPi / 180.0), 0.6);
  for (int k = 2801; k < 3600; ++k) ASSERT_EQ(buf[static_cast<size_t>(k)].i, bias) << k;
  EXPECT_GT(buf[3601].i, bias + 10);
  // The energy of exactly one sample at 20 A.
  EXPECT_NEAR(sim.truth_at(2801)->e_import_wh, 4600.0 / 4000.0 / 3600.0, 1e-12);
}

TEST(Truth, CyclicApplianceEnergy) {
  SimConfig config;
  // 8 A for 0.7 s every 3 s, from 0.5 s on.
  auto profile = std::make_shared<CyclicProfile>(load(8.0), CycleSpec{0.7, 3.0, 0.5});
  MeterSimulator sim(config, profile);
  const auto t = sim.truth_at(4000 * 30);  // 10 whole cycles by 30.5 s; at 30 s: 9 + 0.7
  EXPECT_NEAR(t->e_import_wh, 1840.0 * 0.7 * 10 / 3600.0, 1e-9);
  EXPECT_EQ(sim.truth_at(1999)->irms, 0.0);
  EXPECT_NEAR(sim.truth_at(2000)->irms, 8.0, 1e-12);
  EXPECT_NEAR(sim.truth_at(4799)->irms, 8.0, 1e-12);
  EXPECT_EQ(sim.truth_at(4800)->irms, 0.0);
}

TEST(Truth, CompositeSumsAsPhasors) {
  SimConfig config;
  CompositeProfile c;
  c.add(std::make_shared<ConstantProfile>(load(5.0, 0.6)));        // lagging
  c.add(std::make_shared<ConstantProfile>(load(4.0, 0.6, true)));  // leading
  MeterSimulator sim(config, std::make_shared<CompositeProfile>(c));
  const Truth t = sim.truth();
  // Reactive parts 4 A and -3.2 A, active 3 A and 2.4 A.
  EXPECT_NEAR(t.irms, std::hypot(5.4, 0.8), 1e-12);
  EXPECT_NEAR(t.p_w, 230.0 * 5.4, 1e-9);
  EXPECT_NEAR(t.q_var, 230.0 * 0.8, 1e-9);
}

TEST(Truth, RelayOpenStopsEnergyAndCurrent) {
  SimConfig config;
  MeterSimulator sim(config, std::make_shared<ConstantProfile>(load(10.0)));
  sim.skip(4000);
  sim.set_relay_closed(false);
  sim.skip(8000);
  EXPECT_EQ(sim.truth().irms, 0.0);
  EXPECT_FALSE(sim.truth().relay_closed);
  EXPECT_NEAR(sim.truth().e_import_wh, 2300.0 / 3600.0, 1e-12);
  EXPECT_NEAR(sim.truth_at(2000)->irms, 10.0, 1e-12);
  sim.set_relay_closed(true);
  sim.skip(4000);
  EXPECT_NEAR(sim.truth().e_import_wh, 2.0 * 2300.0 / 3600.0, 1e-12);
}

TEST(Truth, OutageMeansNothing) {
  SimConfig config;
  config.grid.present = false;
  MeterSimulator sim(config, std::make_shared<ConstantProfile>(load(10.0)));
  sim.skip(40000);
  const Truth t = sim.truth();
  EXPECT_EQ(t.vrms, 0.0);
  EXPECT_EQ(t.irms, 0.0);
  EXPECT_EQ(t.e_import_wh, 0.0);
  EXPECT_EQ(t.freq_hz, 0.0);
}

TEST(Truth, FrequencyDriftAndSchedule) {
  SimConfig config;
  config.grid.drift_hz_per_s = 0.5;
  config.grid.schedule = {{10.0, 45.0, 0.0}};
  MeterSimulator sim(config, std::make_shared<ConstantProfile>(load(1.0)));
  EXPECT_DOUBLE_EQ(sim.truth_at(0)->freq_hz, 50.0);
  EXPECT_DOUBLE_EQ(sim.truth_at(4000 * 4)->freq_hz, 52.0);
  EXPECT_DOUBLE_EQ(sim.truth_at(4000 * 11)->freq_hz, 45.0);
}

TEST(Truth, HistoryIsBounded) {
  SimConfig config;
  config.truth_history = 4;
  auto profile = std::make_shared<CyclicProfile>(load(8.0), CycleSpec{0.1, 0.2, 0.0});
  MeterSimulator sim(config, profile);
  sim.skip(4000 * 10);  // 100 changes
  EXPECT_FALSE(sim.truth_at(10).has_value());
  ASSERT_TRUE(sim.truth_at(4000 * 10 - 10).has_value());
  EXPECT_NEAR(sim.truth().e_import_wh, 1840.0 * 5.0 / 3600.0, 1e-9);
}

}  // namespace
}  // namespace wattguard::sim
