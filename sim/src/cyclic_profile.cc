// An appliance switching on and off with a fixed period.
#include "wattguard/sim/cyclic_profile.h"

#include <cassert>
#include <cmath>
#include <sstream>
#include <string>
#include <utility>

namespace wattguard::sim {

namespace {

std::string shown(double x) {
  std::ostringstream out;
  out << x;
  return out.str();
}

}  // namespace

Expected<void> CyclicProfile::validate(const CycleSpec& cycle) {
  if (!(cycle.period_s > 0.0) || !std::isfinite(cycle.period_s)) {
    return Error::invalid("period_s", shown(cycle.period_s), "CyclicProfile: period_s must be > 0");
  }
  if (!(cycle.on_s >= 0.0) || cycle.on_s > cycle.period_s) {
    return Error::invalid("on_s", shown(cycle.on_s), "CyclicProfile: on_s must be within 0..period_s");
  }
  if (!std::isfinite(cycle.offset_s)) {
    return Error::invalid("offset_s", shown(cycle.offset_s), "CyclicProfile: offset_s not finite");
  }
  return {};
}

Expected<std::shared_ptr<CyclicProfile>> CyclicProfile::create(LoadPhasors on, CycleSpec cycle, LoadPhasors off) {
  if (auto cycle_ok = validate(cycle); !cycle_ok) return std::move(cycle_ok).error();
  return std::make_shared<CyclicProfile>(on, cycle, off);
}

CyclicProfile::CyclicProfile(LoadPhasors on, CycleSpec cycle, LoadPhasors off) : on_(on), off_(off), cycle_(cycle) {
  assert(validate(cycle).ok());
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
