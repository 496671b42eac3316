// Several loads on one supply at once: their currents add as phasors.
#pragma once

#include <memory>
#include <vector>

#include "wattguard/sim/load_profile.h"

namespace wattguard::sim {

class CompositeProfile final : public LoadProfile {
 public:
  CompositeProfile() = default;
  explicit CompositeProfile(std::vector<std::shared_ptr<const LoadProfile>> parts);
  void add(std::shared_ptr<const LoadProfile> part);
  LoadSegment segment_at(double t_s) const override;
  size_t size() const { return parts_.size(); }

 private:
  std::vector<std::shared_ptr<const LoadProfile>> parts_;
};

}  // namespace wattguard::sim
