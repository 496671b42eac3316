// A step list of loads over time.
#include "wattguard/sim/step_profile.h"

#include <algorithm>
#include <limits>
#include <utility>

namespace wattguard::sim {

StepProfile::StepProfile(std::vector<Step> steps) : steps_(std::move(steps)) {
  std::stable_sort(steps_.begin(), steps_.end(), [](const Step& a, const Step& b) { return a.t_s < b.t_s; });
}

LoadSegment StepProfile::segment_at(double t_s) const {
  // First step strictly after t: the segment ends there; the one before it is in force.
  auto next = std::upper_bound(steps_.begin(), steps_.end(), t_s, [](double t, const Step& s) { return t < s.t_s; });
  LoadSegment seg;
  seg.end_s = next == steps_.end() ? std::numeric_limits<double>::infinity() : next->t_s;
  if (next != steps_.begin()) seg.load = (next - 1)->load;
  return seg;
}

}  // namespace wattguard::sim
