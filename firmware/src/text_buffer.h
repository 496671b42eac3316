// A fixed-capacity text line built from integers and fixed-point numbers: formatting without
// printf, locale or heap, identical on the microcontroller and the host.
#pragma once

#include <cstdint>

namespace wattguard::firmware {

// Thread safety: none. Text beyond the capacity is dropped and marks the buffer truncated.
class TextBuffer {
 public:
  static constexpr uint32_t kCapacity = 320;

  TextBuffer& append(const char* text);
  TextBuffer& append_uint(uint64_t value);
  TextBuffer& append_int(int64_t value);
  TextBuffer& append_hex(uint32_t value);  // 0x followed by 8 digits
  // `value` rounded half away from zero to `decimals` (0..9) places, always with that many
  // decimals; "nan" or "inf"/"-inf" beyond what an int64 holds.
  TextBuffer& append_fixed(double value, uint32_t decimals);

  const char* c_str() const { return text_; }
  uint32_t size() const { return size_; }
  bool truncated() const { return truncated_; }
  void clear();

 private:
  void put(char c);

  char text_[kCapacity + 1] = {};
  uint32_t size_ = 0;
  bool truncated_ = false;
};

}  // namespace wattguard::firmware
