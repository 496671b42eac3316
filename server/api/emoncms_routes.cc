// The emoncms input routes.
#include "server/api/emoncms_routes.h"

#include <nlohmann/json.hpp>

#include "wattguard/ingest/device_keys.h"
#include "wattguard/protocol/codec.h"

namespace wattguard::api {
namespace {

using nlohmann::json;

constexpr int64_t kKeyDelayBaseMs = 500;
constexpr int64_t kKeyDelayMaxMs = 30'000;

HttpResponse text_answer(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.set_header("Content-Type", "text/plain; charset=utf-8");
  r.set_header("Cache-Control", "no-store");
  return r;
}

// emoncms's failure shape.
HttpResponse failure(int status, const std::string& message) {
  return json_response(status, json{{"success", false}, {"message", message}});
}

// Query parameters, then those of a form body (what emonESP's GET and IoTaWatt's POST send).
emoncms::InputParams params_of(const HttpRequest& req, const RequestTarget& target) {
  emoncms::InputParams params(target.query.begin(), target.query.end());
  if (req.body.empty()) return params;
  const std::string* type = req.header("content-type");
  const bool form = type == nullptr || type->find("application/x-www-form-urlencoded") != std::string::npos;
  if (!form) return params;
  if (auto body = parse_target("/?" + req.body)) {
    params.insert(params.end(), body->query.begin(), body->query.end());
  }
  return params;
}

std::string api_key_of(const HttpRequest& req, const emoncms::InputParams& params) {
  if (const std::string* auth = req.header("authorization")) {
    constexpr std::string_view kBearer = "bearer ";
    if (auth->size() > kBearer.size() && ascii_lower(auth->substr(0, kBearer.size())) == kBearer) {
      return auth->substr(kBearer.size());
    }
  }
  const std::string* key = emoncms::input_param(params, "apikey");
  return key != nullptr ? *key : std::string();
}

}  // namespace

EmoncmsRoutes::EmoncmsRoutes(ApiContext& context)
    : context_(context), prefix_(context.deps().emoncms.prefix), key_throttle_(kKeyDelayBaseMs, kKeyDelayMaxMs) {
  while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
  for (const EmoncmsInput& in : context.deps().emoncms.inputs) {
    const auto field = emoncms::reading_field_from_name(in.field);
    if (!field) continue;  // refused when the config was read
    if (in.meter.empty()) {
      default_map_.set(in.input, *field);
      for (auto& [meter, map] : meter_maps_) map.set(in.input, *field);
    } else {
      auto [it, added] = meter_maps_.try_emplace(in.meter, default_map_);
      it->second.set(in.input, *field);
    }
  }
}

const emoncms::InputMap& EmoncmsRoutes::map_of(const std::string& meter) const {
  auto it = meter_maps_.find(meter);
  return it != meter_maps_.end() ? it->second : default_map_;
}

EmoncmsRoutes::Stats EmoncmsRoutes::stats() const {
  return Stats{requests_.load(), frames_accepted_.load(), refused_key_.load(), refused_input_.load()};
}

void EmoncmsRoutes::write_metrics(MetricsWriter& out) const {
  const Stats s = stats();
  out.counter("wattguard_emoncms_requests_total", "emoncms input API requests (input/post, input/bulk)",
              static_cast<double>(s.requests));
  out.counter("wattguard_emoncms_frames_total", "emoncms frames accepted as readings",
              static_cast<double>(s.frames_accepted));
  out.family("wattguard_emoncms_refused_total", MetricType::kCounter,
             "emoncms requests refused, by reason (key: missing or wrong API key; input: malformed or out of range)");
  out.sample("wattguard_emoncms_refused_total", static_cast<double>(s.refused_key), {{"reason", "key"}});
  out.sample("wattguard_emoncms_refused_total", static_cast<double>(s.refused_input), {{"reason", "input"}});
}

std::optional<HttpResponse> EmoncmsRoutes::handle(const HttpRequest& req, const RequestTarget& target) {
  if (!context_.deps().emoncms.enabled || context_.deps().device_keys == nullptr) return std::nullopt;
  const std::string& path = target.path;
  if (path.compare(0, prefix_.size(), prefix_) != 0) return std::nullopt;
  std::string rest = path.substr(prefix_.size());
  if (rest.empty() || rest[0] != '/') return std::nullopt;
  if (rest.size() > 5 && rest.compare(rest.size() - 5, 5, ".json") == 0) rest.resize(rest.size() - 5);
  if (rest == "/describe") return text_answer(200, "emoncms");
  if (rest != "/input/post" && rest != "/input/bulk") return std::nullopt;
  if (req.method != "GET" && req.method != "POST") return failure(405, "use GET or POST");
  return input(req, target, rest == "/input/bulk");
}

HttpResponse EmoncmsRoutes::input(const HttpRequest& req, const RequestTarget& target, bool bulk) {
  ++requests_;
  const int64_t now = context_.now_ms();
  const emoncms::InputParams params = params_of(req, target);
  const std::string key = api_key_of(req, params);
  const std::string address = req.remote_address.empty() ? "?" : req.remote_address;
  // Per address only: a key is not a name an attacker could lock another uploader out with.
  const std::string throttle_key = "emoncms@" + address;
  auto meter = key.empty() ? Expected<std::string>(Error::not_found("no key"))
                           : context_.deps().device_keys->meter_of(ingest::DeviceProtocol::kEmoncms, key);
  if (!meter.ok()) {
    ++refused_key_;
    HttpResponse r = failure(401, key.empty() ? "apikey missing: give apikey= or Authorization: Bearer <apikey>"
                                              : "invalid API key");
    r.delay_ms = static_cast<int>(key_throttle_.record_failure(throttle_key, address, now));
    return r;
  }
  const int64_t now_s = now / 1000;
  std::vector<emoncms::InputFrame> frames;
  if (bulk) {
    auto parsed = emoncms::parse_input_bulk(params, now_s);
    if (!parsed.ok()) {
      ++refused_input_;
      return failure(400, parsed.error().message);
    }
    frames = std::move(parsed).value();
  } else {
    auto parsed = emoncms::parse_input_post(params, now_s);
    if (!parsed.ok()) {
      ++refused_input_;
      return failure(400, parsed.error().message);
    }
    frames.push_back(std::move(parsed).value());
  }
  ingest::IngestService& ingest = *context_.deps().ingest;
  std::lock_guard lock(submit_mutex_);
  std::optional<protocol::Reading> previous;
  if (const auto live = ingest.live_state(meter.value()); live && live->last_reading) previous = live->last_reading;
  if (auto it = last_submitted_.find(meter.value());
      it != last_submitted_.end() && (!previous || it->second.time_ms >= previous->time_ms)) {
    previous = it->second;
  }
  // Every frame is turned into a checked reading before any is handed over: a request is taken whole or not.
  std::vector<protocol::Reading> readings;
  readings.reserve(frames.size());
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const int64_t t_ms = frames[i].time_s ? *frames[i].time_s * 1000 : now;
    auto r = emoncms::frame_to_reading(frames[i], map_of(meter.value()), meter.value(), t_ms,
                                       previous ? &*previous : nullptr);
    if (r.ok()) {
      protocol::Reading check = r.value();
      check.seq = 1;
      if (auto ok = protocol::validate(check, protocol::DecodeContext{now, meter.value()}); !ok.ok()) {
        r = std::move(ok).error();
      }
    }
    if (!r.ok()) {
      ++refused_input_;
      const std::string where = bulk ? "data[" + std::to_string(i) + "]: " : "";
      return failure(400, where + r.error().message);
    }
    previous = r.value();
    readings.push_back(std::move(r).value());
  }
  for (protocol::Reading& r : readings) {
    if (auto st = ingest.submit_reading(r, now); !st.ok()) {
      ++refused_input_;
      return failure(st.error().code == ErrorCode::kNotFound ? 401 : 400, st.error().message);
    }
    ++frames_accepted_;
    last_submitted_[r.meter_id] = r;
  }
  return text_answer(200, "ok");
}

}  // namespace wattguard::api
