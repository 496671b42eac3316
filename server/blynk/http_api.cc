// The Blynk HTTP API for scripts.
#include "server/blynk/http_api.h"

#include <cstdio>

namespace wattguard::blynk {
namespace {

constexpr std::size_t kMaxPinsPerRequest = 32;

// "V1" / "v1" -> 1.
std::optional<int> virtual_pin(std::string_view name) {
  if (name.size() < 2 || (name[0] != 'V' && name[0] != 'v')) return std::nullopt;
  return parse_pin(name.substr(1));
}

HttpApiAnswer answer(int status, std::string body) {
  HttpApiAnswer a;
  a.status = status;
  a.body = std::move(body);
  return a;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) >= 0x20) out.push_back(c);
  }
  return out + "\"";
}

}  // namespace

std::optional<HttpApiAnswer> BlynkHttpApi::handle(const HttpApiRequest& request) {
  std::vector<std::string> seg;
  for (std::size_t at = 1; at <= request.path.size();) {
    std::size_t slash = request.path.find('/', at);
    if (slash == std::string::npos) slash = request.path.size();
    seg.push_back(request.path.substr(at, slash - at));
    at = slash + 1;
  }
  std::string meter;
  // Blynk IoT: /external/api/<op>?token=...&V1=...
  if (seg.size() == 3 && seg[0] == "external" && seg[1] == "api") {
    if (request.method != "GET") return answer(405, "use GET");
    std::string token;
    std::vector<std::pair<int, std::string>> writes;
    std::vector<int> pins;
    for (const auto& [name, value] : request.query) {
      if (name == "token") {
        token = value;
      } else if (const auto pin = virtual_pin(name)) {
        writes.emplace_back(*pin, value);
        pins.push_back(*pin);
      }
    }
    if (auto refused = authenticate(token, request.remote, meter)) return refused;
    if (seg[2] == "update") return update(meter, writes);
    if (seg[2] == "get") return get(meter, pins, false);
    if (seg[2] == "isHardwareConnected") return connected(meter);
    return answer(404, "unknown Blynk operation");
  }
  // The archived server: /<token>/<op>[/<pin>]
  if (seg.size() < 2 || seg[0].size() != 32) return std::nullopt;
  const std::string& op = seg[1];
  if (op != "update" && op != "get" && op != "isHardwareConnected") return std::nullopt;
  if (auto refused = authenticate(seg[0], request.remote, meter)) return refused;
  if (op == "isHardwareConnected") return connected(meter);
  if (seg.size() != 3) return answer(400, "the pin is missing, e.g. /<token>/" + op + "/V1");
  const auto pin = virtual_pin(seg[2]);
  if (!pin) return answer(400, "Wrong pin format: " + seg[2]);
  if (op == "get") return get(meter, {*pin}, true);
  if (request.method != "GET") return answer(405, "use GET (values as ?value=)");
  std::vector<std::pair<int, std::string>> writes;
  for (const auto& [name, value] : request.query) {
    if (name == "value") writes.emplace_back(*pin, value);
  }
  return update(meter, writes);
}

std::optional<HttpApiAnswer> BlynkHttpApi::authenticate(const std::string& token, const std::string& remote,
                                                        std::string& meter) {
  const int64_t delay = hub_.token_delay_ms(remote);
  auto grant = hub_.look_up(token, remote);
  if (!grant.ok()) return answer(503, "the token could not be checked");
  if (!grant->has_value()) {
    HttpApiAnswer refused = answer(401, "Invalid token.");
    refused.delay_ms = static_cast<int>(delay);
    return refused;
  }
  meter = (*grant)->meter_id;
  return std::nullopt;
}

HttpApiAnswer BlynkHttpApi::update(const std::string& meter, const std::vector<std::pair<int, std::string>>& writes) {
  if (writes.empty()) return answer(400, "no value (?value=... or &V1=...)");
  if (writes.size() > kMaxPinsPerRequest) return answer(400, "too many values");
  const PinMap& map = hub_.pin_map_of(meter);
  const int64_t now = hub_.now();
  SessionOutput out;
  {
    std::lock_guard lock(mutex_);
    auto it = assemblers_.find(meter);
    if (it == assemblers_.end()) {
      const auto live = hub_.live_state(meter);
      it = assemblers_.try_emplace(meter, meter, map, hub_.limits().quiet_ms, live ? live->last_reading : std::nullopt)
               .first;
    }
    for (const auto& [pin, text] : writes) {
      const PinField field = map.field_of(pin);
      if (field == PinField::kNone) continue;  // an unmapped pin has no place in a reading
      const auto value = parse_pin_value(text);
      if (!value) {
        out.refusals.push_back(Refusal::kBadValue);
        hub_.count(out);
        return answer(400, "V" + std::to_string(pin) + ": '" + text + "' is not a finite number");
      }
      if (auto reading = it->second.on_write(field, *value, now)) out.readings.push_back(std::move(*reading));
    }
  }
  hub_.submit(out);
  return answer(200, "");
}

HttpApiAnswer BlynkHttpApi::get(const std::string& meter, const std::vector<int>& pins, bool json_array) {
  if (pins.size() != 1) return answer(400, "ask for one pin, e.g. V1");
  const PinMap& map = hub_.pin_map_of(meter);
  const auto live = hub_.live_state(meter);
  std::optional<std::string> value;
  const PinField field = map.field_of(pins[0]);
  if (field == PinField::kRelay && live && live->relay != protocol::RelayState::kUnknown) {
    value = live->relay == protocol::RelayState::kOn ? "1" : "0";
  } else if (live && live->last_reading) {
    if (const auto v = pin_field_value(*live->last_reading, field)) value = format_pin_value(*v);
  }
  if (!value) return answer(400, "Requested pin doesn't exist in the app.");
  if (!json_array) return answer(200, *value);
  HttpApiAnswer a = answer(200, "[" + json_string(*value) + "]");
  a.content_type = "application/json";
  return a;
}

HttpApiAnswer BlynkHttpApi::connected(const std::string& meter) {
  return answer(200, hub_.is_connected(meter) ? "true" : "false");
}

void BlynkHttpApi::tick() {
  const int64_t now = hub_.now();
  SessionOutput out;
  {
    std::lock_guard lock(mutex_);
    for (auto& [meter, assembler] : assemblers_) {
      if (auto reading = assembler.on_tick(now)) out.readings.push_back(std::move(*reading));
    }
  }
  if (!out.readings.empty()) hub_.submit(out);
}

}  // namespace wattguard::blynk
