// libFuzzer target: protocol::decode_status, the payload of .../status (retained, and the broker's last will).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "wattguard/protocol/codec.h"

// The entry point libFuzzer calls; its name is libFuzzer's, not ours.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {  // NOLINT(readability-identifier-naming)
  using namespace wattguard::protocol;
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  const DecodeContext ctx{1'750'000'000'000, "m1"};
  auto decoded = decode_status(payload, ctx);
  if (!decoded.ok()) return 0;
  const StatusMessage& s = decoded.value();
  WATTGUARD_FUZZ_CHECK(s.meter_id == "m1");
  WATTGUARD_FUZZ_CHECK(s.firmware.size() <= 64);
  auto again = decode_status(encode(s), ctx);
  WATTGUARD_FUZZ_CHECK(again.ok());
  WATTGUARD_FUZZ_CHECK(again.value() == s);
  return 0;
}
