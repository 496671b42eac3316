// Throughput of the metrology core: sample sets per second through MetrologyEngine on one core.
// The input is 10 s of realistic 12-bit samples (230 V, 5 A at PF 0.8, 3rd harmonic, noise), so
// crossings, cycle closes and period ends all happen at their real rates.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "wattguard/core/metrology_engine.h"

namespace {

using wattguard::core::default_calibration;
using wattguard::core::MeterConfig;
using wattguard::core::MetrologyEngine;

struct Signal {
  std::vector<uint16_t> v, i, n;
};

Signal make_signal(uint32_t rate_hz, double seconds) {
  const auto count = static_cast<size_t>(rate_hz * seconds);
  Signal s;
  s.v.resize(count);
  s.i.resize(count);
  s.n.resize(count);
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0.0, 2.5);
  const double kTwoPi = 6.283185307179586;
  for (size_t k = 0; k < count; ++k) {
    const double w = kTwoPi * 50.0 * static_cast<double>(k) / rate_hz;
    const double v = 682.0 * std::sin(w) + 20.0 * std::sin(3 * w);
    const double i = 145.0 * std::sin(w - 0.6435) + 30.0 * std::sin(3 * w - 1.0);
    s.v[k] = static_cast<uint16_t>(std::lround(2048 + v + noise(rng)));
    s.i[k] = static_cast<uint16_t>(std::lround(2040 + i + noise(rng)));
    s.n[k] = static_cast<uint16_t>(std::lround(2052 + i + noise(rng)));
  }
  return s;
}

void run_engine(benchmark::State& state, bool neutral) {
  const auto rate = static_cast<uint32_t>(state.range(0));
  const Signal sig = make_signal(rate, 10.0);
  MeterConfig config;
  config.sample_rate_hz = rate;
  config.cal = default_calibration(12);
  config.cal.phase_deg = 2.0f;  // phase correction active, as on a real meter
  config.has_neutral_channel = neutral;
  MetrologyEngine engine;
  if (engine.configure(config) != wattguard::core::Status::kOk) {
    state.SkipWithError("configure failed");
    return;
  }
  const auto total = static_cast<uint32_t>(sig.v.size());
  for (auto _ : state) {
    uint32_t offset = 0;
    while (offset < total) {
      offset += engine.add_samples(sig.v.data() + offset, sig.i.data() + offset,
                                   neutral ? sig.n.data() + offset : nullptr, total - offset);
    }
    benchmark::DoNotOptimize(engine.last_reading());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * total);
  // Seconds per sample pair (shown with an SI prefix, e.g. "15n" = 15 ns).
  state.counters["time_per_pair"] = benchmark::Counter(static_cast<double>(state.iterations()) * total,
                                                       benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_EngineVoltageCurrent(benchmark::State& state) { run_engine(state, false); }
void BM_EngineWithNeutral(benchmark::State& state) { run_engine(state, true); }

void BM_EngineSingleSampleCalls(benchmark::State& state) {
  const Signal sig = make_signal(4000, 10.0);
  MetrologyEngine engine;
  for (auto _ : state) {
    for (size_t k = 0; k < sig.v.size(); ++k) engine.add_sample(sig.v[k], sig.i[k]);
    benchmark::DoNotOptimize(engine.last_reading());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * sig.v.size()));
}

BENCHMARK(BM_EngineVoltageCurrent)->Arg(4000)->Arg(20000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_EngineWithNeutral)->Arg(4000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_EngineSingleSampleCalls)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
