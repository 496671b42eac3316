// Tests of the sample generator: RMS in counts, harmonics, clipping, reproducibility, changes.
#include "wattguard/sim/meter_simulator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "wattguard/sim/constant_profile.h"
#include "wattguard/sim/step_profile.h"

namespace wattguard::sim {
namespace {

constexpr double kSqrt2 = 1.4142135623730951;

struct ChannelStats {
  double mean_v = 0, mean_i = 0, mean_n = 0;
  double rms_v = 0, rms_i = 0, rms_n = 0;  // AC RMS around the mean, counts
};

ChannelStats stats(const std::vector<SampleSet>& s) {
  ChannelStats out;
  const double n = static_cast<double>(s.size());
  for (const auto& x : s) {
    out.mean_v += x.v;
    out.mean_i += x.i;
    out.mean_n += x.n;
  }
  out.mean_v /= n;
  out.mean_i /= n;
  out.mean_n /= n;
  for (const auto& x : s) {
    out.rms_v += (x.v - out.mean_v) * (x.v - out.mean_v);
    out.rms_i += (x.i - out.mean_i) * (x.i - out.mean_i);
    out.rms_n += (x.n - out.mean_n) * (x.n - out.mean_n);
  }
  out.rms_v = std::sqrt(out.rms_v / n);
  out.rms_i = std::sqrt(out.rms_i / n);
  out.rms_n = std::sqrt(out.rms_n / n);
  return out;
}

std::vector<SampleSet> take(MeterSimulator& sim, size_t n) {
  std::vector<SampleSet> out(n);
  sim.generate(out);
  return out;
}

TEST(MeterSimulator, RmsInCountsMatchesSensorChain) {
  SimConfig config;
  config.adc.inl_end_counts = 0.0;
  LoadState load;
  load.irms_a = 10.0;
  load.pf = 0.8;
  MeterSimulator sim(config, std::make_shared<ConstantProfile>(load));
  const auto s = stats(take(sim, 4000));  // exactly 50 cycles
  const double cpv = 4096.0 / 3.3;
  const double v_expected = 230.0 * config.voltage_sensor.ratio_v_per_v * cpv;
  const double i_expected = 10.0 * 33.0 / 2000.0 * cpv;
  const double noise2 = 2.5 * 2.5 + 1.0 / 12.0;
  EXPECT_NEAR(s.rms_v, std::sqrt(v_expected * v_expected + noise2), 0.3);
  EXPECT_NEAR(s.rms_i, std::sqrt(i_expected * i_expected + noise2), 0.3);
  EXPECT_NEAR(s.rms_n, s.rms_i, 0.3);
  EXPECT_NEAR(s.mean_v, 1.65 * cpv + 10.0, 0.3);
  EXPECT_NEAR(s.mean_i, 1.65 * cpv + 10.0, 0.3);
  // The default 0.55 V peak at 230 V.
  EXPECT_NEAR(v_expected * kSqrt2, 0.55 * cpv, 1e-6);
}

TEST(MeterSimulator, NoLoadIsNoiseAroundBias) {
  SimConfig config;
  MeterSimulator sim(config, std::make_shared<ConstantProfile>(LoadPhasors{}));
  const auto s = stats(take(sim, 40000));
  EXPECT_NEAR(s.rms_i, std::sqrt(2.5 * 2.5 + 1.0 / 12.0), 0.05);
  EXPECT_NEAR(s.mean_i, 1.65 * 4096.0 / 3.3 + 10.0, 0.1);
}

TEST(MeterSimulator, SameSeedSameSamplesOtherSeedDiffers) {
  SimConfig config;
  LoadState load;
  load.irms_a = 3.0;
  auto profile = std::make_shared<ConstantProfile>(load);
  MeterSimulator a(config, profile), b(config, profile);
  config.seed = 2;
  MeterSimulator c(config, profile);
  const auto sa = take(a, 5000), sb = take(b, 5000), sc = take(c, 5000);
  EXPECT_EQ(sa, sb);
  EXPECT_NE(sa, sc);
}

TEST(MeterSimulator, SingleAndBlockGenerationAgree) {
  SimConfig config;
  LoadState load;
  load.irms_a = 7.0;
  load.harmonics = {{3, 30, 0}, {5, 10, 45}};
  auto profile = std::make_shared<StepProfile>(std::vector<StepProfile::Step>{{0.0, load}, {0.3, LoadPhasors{}}});
  MeterSimulator a(config, profile), b(config, profile);
  std::vector<SampleSet> one;
  for (int k = 0; k < 3000; ++k) one.push_back(a.next());
  EXPECT_EQ(one, take(b, 3000));
}

}  // namespace
}  // namespace wattguard::sim
