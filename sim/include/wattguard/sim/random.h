// Deterministic random numbers: the same seed gives the same sequence on every platform.
//
// The standard library's distributions are not specified bit-for-bit, so results would
// differ between library versions; these are written out here instead.
#pragma once

#include <array>
#include <cstdint>

namespace wattguard::sim {

// Derives an independent seed for sub-stream `stream` of `seed` (SplitMix64 finaliser).
uint64_t mix_seed(uint64_t seed, uint64_t stream);

// xoshiro256** generator with a few distributions. Not thread-safe; one per user.
class Rng {
 public:
  explicit Rng(uint64_t seed);

  uint64_t next_u64() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  double uniform();                      // [0, 1)
  double uniform(double lo, double hi);  // [lo, hi)
  int uniform_int(int lo, int hi);       // lo..hi inclusive
  bool chance(double probability);       // true with this probability
  double normal();                       // standard normal (Box-Muller), exact
  double normal(double mean, double sd) { return mean + sd * normal(); }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<uint64_t, 4> s_{};
  bool has_spare_ = false;
  double spare_ = 0.0;
};

// Fast standard-normal values for per-sample noise: a table of 4,096 equal-probability
// levels (inverse normal CDF at bin centres, rescaled to variance exactly 1), indexed by 12
// random bits. The tails are cut at about 3.5 sigma, which does not matter for ADC noise that
// is rounded to whole counts anyway; one 64-bit random number gives five values.
class FastGaussianTable {
 public:
  static constexpr int kIndexBits = 12;
  static constexpr int kSize = 1 << kIndexBits;
  static const FastGaussianTable& instance();
  float operator[](uint32_t index) const { return table_[index & (kSize - 1)]; }
  const float* data() const { return table_.data(); }

 private:
  FastGaussianTable();
  std::array<float, kSize> table_{};
};

}  // namespace wattguard::sim
