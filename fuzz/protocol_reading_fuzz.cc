// libFuzzer target: protocol::decode_reading, the payload ingest decodes for every .../reading message.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "wattguard/protocol/codec.h"

namespace {

constexpr int64_t kNowMs = 1'750'000'000'000;

}  // namespace

// The entry point libFuzzer calls; its name is libFuzzer's, not ours.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {  // NOLINT(readability-identifier-naming)
  using namespace wattguard::protocol;
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  // Both ways ingest may call it: with the meter id from the topic, and without that check.
  for (const std::string_view topic_id : {std::string_view{}, std::string_view{"m1"}}) {
    const DecodeContext ctx{kNowMs, topic_id};
    auto decoded = decode_reading(payload, ctx);
    if (!decoded.ok()) continue;
    const Reading& r = decoded.value();
    // What was accepted keeps the documented limits...
    WATTGUARD_FUZZ_CHECK(validate(r, ctx).ok());
    WATTGUARD_FUZZ_CHECK(std::isfinite(r.vrms) && std::isfinite(r.p_w) && std::isfinite(r.e_import_wh));
    WATTGUARD_FUZZ_CHECK(r.seq <= kMaxSeq && r.time_ms <= kNowMs + kMaxFutureMs);
    WATTGUARD_FUZZ_CHECK(topic_id.empty() || r.meter_id == topic_id);
    // ...and is the same reading once re-encoded and decoded again (what storage and the live feed see).
    auto again = decode_reading(encode(r), ctx);
    WATTGUARD_FUZZ_CHECK(again.ok());
    WATTGUARD_FUZZ_CHECK(again.value() == r);
  }
  return 0;
}
