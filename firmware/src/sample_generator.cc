// Integer-only synthetic ADC samples (sine table with linear interpolation, LCG noise).
#include "firmware/src/sample_generator.h"

#include <cmath>

namespace wattguard::firmware {
namespace {

constexpr uint32_t kTableBits = 10;
constexpr uint32_t kTableSize = 1u << kTableBits;
constexpr int64_t kOneQ30 = int64_t{1} << 30;
constexpr int64_t kPiQ30 = 3373259426;  // pi * 2^30

struct SineTable {
  int16_t q15[kTableSize];
};

// sin(x) for 0 <= x <= pi/2 in Q30, by the Taylor series to x^11 in Horner form (error < 1e-7).
constexpr int64_t quarter_sine_q30(int64_t x_q30) {
  const int64_t x2 = (x_q30 * x_q30) >> 30;
  int64_t r = kOneQ30;
  r = kOneQ30 - ((x2 * r) >> 30) / 110;
  r = kOneQ30 - ((x2 * r) >> 30) / 72;
  r = kOneQ30 - ((x2 * r) >> 30) / 42;
  r = kOneQ30 - ((x2 * r) >> 30) / 20;
  r = kOneQ30 - ((x2 * r) >> 30) / 6;
  return (x_q30 * r) >> 30;
}

constexpr SineTable make_sine_table() {
  SineTable t{};
  constexpr uint32_t quarter = kTableSize / 4;
  for (uint32_t k = 0; k < kTableSize; ++k) {
    // Fold into the first quadrant: sin is symmetric about pi/2 and odd about pi.
    const uint32_t in_half = k % (2 * quarter);
    const uint32_t folded = in_half <= quarter ? in_half : 2 * quarter - in_half;
    const int64_t x_q30 = static_cast<int64_t>(folded) * kPiQ30 / (2 * quarter);
    const int64_t s = (quarter_sine_q30(x_q30) * 32767 + (kOneQ30 >> 1)) >> 30;
    t.q15[k] = static_cast<int16_t>(k < 2 * quarter ? s : -s);
  }
  return t;
}

constexpr SineTable kSine = make_sine_table();
static_assert(kSine.q15[0] == 0 && kSine.q15[256] == 32767 && kSine.q15[768] == -32767, "sine table quadrants");
static_assert(kSine.q15[128] == 23170, "sin(pi/4) * 32767 = 23169.8");

constexpr uint32_t phase_step(uint64_t milli_hz) {
  return static_cast<uint32_t>(((milli_hz << 32) + SyntheticLoad::kSampleRateHz * 500ull) /
                               (SyntheticLoad::kSampleRateHz * 1000ull));
}

constexpr uint32_t phase_of_centideg(uint64_t centideg) {
  return static_cast<uint32_t>(((centideg << 32) + 18000) / 36000);
}

// amplitude * sin(phase), rounded to counts.
int32_t scaled_sine(int32_t amplitude, uint32_t phase) { return (amplitude * sine_q15(phase) + (1 << 14)) >> 15; }

}  // namespace

int32_t sine_q15(uint32_t phase) {
  const uint32_t index = phase >> (32 - kTableBits);
  const int32_t frac = static_cast<int32_t>((phase >> (32 - kTableBits - 16)) & 0xFFFFu);
  const int32_t a = kSine.q15[index];
  const int32_t b = kSine.q15[(index + 1) & (kTableSize - 1)];
  return a + (((b - a) * frac) >> 16);
}

int32_t SampleGenerator::noise() {
  lcg_ = lcg_ * 1664525u + 1013904223u;  // Numerical Recipes LCG; the top bits are the good ones
  const auto a = static_cast<int32_t>(lcg_ >> 30);
  const auto b = static_cast<int32_t>((lcg_ >> 28) & 3u);
  return a + b - SyntheticLoad::kNoiseMaxCounts;
}

void SampleGenerator::fill(uint16_t* v, uint16_t* i, uint16_t* n, uint32_t count) {
  using L = SyntheticLoad;
  constexpr uint32_t step = phase_step(L::kMainsMilliHz);
  constexpr uint32_t lag = phase_of_centideg(L::kCurrentLagCentiDeg);
  for (uint32_t k = 0; k < count; ++k) {
    const uint32_t current_phase = phase_ - lag;
    const int32_t current =
        scaled_sine(L::kCurrentPeak, current_phase) + scaled_sine(L::kThirdHarmonicPeak, 3u * current_phase);
    v[k] = static_cast<uint16_t>(L::kVoltageBias + scaled_sine(L::kVoltagePeak, phase_) + noise());
    i[k] = static_cast<uint16_t>(L::kCurrentBias + current + noise());
    if (n != nullptr) n[k] = static_cast<uint16_t>(L::kNeutralBias + current + noise());
    phase_ += step;
  }
}

SyntheticTruth synthetic_truth(float v_per_count, float i_per_count) {
  using L = SyntheticLoad;
  constexpr float kRoot2 = 1.41421356f;
  constexpr float kLagCos = 0.8f;  // cos(36.87 deg) to 6 digits
  const auto i1 = static_cast<float>(L::kCurrentPeak);
  const auto i3 = static_cast<float>(L::kThirdHarmonicPeak);
  SyntheticTruth t;
  t.vrms = static_cast<float>(L::kVoltagePeak) / kRoot2 * v_per_count;
  const float i1_rms = i1 / kRoot2 * i_per_count;
  t.irms = std::sqrt(i1 * i1 + i3 * i3) / kRoot2 * i_per_count;
  t.p_w = t.vrms * i1_rms * kLagCos;
  t.pf = t.p_w / (t.vrms * t.irms);
  t.displacement_pf = kLagCos;
  t.freq_hz = static_cast<float>(L::kMainsMilliHz) / 1000.0f;
  return t;
}

}  // namespace wattguard::firmware
