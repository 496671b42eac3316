// libFuzzer target for the CSV and binary recording readers (clang only; see sim/CMakeLists.txt).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "wattguard/sim/binary_recording.h"
#include "wattguard/sim/csv_recording.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wattguard::sim;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // The first byte picks the ADC width so every width gets exercised.
  const int bits = size > 0 ? 10 + data[0] % 7 : 12;
  const wattguard::Expected<Recording> csv = read_csv_recording(text, bits);
  if (csv.ok()) {
    const int max = (1 << bits) - 1;
    if (csv.value().samples.empty()) std::abort();
    for (const auto& s : csv.value().samples) {
      if (s.v > max || s.i > max || s.n > max) std::abort();
    }
  } else if (csv.error().message.empty() || csv.error().line == 0) {
    std::abort();
  }
  const wattguard::Expected<Recording> bin = decode_binary_recording(text);
  if (!bin.ok() && bin.error().message.empty()) std::abort();
  return 0;
}
