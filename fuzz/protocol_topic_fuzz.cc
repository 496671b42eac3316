// libFuzzer target: protocol::parse_topic, which ingest runs on every MQTT topic before anything else.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "wattguard/protocol/topics.h"

// The entry point libFuzzer calls; its name is libFuzzer's, not ours.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {  // NOLINT(readability-identifier-naming)
  using namespace wattguard::protocol;
  const std::string_view topic(reinterpret_cast<const char*>(data), size);
  const auto parsed = parse_topic(topic);
  if (!parsed) return 0;
  // Accepted only in exactly one of the five forms: rebuilding it gives the same text, byte for byte.
  WATTGUARD_FUZZ_CHECK(is_valid_meter_id(parsed->meter_id));
  WATTGUARD_FUZZ_CHECK(make_topic(parsed->meter_id, parsed->kind) == topic);
  return 0;
}
