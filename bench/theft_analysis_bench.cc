// Cost of one incremental 15-minute analysis cycle over 1,000 transformers x 50 consumers (target: under 10 s):
// every monitor takes its interval (balance, day buffers, hourly localiser steps, daily pattern update) after a
// 15-day history has calibrated the balances and taught the baselines. 10 % of the transformers carry a thief,
// so their localisers solve every hour as they would in the field.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <random>
#include <vector>

#include "wattguard/analytics/transformer_monitor.h"
#include "wattguard/evaluation/synthetic_household.h"

namespace {

namespace wa = wattguard::analytics;
namespace we = wattguard::evaluation;

constexpr int kTransformers = 1000;
constexpr int kConsumers = 50;
constexpr int kSlots = 96;
constexpr int kHistoryDays = 15;

// A pool of realistic household days; each consumer walks through it with its own offset and scale, which is
// cheap enough to feed 50,000 meters cycle by cycle.
struct Grid {
  std::vector<std::array<float, kSlots>> pool;
  std::vector<uint32_t> offset;
  std::vector<float> scale;
  std::vector<uint8_t> thief;  // per transformer
  std::vector<std::unique_ptr<wa::TransformerMonitor>> monitors;
  int64_t k = 0;
  int64_t first_end_s = 1711894500;  // end of the first quarter hour of 2024-04-01 at +10:00

  Grid() {
    for (int h = 0; h < 40; ++h) {
      we::SyntheticHousehold home(9000 + h);
      for (int d = 0; d < 10; ++d) {
        std::array<float, kSlots> day{};
        home.day(d % 7, 18.0 - 0.3 * d, 120 + d, day.data());
        pool.push_back(day);
      }
    }
    std::mt19937 rng(1);
    for (int i = 0; i < kTransformers * kConsumers; ++i) {
      offset.push_back(static_cast<uint32_t>(rng() % pool.size()));
      scale.push_back(0.6f + 0.8f * static_cast<float>(rng() % 1000) / 1000.0f);
    }
    for (int t = 0; t < kTransformers; ++t) thief.push_back(t % 10 == 0 ? 1 : 0);
    wa::MonitorConfig config = wa::MonitorConfig::for_interval(900, 14);
    config.utc_offset_s = 10 * 3600;
    for (int t = 0; t < kTransformers; ++t) {
      std::vector<std::string> ids;
      for (int c = 0; c < kConsumers; ++c) ids.push_back("M" + std::to_string(t) + "-" + std::to_string(c));
      monitors.push_back(std::make_unique<wa::TransformerMonitor>("T" + std::to_string(t), ids, config));
    }
  }

  // One 15-minute cycle for every transformer.
  void cycle() {
    const int64_t day = k / kSlots;
    const int slot = static_cast<int>(k % kSlots);
    const int64_t end_s = first_end_s + k * 900;
    std::vector<wa::MeterValue> values(kConsumers);
    for (int t = 0; t < kTransformers; ++t) {
      double total = 0;
      for (int c = 0; c < kConsumers; ++c) {
        const size_t i = static_cast<size_t>(t) * kConsumers + static_cast<size_t>(c);
        const auto& d = pool[(offset[i] + static_cast<size_t>(day)) % pool.size()];
        const double use = d[static_cast<size_t>(slot)] * scale[i];
        total += use;
        double reported = use;
        if (thief[static_cast<size_t>(t)] && c == 7 && day >= kHistoryDays - 1) reported = 0.0;  // bypass
        values[static_cast<size_t>(c)] =
            wa::MeterValue{reported,
                           (i + static_cast<size_t>(k)) % 97 == 0 ? wa::Quality::kMissing : wa::Quality::kMeasured};
      }
      const double p_kw = total / 0.25;
      const double check = total + (0.15 + 0.0006 * p_kw * p_kw) * 0.25;
      monitors[static_cast<size_t>(t)]->push(end_s, wa::MeterValue{check, wa::Quality::kMeasured}, values);
    }
    ++k;
  }
};

Grid& grid() {
  static Grid* g = [] {
    auto* made = new Grid();
    for (int i = 0; i < kHistoryDays * kSlots; ++i) made->cycle();
    return made;
  }();
  return *g;
}

void BM_QuarterHourCycle_1000x50(benchmark::State& state) {
  Grid& g = grid();
  double worst_s = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    g.cycle();
    worst_s = std::max(worst_s, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  state.counters["worst_cycle_s"] = worst_s;
  state.counters["meters"] = kTransformers * (kConsumers + 1);
  int alerting = 0;
  for (const auto& m : g.monitors) alerting += m->balance().alert();
  state.counters["alerting_transformers"] = alerting;
}
// A whole day of cycles, so hour ends (localiser solves) and the day end (pattern update) are all included.
BENCHMARK(BM_QuarterHourCycle_1000x50)->Unit(benchmark::kMillisecond)->Iterations(96);

void BM_DayEndCycle_1000x50(benchmark::State& state) {
  Grid& g = grid();
  for (auto _ : state) {
    state.PauseTiming();
    while (g.k % kSlots != kSlots - 1) g.cycle();  // move to the last quarter hour of the day
    state.ResumeTiming();
    g.cycle();
  }
}
BENCHMARK(BM_DayEndCycle_1000x50)->Unit(benchmark::kMillisecond)->Iterations(2);

}  // namespace

BENCHMARK_MAIN();
