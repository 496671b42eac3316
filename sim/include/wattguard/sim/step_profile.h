// A load that changes at listed times: a step list (time -> state).
#pragma once

#include <vector>

#include "wattguard/sim/load_profile.h"

namespace wattguard::sim {

class StepProfile final : public LoadProfile {
 public:
  struct Step {
    double t_s = 0.0;  // from this time on
    LoadPhasors load;
  };
  // Before the first step the load is zero. Steps are sorted by time here; of two steps with
  // the same time the later one in the list wins.
  explicit StepProfile(std::vector<Step> steps);
  LoadSegment segment_at(double t_s) const override;
  const std::vector<Step>& steps() const { return steps_; }

 private:
  std::vector<Step> steps_;
};

}  // namespace wattguard::sim
