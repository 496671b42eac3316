// A load that never changes.
#pragma once

#include "wattguard/sim/load_profile.h"

namespace wattguard::sim {

class ConstantProfile final : public LoadProfile {
 public:
  explicit ConstantProfile(LoadPhasors load) : load_(load) {}
  LoadSegment segment_at(double t_s) const override;

 private:
  LoadPhasors load_;
};

}  // namespace wattguard::sim
