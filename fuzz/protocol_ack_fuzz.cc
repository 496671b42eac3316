// libFuzzer target: protocol::decode_ack (.../cmd/ack, the server's side) and decode_command (.../cmd, what a
// meter decodes).
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
  if (auto ack = decode_ack(payload, ctx); ack.ok()) {
    WATTGUARD_FUZZ_CHECK(ack.value().message.size() <= 256);
    WATTGUARD_FUZZ_CHECK(!ack.value().id.empty() && ack.value().id.size() <= kMaxCommandIdLength);
    auto again = decode_ack(encode(ack.value()), ctx);
    WATTGUARD_FUZZ_CHECK(again.ok());
    WATTGUARD_FUZZ_CHECK(again.value() == ack.value());
  }
  if (auto command = decode_command(payload, ctx); command.ok()) {
    const Command& c = command.value();
    WATTGUARD_FUZZ_CHECK(c.kind != CommandKind::kSetPeriod || (c.period_s && *c.period_s >= 1 && *c.period_s <= 3600));
    auto again = decode_command(encode(c), ctx);
    WATTGUARD_FUZZ_CHECK(again.ok());
    WATTGUARD_FUZZ_CHECK(again.value() == c);
  }
  return 0;
}
