// The emoncms input API's request forms, parsed into frames of named values (docs/bring-your-own-meter.md):
// input/post with fulljson=, json= ("name:value,..." with or without braces and quotes), csv= or data= (CSV or
// the json form), node= and time=; and input/bulk with data=[[offset,node,values...],...] and sentat= / time= /
// offset=. Pure functions; refusals name the parameter and the value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wattguard/base/expected.h"

namespace wattguard::emoncms {

// One node's values at one time. Unnamed values (csv, bulk) are named "1", "2", ... as emoncms does.
struct InputFrame {
  std::string node;
  std::optional<int64_t> time_s;  // absent: the time of arrival
  std::vector<std::pair<std::string, double>> values;
};

// The request's parameters, from the query string and a form body, by name (the last one wins).
using InputParams = std::vector<std::pair<std::string, std::string>>;
const std::string* input_param(const InputParams& params, std::string_view name);

inline constexpr std::size_t kMaxValuesPerFrame = 64;
inline constexpr std::size_t kMaxBulkFrames = 10'000;

// input/post: one frame. `now_s` bounds time= (not more than a day ahead).
Expected<InputFrame> parse_input_post(const InputParams& params, int64_t now_s);
// input/bulk: the frames in order, each with its time resolved.
Expected<std::vector<InputFrame>> parse_input_bulk(const InputParams& params, int64_t now_s);

}  // namespace wattguard::emoncms
