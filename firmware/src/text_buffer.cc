// Integer and fixed-point formatting into a fixed buffer.
#include "firmware/src/text_buffer.h"

namespace wattguard::firmware {

void TextBuffer::put(char c) {
  if (size_ < kCapacity) {
    text_[size_++] = c;
    text_[size_] = '\0';
  } else {
    truncated_ = true;
  }
}

void TextBuffer::clear() {
  size_ = 0;
  text_[0] = '\0';
  truncated_ = false;
}

TextBuffer& TextBuffer::append(const char* text) {
  while (*text != '\0') put(*text++);
  return *this;
}

TextBuffer& TextBuffer::append_uint(uint64_t value) {
  char digits[20];
  uint32_t count = 0;
  do {
    digits[count++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (count > 0) put(digits[--count]);
  return *this;
}

TextBuffer& TextBuffer::append_int(int64_t value) {
  if (value < 0) {
    put('-');
    // Negate in unsigned arithmetic so INT64_MIN does not overflow.
    return append_uint(~static_cast<uint64_t>(value) + 1u);
  }
  return append_uint(static_cast<uint64_t>(value));
}

TextBuffer& TextBuffer::append_hex(uint32_t value) {
  append("0x");
  for (int shift = 28; shift >= 0; shift -= 4) {
    put("0123456789abcdef"[(value >> shift) & 0xFu]);
  }
  return *this;
}

TextBuffer& TextBuffer::append_fixed(double value, uint32_t decimals) {
  if (value != value) return append("nan");
  if (decimals > 9) decimals = 9;
  uint64_t scale = 1;
  for (uint32_t d = 0; d < decimals; ++d) scale *= 10;
  const double scaled = value * static_cast<double>(scale);
  // 9.2e18 is where int64 ends; anything that large is not a reading.
  if (scaled >= 9.0e18) return append("inf");
  if (scaled <= -9.0e18) return append("-inf");
  const bool negative = scaled < 0;
  const auto magnitude = static_cast<uint64_t>((negative ? -scaled : scaled) + 0.5);
  if (negative && magnitude != 0) put('-');
  append_uint(magnitude / scale);
  if (decimals > 0) {
    put('.');
    const uint64_t frac = magnitude % scale;
    for (uint64_t place = scale / 10; place > 0; place /= 10) {
      put(static_cast<char>('0' + (frac / place) % 10));
    }
  }
  return *this;
}

}  // namespace wattguard::firmware
