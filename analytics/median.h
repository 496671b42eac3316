// The median the analytics use: the upper median of an even count, 0 for none (robust centres and spreads).
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace wattguard::analytics {

// The element at index size/2 after sorting (the upper of the two middle ones for an even count); 0 when empty.
inline double median_of(std::vector<double> v) {
  if (v.empty()) return 0.0;
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  return v[mid];
}

}  // namespace wattguard::analytics
