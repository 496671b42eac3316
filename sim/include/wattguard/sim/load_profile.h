// A load that changes over time: the interface every profile implements.
#pragma once

#include "wattguard/sim/load_phasors.h"

namespace wattguard::sim {

// The load in force from some time on, and when it next changes.
struct LoadSegment {
  LoadPhasors load;
  double end_s = 0.0;  // the load may change at this time (+infinity: never); > the query time
};

// Profiles are immutable once built unless a class says otherwise; times are seconds from
// the start of the simulation. The simulator applies a change at the first sample instant at
// or after the change time.
class LoadProfile {
 public:
  virtual ~LoadProfile() = default;
  // The load in force at t_s (t_s >= 0). REQUIRES: the returned end_s > t_s.
  virtual LoadSegment segment_at(double t_s) const = 0;
};

}  // namespace wattguard::sim
