// Tests of the sensor and ADC models through the generated samples.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <memory>
#include <vector>

#include "wattguard/sim/constant_profile.h"
#include "wattguard/sim/ideal_calibration.h"
#include "wattguard/sim/meter_simulator.h"

namespace wattguard::sim {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kCountsPerVolt = 4096.0 / 3.3;

LoadState load(double irms, double pf = 1.0) {
  LoadState s;
  s.irms_a = irms;
  s.pf = pf;
  return s;
}

std::vector<SampleSet> run(const SimConfig& config, const LoadState& l, size_t n) {
  MeterSimulator sim(config, std::make_shared<ConstantProfile>(l));
  std::vector<SampleSet> out(n);
  sim.generate(out);
  return out;
}

// Complex amplitude (peak, counts) of harmonic `order` of a channel over whole cycles.
template <class Get>
std::complex<double> dft(const std::vector<SampleSet>& s, Get get, double cycles_per_sample) {
  std::complex<double> acc = 0;
  for (size_t k = 0; k < s.size(); ++k) {
    acc += static_cast<double>(get(s[k])) * std::polar(1.0, -2.0 * kPi * cycles_per_sample * static_cast<double>(k));
  }
  return acc * (2.0 / static_cast<double>(s.size()));
}

double ac_rms(const std::vector<SampleSet>& s, uint16_t SampleSet::*field) {
  double mean = 0, sq = 0;
  for (const auto& x : s) mean += x.*field;
  mean /= static_cast<double>(s.size());
  for (const auto& x : s) sq += (x.*field - mean) * (x.*field - mean);
  return std::sqrt(sq / static_cast<double>(s.size()));
}

double phase_deg_of(std::complex<double> c) { return std::arg(c) * 180.0 / kPi; }

TEST(SensorModel, PhaseOfCurrentOverVoltageMatchesIdealCalibration) {
  for (double skew_us : {0.0, 125.0}) {
    SimConfig config;
    config.channel_skew_us = skew_us;
    config.adc.inl_end_counts = 0.0;
    const auto s = run(config, load(5.0), 8000);
    const double cps = 50.0 / 4000.0;
    const auto v = dft(
        s, [](const SampleSet& x) { return x.v; }, cps);
    const auto i = dft(
        s, [](const SampleSet& x) { return x.i; }, cps);
    const auto n = dft(
        s, [](const SampleSet& x) { return x.n; }, cps);
    const double measured = phase_deg_of(i) - phase_deg_of(v);
    const double expected = 1.5 - 0.3 + 360.0 * 50.0 * skew_us * 1e-6;
    EXPECT_NEAR(measured, expected, 0.05) << "skew " << skew_us;
    EXPECT_NEAR(ideal_calibration(config).phase_deg, expected, 1e-5);
    // The neutral is converted after the phase current: twice the skew.
    EXPECT_NEAR(phase_deg_of(n) - phase_deg_of(v), expected + 360.0 * 50.0 * skew_us * 1e-6, 0.05);
  }
}

TEST(SensorModel, IdealCalibrationConvertsCountsToTrueValues) {
  SimConfig config;
  config.adc.gain_error_percent = -1.5;
  config.adc.inl_end_counts = 0.0;
  config.voltage_sensor.ratio_v_per_v = 0.6 / 325.0;
  config.phase_clamp.burden_ohm = 22.0;
  const auto s = run(config, load(12.0), 40000);
  const core::Calibration cal = ideal_calibration(config);
  const double noise2 = 2.5 * 2.5 + 1.0 / 12.0;
  const double v_counts = std::sqrt(std::pow(ac_rms(s, &SampleSet::v), 2) - noise2);
  const double i_counts = std::sqrt(std::pow(ac_rms(s, &SampleSet::i), 2) - noise2);
  EXPECT_NEAR(v_counts * cal.v_per_count, 230.0, 0.05);
  EXPECT_NEAR(i_counts * cal.i_per_count, 12.0, 0.01);
  EXPECT_NEAR(cal.i_noise_counts, std::sqrt(noise2), 1e-5);
  EXPECT_NEAR(cal.n_per_count, 2000.0 / 33.0 / (kCountsPerVolt * 0.985), 1e-4);
}

TEST(SensorModel, DefaultsKeepImaxAndOvervoltageInsideUsableInput) {
  SimConfig config;
  config.grid.vrms = 230.0 * 1.15;
  config.grid.harmonics = {{5, 10.0, 0.0}};
  config.adc.noise_counts_rms = 0.0;
  config.adc.inl_end_counts = 0.0;
  const auto s = run(config, load(30.0), 4000);
  const auto [vmin, vmax] = std::minmax_element(s.begin(), s.end(), [](auto& a, auto& b) { return a.v < b.v; });
  const auto [imin, imax] = std::minmax_element(s.begin(), s.end(), [](auto& a, auto& b) { return a.i < b.i; });
  const double lo = 0.15 * kCountsPerVolt + 10, hi = 2.45 * kCountsPerVolt + 10;
  EXPECT_GT(vmin->v, lo);
  EXPECT_LT(vmax->v, hi);
  EXPECT_GT(imin->i, lo);
  EXPECT_LT(imax->i, hi);
  // 30 A RMS is 0.70 V peak across 33 ohm.
  EXPECT_NEAR((imax->i - imin->i) / 2.0 / kCountsPerVolt, 30.0 * std::sqrt(2.0) * 33.0 / 2000.0, 0.002);
}

TEST(SensorModel, HarmonicsGiveTheRightRmsInCounts) {
  SimConfig config;
  config.adc.noise_counts_rms = 0.0;
  config.adc.inl_end_counts = 0.0;
  config.grid.harmonics = {{3, 20.0, 30.0}, {7, 5.0, 0.0}};
  LoadState l = load(10.0, 0.9);
  l.harmonics = {{3, 60.0, 180.0}, {5, 40.0, 0.0}, {15, 10.0, 0.0}};
  const auto s = run(config, l, 8000);
  const double v1 = 230.0 * config.voltage_sensor.ratio_v_per_v * kCountsPerVolt;
  const double i1 = 10.0 * 33.0 / 2000.0 * kCountsPerVolt;
  // Without noise the rounding to whole counts repeats every cycle, so it is not a clean
  // 1/12 count^2 of noise: allow 0.2 count.
  EXPECT_NEAR(ac_rms(s, &SampleSet::v), v1 * std::sqrt(1 + 0.04 + 0.0025), 0.2);
  EXPECT_NEAR(ac_rms(s, &SampleSet::i), i1 * std::sqrt(1 + 0.36 + 0.16 + 0.01), 0.2);
  const double cps = 50.0 / 4000.0;
  EXPECT_NEAR(std::abs(dft(
                  s, [](const SampleSet& x) { return x.i; }, 5 * cps)),
              0.4 * i1 * std::sqrt(2.0), 0.2);
  EXPECT_NEAR(std::abs(dft(
                  s, [](const SampleSet& x) { return x.i; }, 15 * cps)),
              0.1 * i1 * std::sqrt(2.0), 0.2);
  EXPECT_NEAR(std::abs(dft(
                  s, [](const SampleSet& x) { return x.v; }, 3 * cps)),
              0.2 * v1 * std::sqrt(2.0), 0.2);
  EXPECT_LT(std::abs(dft(
                s, [](const SampleSet& x) { return x.i; }, 7 * cps)),
            0.2);
}

TEST(SensorModel, ClipsAtTheRails) {
  SimConfig config;
  const auto s = run(config, load(100.0), 4000);
  const auto [imin, imax] = std::minmax_element(s.begin(), s.end(), [](auto& a, auto& b) { return a.i < b.i; });
  EXPECT_EQ(imin->i, 0);
  EXPECT_EQ(imax->i, 4095);
  const size_t at_top = static_cast<size_t>(std::count_if(s.begin(), s.end(), [](auto& x) { return x.i == 4095; }));
  EXPECT_GT(at_top, 400u);
  config.adc.bits = 10;
  const auto s10 = run(config, load(100.0), 4000);
  EXPECT_EQ(std::max_element(s10.begin(), s10.end(), [](auto& a, auto& b) { return a.i < b.i; })->i, 1023);
}

TEST(SensorModel, IntegralNonlinearityBendsTheEndsOnly) {
  SimConfig config;
  config.adc.noise_counts_rms = 0.0;
  config.adc.offset_counts = 0.0;
  config.voltage_sensor.ratio_v_per_v = 1.6 / 325.27;  // almost rail to rail
  const auto bent = run(config, load(0.0), 80);
  config.adc.inl_end_counts = 0.0;
  const auto straight = run(config, load(0.0), 80);
  int max_gap = 0, mid_gap = 0;
  for (size_t k = 0; k < bent.size(); ++k) {
    const int gap = straight[k].v - bent[k].v;
    max_gap = std::max(max_gap, std::abs(gap));
    if (std::abs(straight[k].v - 2048) < 600) mid_gap = std::max(mid_gap, std::abs(gap));
    EXPECT_GE(gap, 0);  // reads low, never high
  }
  EXPECT_GE(max_gap, 6);
  EXPECT_LE(max_gap, 8);
  EXPECT_EQ(mid_gap, 0);
}

TEST(SensorModel, VoltageLinkRemovedLeavesNoiseAroundBias) {
  SimConfig config;
  config.voltage_sensor.connected = false;
  MeterSimulator sim(config, std::make_shared<ConstantProfile>(load(10.0)));
  std::vector<SampleSet> s(8000);
  sim.generate(s);
  EXPECT_NEAR(ac_rms(s, &SampleSet::v), std::sqrt(2.5 * 2.5 + 1.0 / 12), 0.1);
  EXPECT_GT(ac_rms(s, &SampleSet::i), 100.0);
  EXPECT_NEAR(sim.truth().p_w, 2300.0, 1e-9);  // the house still draws power
  sim.set_voltage_connected(true);
  sim.generate(s);
  EXPECT_GT(ac_rms(s, &SampleSet::v), 300.0);
}

TEST(SensorModel, WiringFractionsScaleTheClampsNotTheTruth) {
  SimConfig config;
  config.adc.noise_counts_rms = 0.0;
  MeterSimulator sim(config, std::make_shared<ConstantProfile>(load(10.0)));
  std::vector<SampleSet> s(4000);
  sim.generate(s);
  const double i_full = ac_rms(s, &SampleSet::i);
  EXPECT_NEAR(ac_rms(s, &SampleSet::n), i_full, 0.2);
  sim.set_wiring({0.4, 1.0});
  sim.generate(s);
  EXPECT_NEAR(ac_rms(s, &SampleSet::i), 0.4 * i_full, 0.3);
  EXPECT_NEAR(ac_rms(s, &SampleSet::n), i_full, 0.3);
  EXPECT_NEAR(sim.truth().i_phase_clamp_rms, 4.0, 1e-12);
  EXPECT_NEAR(sim.truth().p_w, 2300.0, 1e-9);
  // A clamp fitted backwards inverts its signal.
  sim.set_wiring({-1.0, 1.0});
  sim.generate(s);
  const double cps = 50.0 / 4000.0;
  const auto i = dft(
      s, [](const SampleSet& x) { return x.i; }, cps);
  const auto n = dft(
      s, [](const SampleSet& x) { return x.n; }, cps);
  EXPECT_NEAR(std::abs(std::remainder(phase_deg_of(i) - phase_deg_of(n), 360.0)), 180.0, 0.1);
}

TEST(SensorModel, SaturationFlattensTheCurrentPeaks) {
  SimConfig config;
  config.adc.noise_counts_rms = 0.0;
  config.adc.inl_end_counts = 0.0;
  const double normal = ac_rms(run(config, load(20.0), 4000), &SampleSet::i);
  config.phase_clamp.saturation_a = 10.0;
  const auto s = run(config, load(20.0), 4000);
  const double peak = std::max_element(s.begin(), s.end(), [](auto& a, auto& b) { return a.i < b.i; })->i -
                      (1.65 * kCountsPerVolt + 10);
  EXPECT_LT(peak, 10.0 * 33.0 / 2000.0 * kCountsPerVolt + 1);
  EXPECT_LT(ac_rms(s, &SampleSet::i), 0.6 * normal);
  EXPECT_NEAR(ac_rms(s, &SampleSet::n), normal, 0.2);  // the neutral clamp is not saturated
}

TEST(SensorModel, CurrentTransformerLeadGrowsAtLowCurrent) {
  CurrentSensorConfig ct;
  ct.low_current_extra_lead_deg = 2.0;
  ct.low_current_knee_a = 5.0;
  EXPECT_NEAR(ct_lead_deg(ct, 0.0), 3.5, 1e-12);
  EXPECT_NEAR(ct_lead_deg(ct, 5.0), 2.5, 1e-12);
  EXPECT_NEAR(ct_lead_deg(ct, 10000.0), 1.5, 0.01);
  SimConfig config;
  config.phase_clamp = ct;
  config.voltage_sensor.phase_lead_deg = 0.0;
  config.adc.noise_counts_rms = 0.0;
  config.adc.inl_end_counts = 0.0;
  const double cps = 50.0 / 4000.0;
  const auto s = run(config, load(5.0), 8000);
  const double measured = phase_deg_of(dft(
                              s, [](const SampleSet& x) { return x.i; }, cps)) -
                          phase_deg_of(dft(
                              s, [](const SampleSet& x) { return x.v; }, cps));
  EXPECT_NEAR(measured, 2.5, 0.1);
  EXPECT_NEAR(ideal_calibration(config, 5.0).phase_deg, 2.5, 1e-5);
  EXPECT_NEAR(ideal_calibration(config, 0.0).phase_deg, 3.5, 1e-5);
}

int rising_crossings(const std::vector<SampleSet>& s, double mid) {
  int count = 0;
  for (size_t k = 1; k < s.size(); ++k) {
    if (s[k - 1].v < mid && s[k].v >= mid) ++count;
  }
  return count;
}

TEST(SensorModel, FrequencyDriftAndStepsShowInTheWaveform) {
  SimConfig config;
  config.adc.noise_counts_rms = 0.0;
  config.adc.inl_end_counts = 0.0;
  config.voltage_sensor.phase_lead_deg = 0.0;
  const double mid = 1.65 * kCountsPerVolt + 10;
  config.grid.drift_hz_per_s = 1.0;  // 50 -> 54 Hz over 4 s: 208 cycles
  EXPECT_NEAR(rising_crossings(run(config, load(0), 16000), mid), 208, 1);
  config.grid.drift_hz_per_s = 0.0;
  config.grid.schedule = {{1.0, 55.0, 0.0}};  // 50 + 3 x 55 cycles
  EXPECT_NEAR(rising_crossings(run(config, load(0), 16000), mid), 215, 1);
  // The phase stays continuous across the step: at 4 s the wave is at exactly 215 cycles.
  config.grid.schedule = {{1.0, 45.0, 0.0}};
  const auto s = run(config, load(0), 16001);
  EXPECT_NEAR(s.back().v, std::round(mid), 1.0);
}

TEST(SensorModel, ValidateNamesTheBadFieldAndItsValue) {
  SimConfig config;
  EXPECT_TRUE(validate(config).ok());
  config.sample_rate_hz = 0;
  ASSERT_FALSE(validate(config).ok());
  EXPECT_EQ(validate(config).error().field, "sample_rate_hz");
  EXPECT_EQ(validate(config).error().value, "0");
  config = SimConfig{};
  config.adc.bits = 17;
  ASSERT_FALSE(validate(config).ok());
  EXPECT_EQ(validate(config).error().field, "adc.bits");
  EXPECT_EQ(validate(config).error().value, "17");
  EXPECT_EQ(validate(config).error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(validate(config).error().message, "adc.bits = 17: expected 10..16");
  config = SimConfig{};
  config.phase_clamp.burden_ohm = -1;
  ASSERT_FALSE(validate(config).ok());
  EXPECT_EQ(validate(config).error().field, "phase_clamp.burden_ohm");
  EXPECT_EQ(validate(config).error().value, "-1");
  config = SimConfig{};
  config.grid.harmonics = {{16, 1.0, 0.0}};
  ASSERT_FALSE(validate(config).ok());
  EXPECT_EQ(validate(config).error().field, "grid.harmonics.order");
  config = SimConfig{};
  config.grid.vrms = std::nan("");
  ASSERT_FALSE(validate(config).ok());
  EXPECT_EQ(validate(config).error().field, "grid.vrms");
  EXPECT_NE(validate(config).error().message.find("grid.vrms"), std::string::npos);
}

TEST(SensorModel, CreateReturnsTheConfigErrorInsteadOfThrowing) {
  SimConfig config;
  config.grid.vrms = -5;
  const auto made = MeterSimulator::create(config, std::make_shared<ConstantProfile>(LoadPhasors{}));
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.error().field, "grid.vrms");
  EXPECT_EQ(made.error().value, "-5");
}

TEST(SensorModel, CreateNamesANullProfile) {
  const auto made = MeterSimulator::create(SimConfig{}, nullptr);
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.error().field, "profile");
  EXPECT_EQ(made.error().message, "MeterSimulator: null load profile");
}

TEST(SensorModel, CreateBuildsAWorkingSimulatorFromGoodInput) {
  const auto made = MeterSimulator::create(SimConfig{}, std::make_shared<ConstantProfile>(load(10.0)));
  ASSERT_TRUE(made.ok()) << made.error().to_string();
  EXPECT_NEAR(made.value()->truth().irms, 10.0, 1e-9);
}

}  // namespace
}  // namespace wattguard::sim
