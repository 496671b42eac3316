// The built-in sample set of the firmware check: synthetic 12-bit ADC counts made with integer
// arithmetic only, so the host and the Cortex-M4F produce exactly the same counts.
#pragma once

#include <cstdint>

namespace wattguard::firmware {

// What the synthetic meter sees: 230 V / 5 A at PF 0.8 lagging, 49.95 Hz, a 20 % third harmonic in
// the current, the same current in the neutral, ADC bias a few counts off mid-rail and noise.
// Amplitudes are in ADC counts; with core::default_calibration(12) one voltage count is 0.4765 V
// and one current count 48.83 mA, so 683 counts peak is 230.1 V RMS and 145 counts peak 5.006 A RMS.
struct SyntheticLoad {
  static constexpr uint32_t kSampleRateHz = 4000;
  static constexpr uint32_t kMainsMilliHz = 49950;
  static constexpr int32_t kVoltageBias = 2051;
  static constexpr int32_t kCurrentBias = 2043;
  static constexpr int32_t kNeutralBias = 2046;
  static constexpr int32_t kVoltagePeak = 683;
  static constexpr int32_t kCurrentPeak = 145;           // fundamental
  static constexpr int32_t kThirdHarmonicPeak = 29;      // 20 % of the fundamental
  static constexpr uint32_t kCurrentLagCentiDeg = 3687;  // cos(36.87 deg) = 0.8000
  // Noise is the sum of two uniform draws: -3..+3 counts, 1.58 counts RMS.
  static constexpr int32_t kNoiseMaxCounts = 3;
};

// The exact values of the synthetic load for a calibration (what a reference meter would show).
struct SyntheticTruth {
  float vrms = 0.0f;
  float irms = 0.0f;  // fundamental and third harmonic
  float p_w = 0.0f;
  float pf = 0.0f;               // P / S, lagging (below the displacement factor: the harmonic adds to S)
  float displacement_pf = 0.0f;  // cos of the fundamental's lag: what a calibration reference means
  float freq_hz = 0.0f;
};
SyntheticTruth synthetic_truth(float v_per_count, float i_per_count);

// sin() as a table of 1024 points per cycle, scaled to +-32767, built at compile time by
// an integer Taylor series (no floating point, so every compiler makes the same table).
int32_t sine_q15(uint32_t phase);  // phase: a full cycle is 2^32

// Produces successive blocks of simultaneous samples, as a DMA buffer would deliver them.
// Thread safety: none.
class SampleGenerator {
 public:
  // Fills `count` sample sets; `n` may be null (no neutral channel).
  void fill(uint16_t* v, uint16_t* i, uint16_t* n, uint32_t count);

 private:
  int32_t noise();

  uint32_t phase_ = 0;        // of the voltage; a full cycle is 2^32
  uint32_t lcg_ = 20240601u;  // pseudo-random state
};

}  // namespace wattguard::firmware
