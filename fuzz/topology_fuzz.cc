// libFuzzer target: analytics::parse_topology (CSV `transformer,meter,role` and JSON), the reader behind
// `theft scan` and the server's topology import (server/grid/topology_import.cc).
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "wattguard/analytics/topology_io.h"

namespace {

void check(const wattguard::Expected<wattguard::analytics::Topology>& parsed) {
  if (!parsed.ok()) return;
  // A meter is in one place only: a transformer's check meter, or one consumer of one transformer.
  std::set<std::string> transformers;
  std::set<std::string> meters;
  for (const auto& t : parsed.value().transformers) {
    WATTGUARD_FUZZ_CHECK(!t.id.empty() && !t.check_meter.empty());
    WATTGUARD_FUZZ_CHECK(transformers.insert(t.id).second);
    WATTGUARD_FUZZ_CHECK(meters.insert(t.check_meter).second);
    for (const auto& consumer : t.consumers) {
      WATTGUARD_FUZZ_CHECK(!consumer.empty());
      WATTGUARD_FUZZ_CHECK(meters.insert(consumer).second);
    }
  }
}

}  // namespace

// The entry point libFuzzer calls; its name is libFuzzer's, not ours.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {  // NOLINT(readability-identifier-naming)
  using namespace wattguard::analytics;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check(parse_topology(text, "fuzz"));
  check(parse_topology_csv(text, "fuzz.csv"));
  check(parse_topology_json(text, "fuzz.json"));
  return 0;
}
