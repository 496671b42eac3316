// Several loads on one supply at once: their currents add as phasors.
#pragma once

#include <memory>
#include <vector>

#include "wattguard/base/expected.h"
#include "wattguard/sim/load_profile.h"

namespace wattguard::sim {

class CompositeProfile final : public LoadProfile {
 public:
  // An Error naming the first null part ("parts[2]"): the way to make one from parts not known to be set.
  static Expected<std::shared_ptr<CompositeProfile>> create(std::vector<std::shared_ptr<const LoadProfile>> parts);

  CompositeProfile() = default;
  // REQUIRES: no part is null (asserted).
  explicit CompositeProfile(std::vector<std::shared_ptr<const LoadProfile>> parts);
  // REQUIRES: part is not null (asserted).
  void add(std::shared_ptr<const LoadProfile> part);
  LoadSegment segment_at(double t_s) const override;
  size_t size() const { return parts_.size(); }

 private:
  std::vector<std::shared_ptr<const LoadProfile>> parts_;
};

}  // namespace wattguard::sim
