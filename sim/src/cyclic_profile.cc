// An appliance switching on and off with a fixed period.
#include "wattguard/sim/cyclic_profile.h"

#include <cmath>
#include <stdexcept>

namespace wattguard::sim {

CyclicProfile::CyclicProfile(LoadPhasors on, CycleSpec cycle, LoadPhasors off)
    : on_(on), off_(off), cycle_(cycle) {
  if (!(cycle.period_s > 0.0) || !std::isfinite(cycle.period_s)) {
    throw std::invalid_argument("CyclicProfile: period_s must be > 0");
  }
  if (!(cycle.on_s >= 0.0) || cycle.on_s > cycle.period_s) {
    throw std::invalid_argument("CyclicProfile: on_s must be within 0..period_s");
  }
  if (!std::isfinite(cycle.offset_s)) throw std::invalid_argument("CyclicProfile: offset_s not finite");
}

LoadSegment CyclicProfile::segment_at(double t_s) const {
  const double rel = t_s - cycle_.offset_s;
  if (rel < 0.0) return {off_, cycle_.offset_s};
  double k = std::floor(rel / cycle_.period_s);
  double cycle_start = cycle_.offset_s + k * cycle_.period_s;
  // Division rounding can put t a hair before the cycle it belongs to, or past its end:
  // settle on the cycle whose [start, start + period) holds t.
  if (cycle_start > t_s) cycle_start = cycle_.offset_s + (--k) * cycle_.period_s;
  if (cycle_start + cycle_.period_s <= t_s) cycle_start = cycle_.offset_s + (++k) * cycle_.period_s;
  const double on_end = cycle_start + cycle_.on_s;
  if (t_s < on_end) return {on_, on_end};
  return {off_, cycle_start + cycle_.period_s};
}

}  // namespace wattguard::sim
