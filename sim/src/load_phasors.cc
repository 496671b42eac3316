// Load phasors: from a load state, sums and RMS.
#include "wattguard/sim/load_phasors.h"

#include <algorithm>
#include <cmath>

namespace wattguard::sim {
namespace {
constexpr double kDeg = 3.14159265358979323846 / 180.0;
}

LoadPhasors::LoadPhasors(const LoadState& state) {
  const double pf = std::clamp(state.pf, 0.0, 1.0);
  const double phi = std::acos(pf) * (state.leading ? 1.0 : -1.0);
  const double sign = state.direction == PowerDirection::kExport ? -1.0 : 1.0;
  current_a_[1] = sign * std::polar(std::max(state.irms_a, 0.0), phi);
  for (const auto& h : state.harmonics) {
    if (h.order < 2 || h.order > kMaxHarmonicOrder) continue;
    // The harmonic keeps its place in the wave shape: shifted with the fundamental.
    current_a_[static_cast<size_t>(h.order)] +=
        sign * std::polar(std::max(state.irms_a * h.percent / 100.0, 0.0), h.order * phi + h.phase_deg * kDeg);
  }
}

LoadPhasors& LoadPhasors::operator+=(const LoadPhasors& other) {
  for (size_t k = 0; k < current_a_.size(); ++k) current_a_[k] += other.current_a_[k];
  return *this;
}

LoadPhasors LoadPhasors::scaled(double factor) const {
  LoadPhasors out = *this;
  for (auto& c : out.current_a_) c *= factor;
  return out;
}

double LoadPhasors::irms() const {
  double sum = 0.0;
  for (const auto& c : current_a_) sum += std::norm(c);
  return std::sqrt(sum);
}

bool LoadPhasors::is_zero() const {
  return std::all_of(current_a_.begin(), current_a_.end(), [](const std::complex<double>& c) { return c == 0.0; });
}

}  // namespace wattguard::sim
