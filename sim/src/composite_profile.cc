// Loads in parallel: phasors add, the segment ends at the first change of any part.
#include "wattguard/sim/composite_profile.h"

#include <algorithm>
#include <cassert>
#include <limits>
#include <string>
#include <utility>

namespace wattguard::sim {

Expected<std::shared_ptr<CompositeProfile>> CompositeProfile::create(
    std::vector<std::shared_ptr<const LoadProfile>> parts) {
  for (size_t k = 0; k < parts.size(); ++k) {
    if (!parts[k]) {
      return Error::invalid("parts[" + std::to_string(k) + "]", "null", "CompositeProfile: null part");
    }
  }
  return std::make_shared<CompositeProfile>(std::move(parts));
}

CompositeProfile::CompositeProfile(std::vector<std::shared_ptr<const LoadProfile>> parts) {
  for (auto& part : parts) add(std::move(part));
}

void CompositeProfile::add(std::shared_ptr<const LoadProfile> part) {
  assert(part != nullptr);
  parts_.push_back(std::move(part));
}

LoadSegment CompositeProfile::segment_at(double t_s) const {
  LoadSegment total;
  total.end_s = std::numeric_limits<double>::infinity();
  for (const auto& part : parts_) {
    const LoadSegment seg = part->segment_at(t_s);
    total.load += seg.load;
    total.end_s = std::min(total.end_s, seg.end_s);
  }
  return total;
}

}  // namespace wattguard::sim
