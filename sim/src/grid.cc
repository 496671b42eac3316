// Supply phase and frequency over time, and the voltage phasors.
#include "wattguard/sim/grid.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace wattguard::sim {
namespace {

constexpr double kDeg = 3.14159265358979323846 / 180.0;

double reduce(double cycles) { return cycles - std::floor(cycles); }

}  // namespace

GridClock::GridClock(const GridConfig& config) {
  pieces_.push_back({0.0, config.frequency_hz, config.drift_hz_per_s, 0.0});
  std::vector<FrequencyStep> steps = config.schedule;
  std::stable_sort(steps.begin(), steps.end(),
                   [](const FrequencyStep& a, const FrequencyStep& b) { return a.t_s < b.t_s; });
  for (const auto& step : steps) {
    if (step.t_s <= 0.0) {
      // A step at t = 0 replaces the initial frequency.
      pieces_.front() = {0.0, step.frequency_hz, step.drift_hz_per_s, 0.0};
      continue;
    }
    const Piece& last = pieces_.back();
    const double dt = step.t_s - last.t_s;
    const double start = reduce(last.start_cycles + last.f_hz * dt + 0.5 * last.drift_hz_per_s * dt * dt);
    pieces_.push_back({step.t_s, step.frequency_hz, step.drift_hz_per_s, start});
  }
  constant_ = pieces_.size() == 1 && pieces_.front().drift_hz_per_s == 0.0;
}

const GridClock::Piece& GridClock::piece_at(double t_s) const {
  // Pieces are few; the last one whose start is <= t.
  auto it = std::upper_bound(pieces_.begin(), pieces_.end(), t_s, [](double t, const Piece& p) { return t < p.t_s; });
  return it == pieces_.begin() ? pieces_.front() : *(it - 1);
}

double GridClock::frequency_at(double t_s) const {
  const Piece& p = piece_at(t_s);
  return p.f_hz + p.drift_hz_per_s * (t_s - p.t_s);
}

double GridClock::cycles_at(double t_s) const {
  const Piece& p = piece_at(t_s);
  const double dt = t_s - p.t_s;
  // Reduce the large term first so the fraction keeps its precision.
  return reduce(p.start_cycles + reduce(p.f_hz * dt) + reduce(0.5 * p.drift_hz_per_s * dt * dt));
}

double GridClock::cycles_between(double t0_s, double t1_s) const {
  double total = 0.0;
  double t = t0_s;
  while (t < t1_s) {
    const Piece& p = piece_at(t);
    const double next = next_step_after(t);
    const double end = std::min(next, t1_s);
    // Integral of f over [t, end] for f = f0 + a (x - t_p).
    total += (end - t) * (p.f_hz + 0.5 * p.drift_hz_per_s * ((end - p.t_s) + (t - p.t_s)));
    t = end;
  }
  return total;
}

double GridClock::next_step_after(double t_s) const {
  for (const auto& p : pieces_) {
    if (p.t_s > t_s) return p.t_s;
  }
  return std::numeric_limits<double>::infinity();
}

std::vector<std::complex<double>> voltage_phasors(const GridConfig& config) {
  std::vector<std::complex<double>> v(kMaxHarmonicOrder + 1);
  if (!config.present) return v;
  v[1] = config.vrms;
  for (const auto& h : config.harmonics) {
    if (h.order < 2 || h.order > kMaxHarmonicOrder) continue;
    v[static_cast<size_t>(h.order)] += std::polar(config.vrms * h.percent / 100.0, h.phase_deg * kDeg);
  }
  return v;
}

double total_vrms(const GridConfig& config) {
  double sum = 0.0;
  for (const auto& p : voltage_phasors(config)) sum += std::norm(p);
  return std::sqrt(sum);
}

}  // namespace wattguard::sim
