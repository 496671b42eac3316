// Parsing the emoncms input forms. emoncms itself is lenient PHP; we accept what its documented clients send and
// refuse the rest with the parameter and value named, never a partial frame.
#include "wattguard/emoncms/input_request.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace wattguard::emoncms {
namespace {

using nlohmann::json;

constexpr int64_t kMaxAheadS = 86'400;
// Largest time, sentat or offset taken (about 31,700 years of seconds): far inside int64, so the reference
// and the offsets added to it cannot overflow.
constexpr double kMaxReferenceS = 1e12;
constexpr std::size_t kMaxNameChars = 64;
constexpr std::size_t kShownChars = 80;

std::string shown(std::string_view s) { return std::string(s.substr(0, kShownChars)); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string_view unquote(std::string_view s) {
  s = trim(s);
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) {
    s = s.substr(1, s.size() - 2);
  }
  return s;
}

std::optional<double> parse_number(std::string_view s) {
  s = unquote(s);
  if (s.empty()) return std::nullopt;
  if (s.front() == '+') s.remove_prefix(1);
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

bool valid_name(std::string_view name) {
  return !name.empty() && name.size() <= kMaxNameChars && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == ' ';
  });
}

Expected<void> add_value(InputFrame& frame, const char* param, std::string_view name, std::optional<double> value,
                         std::string_view raw) {
  if (!valid_name(name)) {
    return Error::invalid(param, shown(name),
                          std::string(param) + ": input name '" + shown(name) +
                              "' must be 1 to 64 letters, digits, '_', '-', '.' or spaces");
  }
  if (!value) {
    return Error::invalid(param, shown(raw),
                          std::string(param) + ": input '" + std::string(name) + "' = '" + shown(raw) +
                              "' is not a finite number");
  }
  if (frame.values.size() >= kMaxValuesPerFrame) {
    return Error::invalid(param, "", std::string(param) + ": more than 64 values in one frame");
  }
  frame.values.emplace_back(std::string(name), *value);
  return {};
}

// "name:value,name:value" with or without {} and quotes (the json= form).
Expected<void> parse_pairs(InputFrame& frame, const char* param, std::string_view text) {
  text = trim(text);
  if (!text.empty() && text.front() == '{') {
    if (text.back() != '}') return Error::invalid(param, shown(text), std::string(param) + ": unbalanced '{'");
    text = text.substr(1, text.size() - 2);
  }
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string_view item = trim(text.substr(start, comma - start));
    start = comma + 1;
    if (item.empty()) continue;
    const std::size_t colon = item.find(':');
    if (colon == std::string_view::npos) {
      return Error::invalid(param, shown(item), std::string(param) + ": '" + shown(item) + "' is not name:value");
    }
    const std::string_view value = item.substr(colon + 1);
    if (auto r = add_value(frame, param, unquote(item.substr(0, colon)), parse_number(value), value); !r.ok()) {
      return r;
    }
  }
  return {};
}

Expected<void> parse_csv(InputFrame& frame, const char* param, std::string_view text) {
  std::size_t start = 0;
  int index = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string_view item = trim(text.substr(start, comma - start));
    start = comma + 1;
    ++index;
    if (item.empty()) continue;  // emoncms skips empty CSV slots but keeps the numbering
    if (auto r = add_value(frame, param, std::to_string(index), parse_number(item), item); !r.ok()) return r;
  }
  return {};
}

Expected<void> parse_fulljson(InputFrame& frame, std::string_view text) {
  const json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Error::invalid("fulljson", shown(text), "fulljson is not a JSON object");
  }
  for (const auto& [name, value] : doc.items()) {
    std::optional<double> v;
    if (value.is_number()) v = value.get<double>();
    if (value.is_string()) v = parse_number(value.get<std::string>());
    if (v && !std::isfinite(*v)) v.reset();
    if (auto r = add_value(frame, "fulljson", name, v, value.dump()); !r.ok()) return r;
  }
  return {};
}

Expected<std::string> node_name(std::string_view raw, const char* param) {
  const std::string_view n = unquote(raw);
  if (n.empty()) return std::string("0");
  if (!valid_name(n)) {
    return Error::invalid(param, shown(n),
                          std::string(param) + ": node '" + shown(n) + "' must be 1 to 64 letters, digits, '_', '-'");
  }
  return std::string(n);
}

// A time as the refusal shows it: whole seconds, or the double's own text when it has no int64 value (converting
// such a double to an integer is undefined behaviour; found by fuzz/emoncms_input_fuzz.cc).
std::string time_text(double t) {
  if (std::isfinite(t) && std::abs(t) < kMaxReferenceS) return std::to_string(static_cast<int64_t>(t));
  char text[32];
  std::snprintf(text, sizeof text, "%g", t);
  return text;
}

Expected<int64_t> checked_time(double t, const char* param, int64_t now_s) {
  if (!std::isfinite(t) || t <= 0 || t > static_cast<double>(now_s + kMaxAheadS)) {
    return Error::invalid(param, time_text(t),
                          std::string(param) + ": time " + time_text(t) +
                              " is not a Unix time in seconds up to a day ahead");
  }
  return static_cast<int64_t>(t);
}

}  // namespace

