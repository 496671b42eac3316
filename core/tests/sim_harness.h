// Test harness: runs the simulator into the metrology engine and compares with the truth.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "wattguard/core/metrology_engine.h"
#include "wattguard/sim/constant_profile.h"
#include "wattguard/sim/ideal_calibration.h"
#include "wattguard/sim/meter_simulator.h"

namespace wattguard::core::testing {

// A realistic household meter front end: 12-bit ESP32 ADC with 3 counts RMS of noise, INL,
// offset, CT and ZMPT phase leads, channel skew.
inline sim::SimConfig noisy_household_front_end(uint64_t seed = 1) {
  sim::SimConfig c;
  c.sample_rate_hz = 4000;
  c.adc.noise_counts_rms = 3.0;
  c.adc.offset_counts = 25.0;
  c.adc.inl_end_counts = 8.0;
  c.adc.gain_error_percent = 0.7;
  c.phase_clamp.phase_lead_deg = 1.5;
  c.neutral_clamp.phase_lead_deg = 1.5;
  c.voltage_sensor.phase_lead_deg = 0.3;
  c.channel_skew_us = 20.0;
  c.seed = seed;
  return c;
}

inline MeterConfig meter_config_for(const sim::SimConfig& s, bool neutral = false) {
  MeterConfig m;
  m.sample_rate_hz = s.sample_rate_hz;
  m.adc_bits = static_cast<uint8_t>(s.adc.bits);
  m.cal = sim::ideal_calibration(s, 5.0);  // calibrated once, at Ib, like a real meter
  m.has_neutral_channel = neutral;
  return m;
}

struct RunResult {
  std::vector<PeriodReading> readings;
  std::vector<sim::Truth> truths;  // truth at each reading's end sample
};

// Runs `seconds` of signal; `hook` may alter samples (glitches, drift) before the engine.
inline RunResult run(sim::MeterSimulator& simulator, MetrologyEngine& engine, double seconds,
                     const std::function<void(int64_t index, uint16_t* v, uint16_t* i)>& hook = {}) {
  RunResult out;
  const auto total = static_cast<int64_t>(seconds * simulator.config().sample_rate_hz);
  constexpr int64_t kBlock = 1024;
  std::vector<uint16_t> v(kBlock), i(kBlock), n(kBlock);
  int64_t done = 0;
  while (done < total) {
    const int64_t count = total - done < kBlock ? total - done : kBlock;
    simulator.generate(v.data(), i.data(), n.data(), static_cast<size_t>(count));
    if (hook) {
      for (int64_t k = 0; k < count; ++k) hook(done + k, &v[static_cast<size_t>(k)], &i[static_cast<size_t>(k)]);
    }
    uint32_t offset = 0;
    while (offset < count) {
      const uint32_t used = engine.add_samples(v.data() + offset, i.data() + offset, n.data() + offset,
                                               static_cast<uint32_t>(count) - offset);
      offset += used;
      // add_samples stops right after a sample that ends a period.
      const PeriodReading& r = engine.last_reading();
      if (r.duration_s > 0 && r.end_sample == engine.samples() &&
          (out.readings.empty() || out.readings.back().end_sample != r.end_sample)) {
        out.readings.push_back(r);
        out.truths.push_back(*simulator.truth_at(static_cast<int64_t>(r.end_sample)));
      }
    }
    done += count;
  }
  return out;
}

inline double percent_error(double measured, double truth) { return (measured - truth) / truth * 100.0; }

// Energy registered between two readings against the truth over the same samples.
inline double energy_error_percent(const RunResult& r, size_t from, size_t to, bool export_register = false) {
  const double measured = export_register ? r.readings[to].export_wh() - r.readings[from].export_wh()
                                          : r.readings[to].import_wh() - r.readings[from].import_wh();
  const double truth = export_register ? r.truths[to].e_export_wh - r.truths[from].e_export_wh
                                       : r.truths[to].e_import_wh - r.truths[from].e_import_wh;
  return percent_error(measured, truth);
}

inline std::shared_ptr<const sim::LoadProfile> constant_load(double irms_a, double pf, bool leading,
                                                             bool reverse = false,
                                                             std::vector<sim::Harmonic> harmonics = {}) {
  sim::LoadState s;
  s.irms_a = irms_a;
  s.pf = pf;
  s.leading = leading;
  s.direction = reverse ? sim::PowerDirection::kExport : sim::PowerDirection::kImport;
  s.harmonics = std::move(harmonics);
  return std::make_shared<sim::ConstantProfile>(sim::LoadPhasors(s));
}

}  // namespace wattguard::core::testing
