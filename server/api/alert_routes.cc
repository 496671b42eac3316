// Alert and audit routes.
#include "server/api/alert_routes.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "server/api/route_support.h"
#include "wattguard/alerts/alert_json.h"

namespace wattguard::api {
namespace {

using nlohmann::json;

constexpr int64_t kDefaultLimit = 100;
constexpr int64_t kMaxLimit = 1000;
constexpr std::size_t kMaxNote = 1000;

HttpResponse alert_not_found(const std::string& id) {
  return error_response(404, "alert_not_found", "id", "no alert '" + id + "'");
}

Expected<int64_t> limit_param(const RequestTarget& t) { return int_param(t, "limit", 1, kMaxLimit, kDefaultLimit); }

}  // namespace

AlertRoutes::AlertRoutes(AlertRoutesDeps deps) : deps_(std::move(deps)) {}

std::map<std::string, int> AlertRoutes::open_counts(const Caller& caller) {
  return deps_.alerts->open_counts(!caller.can_read_all());
}
int AlertRoutes::open_count(const std::string& meter_id, const Caller& caller) {
  return deps_.alerts->open_count(meter_id, !caller.can_read_all());
}
int AlertRoutes::open_total() {
  int total = 0;
  for (const auto& [meter, n] : deps_.alerts->open_counts()) total += n;
  return total;
}

std::optional<HttpResponse> AlertRoutes::handle(const HttpRequest& req, const RequestTarget& target,
                                                const std::vector<std::string>& seg, const Caller& caller) {
  const std::size_t n = seg.size();
  const std::string& m = req.method;
  if (n == 3 && seg[2] == "audit") return m == "GET" ? audit_log(target, caller) : method_not_allowed("GET");
  if (n < 3 || seg[2] != "alerts") return std::nullopt;
  if (n == 3) return m == "GET" ? list(target, caller) : method_not_allowed("GET");
  if (n == 4) return m == "GET" ? get(seg[3], caller) : method_not_allowed("GET");
  if (n == 5 && (seg[4] == "acknowledge" || seg[4] == "close")) {
    return m == "POST" ? change(req, seg[3], seg[4], caller) : method_not_allowed("POST");
  }
  return std::nullopt;
}

std::vector<std::string> AlertRoutes::own_meters(const Caller& caller) {
  std::vector<std::string> out;
  const auto meters = deps_.store->list_meters();
  if (!meters.ok()) return out;
  const std::string me = ascii_lower(caller.name);
  for (const auto& info : *meters)
    if (!info.owner.empty() && ascii_lower(info.owner) == me) out.push_back(info.id);
  return out;
}

HttpResponse AlertRoutes::list(const RequestTarget& target, const Caller& caller) {
  alerts::AlertQuery q;
  const auto limit = limit_param(target);
  if (!limit.ok()) return bad_param(limit.error());
  q.limit = static_cast<std::size_t>(*limit);
  if (const std::string* v = target.param("meter")) q.meter_id = *v;
  if (const std::string* v = target.param("transformer")) q.transformer_id = *v;
  if (const std::string* v = target.param("area")) q.area = *v;
  if (const std::string* v = target.param("state")) {
    if (*v != "all") {
      q.state = alerts::alert_state_from_name(*v);
      if (!q.state) return bad_param("state", "state = '" + *v + "': expected open, acknowledged, closed or all");
    }
  }
  const bool consumer = !caller.can_read_all();
  if (consumer) {
    q.only_meters = own_meters(caller);
    q.only_kinds = alerts::consumer_visible_kinds();
  }
  json list = json::array();
  for (const auto& a : deps_.alerts->list(q))
    list.push_back(consumer ? alerts::alert_to_consumer_json(a) : alerts::alert_to_json(a));
  return json_response(200, json{{"alerts", std::move(list)}});
}

HttpResponse AlertRoutes::get(const std::string& id_text, const Caller& caller) {
  const auto id = parse_int_value(id_text, 1, INT64_MAX);
  if (!id) return bad_param("id", "id = '" + id_text + "': expected a positive integer");
  const auto a = deps_.alerts->get(*id);
  if (!a) return alert_not_found(id_text);
  if (!caller.can_read_all()) {
    const auto own = own_meters(caller);
    // 404, not 403: do not reveal alerts of other people's meters, nor that an investigation exists.
    if (a->meter_id.empty() || std::find(own.begin(), own.end(), a->meter_id) == own.end() ||
        !alerts::is_consumer_visible(a->kind))
      return alert_not_found(id_text);
    return json_response(200, json{{"alert", alerts::alert_to_consumer_json(*a)}});
  }
  return json_response(200, json{{"alert", alerts::alert_to_json(*a)}});
}

HttpResponse AlertRoutes::change(const HttpRequest& req, const std::string& id_text, const std::string& action,
                                 const Caller& caller) {
  if (!caller.can_command()) return forbidden("acknowledging or closing alerts needs an operator or admin");
  const auto id = parse_int_value(id_text, 1, INT64_MAX);
  if (!id) return bad_param("id", "id = '" + id_text + "': expected a positive integer");
  std::string note;
  if (!req.body.empty()) {
    const json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) return bad_param("body", "the body is not a JSON object");
    if (const auto it = body.find("note"); it != body.end() && !it->is_null()) {
      if (!it->is_string()) return bad_param("note", "note must be a string");
      note = it->get<std::string>();
      if (note.size() > kMaxNote) return bad_param("note", "note is limited to 1000 characters");
    }
  }
  const auto before = deps_.alerts->get(*id);
  if (!before) return alert_not_found(id_text);
  const auto updated = action == "close" ? deps_.alerts->close(*id, caller.name, note)
                                         : deps_.alerts->acknowledge(*id, caller.name, note);
  if (!updated.ok()) {
    const Error& e = updated.error();
    if (e.code == ErrorCode::kNotFound) return alert_not_found(id_text);
    if (e.reason == alerts::kAlertAlreadyClosed) {
      return error_response(409, "alert_closed", "id", "alert " + id_text + " is already closed");
    }
    return error_response(500, "storage_error", "", "the database could not answer; see the server log");
  }
  storage::AuditEntry e;
  e.time_ms = deps_.now_ms ? deps_.now_ms() : deps_.alerts->now_ms();
  e.actor = caller.name;
  e.action = "alert." + action;
  e.target = before->meter_id.empty() ? before->transformer_id : before->meter_id;
  e.details = "alert " + id_text + " (" + before->kind + ")" + (note.empty() ? "" : ": " + note);
  if (auto r = deps_.store->append_audit(e); !r.ok()) spdlog::warn("api: audit of alert {} not written", id_text);
  return json_response(200, json{{"alert", alerts::alert_to_json(*deps_.alerts->get(*id))}});
}

HttpResponse AlertRoutes::audit_log(const RequestTarget& target, const Caller& caller) {
  if (!caller.can_command()) return forbidden("the audit log needs an operator or admin");
  const auto limit = limit_param(target);
  if (!limit.ok()) return bad_param(limit.error());
  const std::string* meter = target.param("meter");
  const auto entries = deps_.store->audit(meter ? *meter : std::string(), static_cast<std::size_t>(*limit));
  if (!entries.ok())
    return error_response(500, "storage_error", "", "the database could not answer; see the server log");
  json list = json::array();
  for (const auto& e : *entries) {
    list.push_back({{"id", e.id},
                    {"time_ms", e.time_ms},
                    {"actor", e.actor},
                    {"action", e.action},
                    {"target", e.target},
                    {"details", e.details}});
  }
  return json_response(200, json{{"audit", std::move(list)}});
}

}  // namespace wattguard::api
