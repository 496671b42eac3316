// Sensor simulator throughput: sample sets per second for the common cases.
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "wattguard/sim/appliances.h"
#include "wattguard/sim/constant_profile.h"
#include "wattguard/sim/household_profile.h"
#include "wattguard/sim/meter_simulator.h"

namespace {

using namespace wattguard::sim;

constexpr size_t kBlock = 4096;

LoadState plain_load() {
  LoadState l;
  l.irms_a = 10.0;
  l.pf = 0.9;
  return l;
}

void run_blocks(benchmark::State& state, MeterSimulator& sim) {
  std::vector<SampleSet> buf(kBlock);
  for (auto _ : state) {
    sim.generate(buf);
    benchmark::DoNotOptimize(buf.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(kBlock));
}

// Default meter (12-bit, noise, INL), one sinusoidal load: fundamental only.
void BM_SimFundamental(benchmark::State& state) {
  MeterSimulator sim(SimConfig{}, std::make_shared<ConstantProfile>(plain_load()));
  run_blocks(state, sim);
}
BENCHMARK(BM_SimFundamental);

// Voltage 3rd/5th plus an LED-lighting-like current (orders 1..15 odd: 8 rotating phasors).
void BM_SimHarmonics(benchmark::State& state) {
  SimConfig config;
  config.grid.harmonics = {{3, 2.0, 0.0}, {5, 4.0, 0.0}};
  MeterSimulator sim(config, std::make_shared<ConstantProfile>(appliances::led_lighting(2000.0)));
  run_blocks(state, sim);
}
BENCHMARK(BM_SimHarmonics);

// A generated household (changes every few seconds to minutes), into separate channel arrays
// as a fleet feeding the core's add_samples() would use it.
void BM_SimHousehold(benchmark::State& state) {
  HouseholdOptions options;
  options.start_time_of_day_s = 18.0 * 3600.0;  // the busy evening
  MeterSimulator sim(SimConfig{}, std::make_shared<HouseholdProfile>(7, options));
  std::vector<uint16_t> v(kBlock), i(kBlock), n(kBlock);
  for (auto _ : state) {
    sim.generate(v.data(), i.data(), n.data(), kBlock);
    benchmark::DoNotOptimize(v.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(kBlock));
}
BENCHMARK(BM_SimHousehold);

// Frequency drifting (phasors re-derived every 32 samples).
void BM_SimDrift(benchmark::State& state) {
  SimConfig config;
  config.grid.drift_hz_per_s = 0.01;
  MeterSimulator sim(config, std::make_shared<ConstantProfile>(plain_load()));
  run_blocks(state, sim);
}
BENCHMARK(BM_SimDrift);

// Drifting frequency with the LED-lighting current's harmonics.
void BM_SimDriftHarmonics(benchmark::State& state) {
  SimConfig config;
  config.grid.drift_hz_per_s = 0.01;
  MeterSimulator sim(config, std::make_shared<ConstantProfile>(appliances::led_lighting(2000.0)));
  run_blocks(state, sim);
}
BENCHMARK(BM_SimDriftHarmonics);

// An ideal ADC: no noise, no INL (the cost of the waveform and quantisation alone).
void BM_SimIdealAdc(benchmark::State& state) {
  SimConfig config;
  config.adc.noise_counts_rms = 0.0;
  config.adc.inl_end_counts = 0.0;
  MeterSimulator sim(config, std::make_shared<ConstantProfile>(plain_load()));
  run_blocks(state, sim);
}
BENCHMARK(BM_SimIdealAdc);

// One sample set per call.
void BM_SimNext(benchmark::State& state) {
  MeterSimulator sim(SimConfig{}, std::make_shared<ConstantProfile>(plain_load()));
  for (auto _ : state) benchmark::DoNotOptimize(sim.next());
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_SimNext);

}  // namespace

BENCHMARK_MAIN();
