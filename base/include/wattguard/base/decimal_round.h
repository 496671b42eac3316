// Rounding of figures for JSON and text output, so they print short and stable.
#pragma once

#include <cmath>

namespace wattguard {

// Rounds v to a decimal step (1e-3, 1e-4, ...). Dividing by the power of ten gives the double nearest the
// decimal, which prints as 0.0491; multiplying by 1e-4 instead gives 0.049100000000000005.
inline double round_to_step(double v, double step) {
  const double per_unit = std::round(1.0 / step);
  return std::round(v * per_unit) / per_unit;
}

}  // namespace wattguard
