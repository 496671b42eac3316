// An appliance that cycles: on for on_s seconds every period_s seconds, from offset_s on.
#pragma once

#include "wattguard/sim/load_profile.h"

namespace wattguard::sim {

struct CycleSpec {
  double on_s = 0.0;       // 0 <= on_s <= period_s
  double period_s = 1.0;   // > 0
  double offset_s = 0.0;   // first switch-on; before it the appliance is off
};

class CyclicProfile final : public LoadProfile {
 public:
  // REQUIRES: cycle as commented above (checked; std::invalid_argument otherwise).
  CyclicProfile(LoadPhasors on, CycleSpec cycle, LoadPhasors off = {});
  LoadSegment segment_at(double t_s) const override;

 private:
  LoadPhasors on_;
  LoadPhasors off_;
  CycleSpec cycle_;
};

}  // namespace wattguard::sim
