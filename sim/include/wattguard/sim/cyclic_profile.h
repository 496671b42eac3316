// An appliance that cycles: on for on_s seconds every period_s seconds, from offset_s on.
#pragma once

#include <memory>

#include "wattguard/base/expected.h"
#include "wattguard/sim/load_profile.h"

namespace wattguard::sim {

struct CycleSpec {
  double on_s = 0.0;      // 0 <= on_s <= period_s
  double period_s = 1.0;  // > 0
  double offset_s = 0.0;  // first switch-on; before it the appliance is off
};

class CyclicProfile final : public LoadProfile {
 public:
  // An Error naming the field of `cycle` (period_s, on_s, offset_s) that breaks the rules above.
  static Expected<void> validate(const CycleSpec& cycle);
  // Validates, then builds: the way to make one from input.
  static Expected<std::shared_ptr<CyclicProfile>> create(LoadPhasors on, CycleSpec cycle, LoadPhasors off = {});
  // REQUIRES: validate(cycle) is ok (asserted).
  CyclicProfile(LoadPhasors on, CycleSpec cycle, LoadPhasors off = {});
  LoadSegment segment_at(double t_s) const override;

 private:
  LoadPhasors on_;
  LoadPhasors off_;
  CycleSpec cycle_;
};

}  // namespace wattguard::sim
