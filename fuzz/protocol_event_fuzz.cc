// libFuzzer target: protocol::decode_event, the payload of .../event (tamper and power events).
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
  auto decoded = decode_event(payload, ctx);
  if (!decoded.ok()) return 0;
  const MeterEvent& e = decoded.value();
  // A meter may never raise what only the server raises (an offline alert it could forge).
  WATTGUARD_FUZZ_CHECK(!is_server_only(e.kind));
  WATTGUARD_FUZZ_CHECK(e.details.size() <= 512);
  auto again = decode_event(encode(e), ctx);
  WATTGUARD_FUZZ_CHECK(again.ok());
  WATTGUARD_FUZZ_CHECK(again.value() == e);
  return 0;
}
