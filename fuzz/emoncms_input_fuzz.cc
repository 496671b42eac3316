// libFuzzer target: an emoncms input request as the API's emoncms routes take it apart: the bytes are a query
// string (or form body), parsed into parameters by api::parse_target, then emoncms::parse_input_post and
// parse_input_bulk, and every frame accepted turned into a reading and checked (server/api/emoncms_routes.cc).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "wattguard/api/request_target.h"
#include "wattguard/emoncms/input_map.h"
#include "wattguard/emoncms/input_request.h"
#include "wattguard/protocol/codec.h"

namespace {

using namespace wattguard;

constexpr int64_t kNowS = 1'750'000'000;

void check_frame(const emoncms::InputFrame& frame) {
  WATTGUARD_FUZZ_CHECK(frame.values.size() <= emoncms::kMaxValuesPerFrame);
  for (const auto& [name, value] : frame.values) WATTGUARD_FUZZ_CHECK(std::isfinite(value));
  WATTGUARD_FUZZ_CHECK(!frame.time_s || *frame.time_s <= kNowS + 86'400);
  // The reading a frame makes, checked as the route checks it before handing it to ingest: what passes is a
  // reading the MQTT codec carries unchanged (the same value a meter on MQTT would have sent).
  static const emoncms::InputMap kInputMap;
  const int64_t time_ms = frame.time_s ? *frame.time_s * 1000 : kNowS * 1000;
  auto reading = emoncms::frame_to_reading(frame, kInputMap, "m1", time_ms, nullptr);
  if (!reading.ok()) return;
  protocol::Reading r = reading.value();
  r.seq = 1;
  const protocol::DecodeContext ctx{kNowS * 1000, "m1"};
  if (!protocol::validate(r, ctx).ok()) return;
  auto again = protocol::decode_reading(protocol::encode(r), ctx);
  WATTGUARD_FUZZ_CHECK(again.ok());
  WATTGUARD_FUZZ_CHECK(again.value() == r);
}

}  // namespace

// The entry point libFuzzer calls; its name is libFuzzer's, not ours.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {  // NOLINT(readability-identifier-naming)
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto target = api::parse_target("/input/post?" + text);
  if (!target) return 0;
  const emoncms::InputParams params(target->query.begin(), target->query.end());
  if (auto post = emoncms::parse_input_post(params, kNowS); post.ok()) check_frame(post.value());
  if (auto bulk = emoncms::parse_input_bulk(params, kNowS); bulk.ok()) {
    WATTGUARD_FUZZ_CHECK(bulk.value().size() <= emoncms::kMaxBulkFrames);
    for (const auto& frame : bulk.value()) check_frame(frame);
  }
  return 0;
}
