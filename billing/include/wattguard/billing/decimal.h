// Exact decimal arithmetic for money and energy: decimal text to a scaled integer and back, and the one
// rounding rule of the bills (half up), so no amount ever passes through binary floating point.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "wattguard/base/expected.h"

namespace wattguard::billing {

// The value of decimal `text` times 10^decimals, exactly: ("4.71", 6) -> 4'710'000, ("100", 9) -> 1e11.
// Accepts an optional sign, digits with an optional fraction, TOML's '_' between digits ("1_000.5") and an
// exponent ("1.5e2"). Errors (message only: the caller adds field, value and line): not a plain decimal
// ("inf", "nan", "4.7.1", ""), more digits after the point than `decimals` allows ("4.715" at 2: "finer than
// 0.01"), or a value beyond int64. REQUIRES: 0 <= decimals <= 18.
Expected<int64_t> parse_scaled_decimal(std::string_view text, int decimals);

// value / 10^decimals as decimal text with at least `min_decimals` digits after the point and no further
// trailing zeros: (4'710'000, 6, 2) -> "4.71", (47'100, 2, 2) -> "471.00", (-5, 1, 0) -> "-0.5".
// REQUIRES: 0 <= min_decimals <= decimals <= 18.
std::string format_scaled_decimal(int64_t value, int decimals, int min_decimals);

// numerator / denominator rounded to the nearest integer, halves up (the bills' one rounding rule; every
// amount is non-negative, so "half up" and "half away from zero" agree). An Error when the result does not
// fit in int64. REQUIRES: numerator >= 0, denominator > 0.
Expected<int64_t> divide_round_half_up(__int128 numerator, __int128 denominator);

// 10^n. REQUIRES: 0 <= n <= 18.
int64_t power_of_ten(int n);

}  // namespace wattguard::billing
