// Integer division and remainder rounded towards minus infinity, for times before 1970 and negative UTC
// offsets: C++'s / and % round towards zero, which would put -1 s in the day of 1970-01-01.
#pragma once

#include <cstdint>

namespace wattguard {

// REQUIRES: b > 0.
inline int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b < 0 ? 1 : 0); }

// In [0, m). REQUIRES: m > 0.
inline int64_t floor_mod(int64_t a, int64_t m) {
  const int64_t r = a % m;
  return r < 0 ? r + m : r;
}

}  // namespace wattguard
