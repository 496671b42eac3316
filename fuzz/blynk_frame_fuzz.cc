// libFuzzer target: the Blynk listener's byte stream: blynk::FrameReader over the bytes as TCP may split them,
// each frame's NUL-separated fields, and the pin numbers and values of a hardware write (server/blynk).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "wattguard/blynk/frame.h"
#include "wattguard/blynk/pin_map.h"

namespace {

using namespace wattguard::blynk;

void check_frame(const Frame& frame) {
  WATTGUARD_FUZZ_CHECK(frame.id != 0);
  WATTGUARD_FUZZ_CHECK(frame.body.size() <= kMaxBodyBytes);
  const std::vector<std::string_view> fields = split_fields(frame.body);
  // Splitting and joining give the body back, so what the session reads is all the frame said.
  WATTGUARD_FUZZ_CHECK(join_fields(fields) == frame.body);
  // The frame encodes to bytes that read back as the same frame.
  if (frame.command != static_cast<uint8_t>(Command::kResponse)) {
    FrameReader again;
    again.append(encode_frame(static_cast<Command>(frame.command), frame.id, frame.body));
    auto read = again.next();
    WATTGUARD_FUZZ_CHECK(read.ok() && read.value().has_value());
    WATTGUARD_FUZZ_CHECK(read.value()->body == frame.body && read.value()->id == frame.id);
  }
  // A hardware write `vw <pin> <value>` as the session takes it apart.
  if (frame.command == static_cast<uint8_t>(Command::kHardware) && fields.size() >= 3 && fields[0] == "vw") {
    if (const auto pin = parse_pin(fields[1])) WATTGUARD_FUZZ_CHECK(*pin >= 0 && *pin <= 255);
    if (const auto value = parse_pin_value(fields[2])) WATTGUARD_FUZZ_CHECK(std::isfinite(*value));
  }
}

}  // namespace

// The entry point libFuzzer calls; its name is libFuzzer's, not ours.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {  // NOLINT(readability-identifier-naming)
  if (size == 0) return 0;
  // The first byte chooses where the stream is cut into reads, so frames split across reads are covered.
  const size_t chunk = 1 + data[0] % 16;
  const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  FrameReader reader;
  for (size_t at = 0; at < stream.size(); at += chunk) {
    reader.append(stream.substr(at, chunk));
    for (;;) {
      auto next = reader.next();
      if (!next.ok()) {
        WATTGUARD_FUZZ_CHECK(reader.fault().has_value());
        // A fault is final: the reader keeps answering it.
        WATTGUARD_FUZZ_CHECK(!reader.next().ok());
        return 0;
      }
      if (!next.value()) break;
      check_frame(*next.value());
    }
  }
  // The pin map setting, from the same bytes.
  (void)PinMap::parse(stream);
  return 0;
}