const std::string* input_param(const InputParams& params, std::string_view name) {
  const std::string* found = nullptr;
  for (const auto& [k, v] : params) {
    if (k == name) found = &v;
  }
  return found;
}

Expected<InputFrame> parse_input_post(const InputParams& params, int64_t now_s) {
  InputFrame frame;
  const std::string* node = input_param(params, "node");
  auto n = node_name(node != nullptr ? *node : "", "node");
  if (!n.ok()) return std::move(n).error();
  frame.node = std::move(n).value();
  if (const std::string* t = input_param(params, "time")) {
    const auto v = parse_number(*t);
    if (!v) return Error::invalid("time", shown(*t), "time '" + shown(*t) + "' is not a number");
    auto checked = checked_time(*v, "time", now_s);
    if (!checked.ok()) return std::move(checked).error();
    frame.time_s = checked.value();
  }
  Expected<void> parsed;
  if (const std::string* f = input_param(params, "fulljson")) {
    parsed = parse_fulljson(frame, *f);
  } else if (const std::string* j = input_param(params, "json")) {
    parsed = parse_pairs(frame, "json", *j);
  } else if (const std::string* c = input_param(params, "csv")) {
    parsed = parse_csv(frame, "csv", *c);
  } else if (const std::string* d = input_param(params, "data")) {
    parsed = d->find(':') != std::string::npos ? parse_pairs(frame, "data", *d) : parse_csv(frame, "data", *d);
  } else {
    return Error::invalid("fulljson", "", "no values: give fulljson=, json=, csv= or data=");
  }
  if (!parsed.ok()) return std::move(parsed).error();
  if (frame.values.empty()) return Error::invalid("data", "", "the request carries no values");
  return frame;
}

Expected<std::vector<InputFrame>> parse_input_bulk(const InputParams& params, int64_t now_s) {
  const std::string* data = input_param(params, "data");
  if (data == nullptr) return Error::invalid("data", "", "input/bulk needs data=[[offset,node,value,...],...]");
  const json doc = json::parse(*data, nullptr, false);
  if (doc.is_discarded() || !doc.is_array()) {
    return Error::invalid("data", shown(*data), "data is not a JSON array of [offset,node,values...] arrays");
  }
  if (doc.size() > kMaxBulkFrames) return Error::invalid("data", "", "more than 10000 frames in one bulk upload");
  // The reference the offsets count from: time=, else now - sentat, else now - offset, else now (emoncms's
  // rules); without any, items whose first number is already a Unix time are taken as such.
  std::optional<int64_t> reference;
  for (const char* name : {"time", "sentat", "offset"}) {
    const std::string* p = input_param(params, name);
    if (p == nullptr) continue;
    const auto v = parse_number(*p);
    if (!v) return Error::invalid(name, shown(*p), std::string(name) + " '" + shown(*p) + "' is not a number");
    // Bounded before it becomes an integer: a larger double has no int64 value (undefined behaviour, found by
    // fuzzing), and no real clock or offset comes near it.
    if (std::abs(*v) >= kMaxReferenceS) {
      return Error::invalid(name, shown(*p), std::string(name) + " '" + shown(*p) + "' is out of range");
    }
    reference = std::string_view(name) == "time" ? static_cast<int64_t>(*v) : now_s - static_cast<int64_t>(*v);
    break;
  }
  std::vector<InputFrame> frames;
  frames.reserve(doc.size());
  for (std::size_t i = 0; i < doc.size(); ++i) {
    const json& item = doc[i];
    const std::string where = "data[" + std::to_string(i) + "]";
    if (!item.is_array() || item.size() < 2 || !item[0].is_number()) {
      return Error::invalid("data", shown(item.dump()), where + " is not [offset,node,values...]");
    }
    InputFrame frame;
    const double first = item[0].get<double>();
    const double t = reference ? static_cast<double>(*reference) + first : (first > 1e9 ? first : now_s + first);
    auto checked = checked_time(t, "data", now_s);
    if (!checked.ok()) return Error::invalid("data", shown(item.dump()), where + ": " + checked.error().message);
    frame.time_s = checked.value();
    auto n = node_name(item[1].is_string() ? item[1].get<std::string>() : item[1].dump(), "data");
    if (!n.ok()) return std::move(n).error();
    frame.node = std::move(n).value();
    for (std::size_t k = 2; k < item.size(); ++k) {
      if (item[k].is_null()) continue;
      std::optional<double> v;
      if (item[k].is_number()) v = item[k].get<double>();
      if (auto r = add_value(frame, "data", std::to_string(k - 1), v, item[k].dump()); !r.ok()) {
        return Error::invalid("data", shown(item.dump()), where + ": " + r.error().message);
      }
    }
    frames.push_back(std::move(frame));
  }
  return frames;
}

}  // namespace wattguard::emoncms
