// A load that never changes.
#include "wattguard/sim/constant_profile.h"

#include <limits>

namespace wattguard::sim {

LoadSegment ConstantProfile::segment_at(double /*t_s*/) const {
  return {load_, std::numeric_limits<double>::infinity()};
}

}  // namespace wattguard::sim
