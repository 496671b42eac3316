// Exact decimal text <-> scaled integers, and rounding half up.
#include "wattguard/billing/decimal.h"

#include <cassert>
#include <cstdlib>
#include <limits>

namespace wattguard::billing {
namespace {

// Digits beyond these are refused before any arithmetic: int64 has 19 digits, and the exponent only
// needs to cover the shifts a scale can undo.
constexpr int kMaxSignificantDigits = 36;
constexpr int kMaxExponent = 40;

Error reason(std::string message) { return Error::invalid("", "", std::move(message)); }

}  // namespace

int64_t power_of_ten(int n) {
  assert(n >= 0 && n <= 18);
  int64_t p = 1;
  for (int i = 0; i < n; ++i) p *= 10;
  return p;
}

Expected<int64_t> parse_scaled_decimal(std::string_view text, int decimals) {
  assert(decimals >= 0 && decimals <= 18);
  size_t p = 0;
  bool negative = false;
  if (p < text.size() && (text[p] == '+' || text[p] == '-')) negative = text[p++] == '-';
  // Mantissa digits (leading zeros dropped), and how many of them came after the point.
  __int128 mantissa = 0;
  int significant = 0;
  int fraction_digits = 0;
  int digits = 0;
  bool in_fraction = false;
  char previous = '\0';
  for (; p < text.size(); ++p) {
    const char c = text[p];
    if (c >= '0' && c <= '9') {
      ++digits;
      if (in_fraction) ++fraction_digits;
      if (mantissa != 0 || c != '0') {
        if (++significant > kMaxSignificantDigits) return reason("too many digits");
        mantissa = mantissa * 10 + (c - '0');
      }
    } else if (c == '_') {
      // TOML allows one underscore between two digits.
      if (!(previous >= '0' && previous <= '9') || p + 1 >= text.size() || text[p + 1] < '0' || text[p + 1] > '9') {
        return reason("not a plain decimal number");
      }
    } else if (c == '.' && !in_fraction) {
      if (!(previous >= '0' && previous <= '9') || p + 1 >= text.size() || text[p + 1] < '0' || text[p + 1] > '9') {
        return reason("not a plain decimal number");
      }
      in_fraction = true;
    } else {
      break;
    }
    previous = c;
  }
  if (digits == 0) return reason("not a plain decimal number");
  int exponent = 0;
  if (p < text.size() && (text[p] == 'e' || text[p] == 'E')) {
    ++p;
    bool exponent_negative = false;
    if (p < text.size() && (text[p] == '+' || text[p] == '-')) exponent_negative = text[p++] == '-';
    int exponent_digits = 0;
    for (; p < text.size() && ((text[p] >= '0' && text[p] <= '9') || text[p] == '_'); ++p) {
      if (text[p] == '_') continue;
      ++exponent_digits;
      exponent = exponent * 10 + (text[p] - '0');
      if (exponent > kMaxExponent) return reason("exponent out of range");
    }
    if (exponent_digits == 0) return reason("not a plain decimal number");
    if (exponent_negative) exponent = -exponent;
  }
  if (p != text.size()) return reason("not a plain decimal number");

  // value = mantissa * 10^(exponent - fraction_digits); scaled = value * 10^decimals.
  int shift = decimals + exponent - fraction_digits;
  if (mantissa == 0) return int64_t{0};
  constexpr __int128 kLimit = std::numeric_limits<int64_t>::max();
  for (; shift < 0; ++shift) {
    if (mantissa % 10 != 0) {
      return reason("more than " + std::to_string(decimals) + " digits after the decimal point");
    }
    mantissa /= 10;
  }
  for (; shift > 0; --shift) {
    mantissa *= 10;
    if (mantissa > kLimit) return reason("too large");
  }
  if (mantissa > kLimit) return reason("too large");
  const auto magnitude = static_cast<int64_t>(mantissa);
  return negative ? -magnitude : magnitude;
}

std::string format_scaled_decimal(int64_t value, int decimals, int min_decimals) {
  assert(min_decimals >= 0 && min_decimals <= decimals && decimals <= 18);
  // Work on the magnitude as unsigned so INT64_MIN has one too.
  const bool negative = value < 0;
  const uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  const auto scale = static_cast<uint64_t>(power_of_ten(decimals));
  std::string whole = std::to_string(magnitude / scale);
  std::string fraction;
  if (decimals > 0) {
    fraction = std::to_string(magnitude % scale);
    fraction.insert(0, static_cast<size_t>(decimals) - fraction.size(), '0');
  }
  while (static_cast<int>(fraction.size()) > min_decimals && fraction.back() == '0') fraction.pop_back();
  std::string out = negative ? "-" + whole : whole;
  if (!fraction.empty()) out += "." + fraction;
  return out;
}

Expected<int64_t> divide_round_half_up(__int128 numerator, __int128 denominator) {
  assert(numerator >= 0 && denominator > 0);
  const __int128 quotient = numerator / denominator;
  const __int128 remainder = numerator % denominator;
  // remainder >= denominator / 2 without the division's own rounding: 2r >= d.
  const __int128 rounded = quotient + (2 * remainder >= denominator ? 1 : 0);
  if (rounded > std::numeric_limits<int64_t>::max()) return reason("amount too large");
  return static_cast<int64_t>(rounded);
}

}  // namespace wattguard::billing
