// libFuzzer target: the API's request-target parsing (server/api/request_target.cc): every request's path and
// query, and the typed query values routes read (times, steps, integers, lists).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "wattguard/api/request_target.h"

// The entry point libFuzzer calls; its name is libFuzzer's, not ours.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {  // NOLINT(readability-identifier-naming)
  using namespace wattguard::api;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const auto target = parse_target(text)) {
    WATTGUARD_FUZZ_CHECK(!target->path.empty() && target->path[0] == '/');
    WATTGUARD_FUZZ_CHECK(target->path.find('\0') == std::string::npos);
    for (const auto& [name, value] : target->query) {
      WATTGUARD_FUZZ_CHECK(name.find('\0') == std::string::npos && value.find('\0') == std::string::npos);
      WATTGUARD_FUZZ_CHECK(target->param(name) != nullptr);
    }
    for (const std::string& segment : path_segments(target->path)) WATTGUARD_FUZZ_CHECK(!segment.empty());
  }
  for (const bool plus : {false, true}) {
    if (const auto decoded = percent_decode(text, plus)) {
      WATTGUARD_FUZZ_CHECK(decoded->size() <= text.size() && decoded->find('\0') == std::string::npos);
    }
  }
  // The typed values, as a route reads a query value (already decoded).
  if (const auto t = parse_time_value(text)) {
    WATTGUARD_FUZZ_CHECK(*t >= 0);
    (void)format_iso8601(static_cast<double>(*t));
  }
  if (const auto step = parse_step_value(text)) WATTGUARD_FUZZ_CHECK(*step > 0 && *step <= 366LL * 86'400);
  if (const auto n = parse_int_value(text, -1000, 1000)) WATTGUARD_FUZZ_CHECK(*n >= -1000 && *n <= 1000);
  for (const std::string& item : split_list(text)) WATTGUARD_FUZZ_CHECK(!item.empty());
  return 0;
}
