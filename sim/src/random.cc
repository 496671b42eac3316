// Deterministic random numbers (xoshiro256**, SplitMix64 seeding) and the fast Gaussian table.
#include "wattguard/sim/random.h"

#include <cmath>

namespace wattguard::sim {
namespace {

uint64_t splitmix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Inverse of the standard normal CDF by bisection on erfc: slow but only used to build the
// table once, and exact to double precision.
double inverse_normal_cdf(double p) {
  double lo = -10.0, hi = 10.0;
  for (int k = 0; k < 80; ++k) {
    const double mid = 0.5 * (lo + hi);
    const double cdf = 0.5 * std::erfc(-mid / std::sqrt(2.0));
    (cdf < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

}  // namespace

uint64_t mix_seed(uint64_t seed, uint64_t stream) {
  uint64_t state = seed ^ (stream * 0xd1b54a32d192ed03ULL);
  splitmix64(&state);
  return splitmix64(&state);
}

Rng::Rng(uint64_t seed) {
  uint64_t state = seed;
  for (auto& word : s_) word = splitmix64(&state);
}

double Rng::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

double Rng::uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

int Rng::uniform_int(int lo, int hi) {
  if (hi <= lo) return lo;
  const uint64_t span = static_cast<uint64_t>(static_cast<int64_t>(hi) - lo + 1);
  return lo + static_cast<int>(next_u64() % span);  // span is tiny: the bias is negligible
}

bool Rng::chance(double probability) { return uniform() < probability; }

double Rng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u1 = uniform();
  while (u1 <= 0.0) u1 = uniform();
  const double u2 = uniform();
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double a = 2.0 * 3.14159265358979323846 * u2;
  spare_ = r * std::sin(a);
  has_spare_ = true;
  return r * std::cos(a);
}

const FastGaussianTable& FastGaussianTable::instance() {
  static const FastGaussianTable kTable;
  return kTable;
}

FastGaussianTable::FastGaussianTable() {
  std::array<double, kSize> values{};
  double sum_sq = 0.0;
  for (int k = 0; k < kSize / 2; ++k) {
    // Bin centres; the table is made exactly symmetric so its mean is exactly zero.
    const double x = inverse_normal_cdf((k + 0.5) / kSize);
    values[static_cast<size_t>(k)] = x;
    values[static_cast<size_t>(kSize - 1 - k)] = -x;
    sum_sq += 2.0 * x * x;
  }
  const double scale = 1.0 / std::sqrt(sum_sq / kSize);
  for (int k = 0; k < kSize; ++k) {
    table_[static_cast<size_t>(k)] = static_cast<float>(values[static_cast<size_t>(k)] * scale);
  }
}

}  // namespace wattguard::sim
