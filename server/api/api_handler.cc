// Routing, authentication, authorisation and the JSON routes of the API.
#include "wattguard/api/api_handler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <map>
#include <string_view>
#include <unordered_map>
#include <variant>

#include "wattguard/base/decimal_round.h"
#include "server/api/alert_routes.h"
#include "server/api/api_json.h"
#include "server/api/grid_routes.h"
#include "wattguard/protocol/topics.h"

namespace wattguard::api {
namespace {

using nlohmann::json;

constexpr std::string_view kApiPrefix = "/api/";
constexpr std::size_t kDefaultMeterLimit = 1000;
constexpr std::size_t kMaxMeterLimit = 100000;
constexpr int64_t kDefaultRangeMs = kDayMs;
constexpr int64_t kDefaultMaxPoints = 5000;
constexpr int64_t kMaxPoints = 100000;

int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

HttpResponse bad_param(std::string_view field, std::string_view message) {
  return error_response(400, "bad_parameter", field, message);
}

HttpResponse unauthorized(std::string_view message) {
  HttpResponse r = error_response(401, "unauthorized", "", message);
  r.set_header("WWW-Authenticate", "Bearer realm=\"wattguard\"");
  return r;
}

HttpResponse forbidden(std::string_view message) { return error_response(403, "forbidden", "", message); }

HttpResponse meter_not_found(const std::string& id) {
  return error_response(404, "meter_not_found", "id", "no meter '" + id + "'");
}

HttpResponse not_found() { return error_response(404, "not_found", "", "no such API route"); }

HttpResponse method_not_allowed(std::string_view allow) {
  HttpResponse r = error_response(405, "method_not_allowed", "", "method not allowed here; allowed: " + std::string(allow));
  r.set_header("Allow", std::string(allow));
  return r;
}

HttpResponse no_content() {
  HttpResponse r;
  r.status = 204;
  r.set_header("Cache-Control", "no-store");
  return r;
}

HttpResponse storage_error(const storage::StoreStatus& status) {
  spdlog::error("api: storage error: {} ({})", status.message, storage::store_code_name(status.code));
  return error_response(500, "storage_error", "", "the database could not answer; see the server log");
}

// The body as a JSON object, or the 400 to answer.
std::optional<json> json_body(const HttpRequest& req, HttpResponse* refusal) {
  if (req.body.empty()) {
    *refusal = bad_param("body", "a JSON object body is required");
    return std::nullopt;
  }
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    *refusal = bad_param("body", "the body is not a JSON object");
    return std::nullopt;
  }
  return body;
}

// A string member of `body`: nullopt when absent; sets *refusal when present but not a string.
std::optional<std::string> string_member(const json& body, const char* name, HttpResponse* refusal, bool* bad) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) {
    *refusal = bad_param(name, std::string(name) + " must be a string");
    *bad = true;
    return std::nullopt;
  }
  return it->get<std::string>();
}

bool is_loopback_host(const std::string& host_header) {
  std::string host = ascii_lower(host_header);
  if (!host.empty() && host[0] == '[') {
    const auto end = host.find(']');
    return host.substr(0, end + 1) == "[::1]";
  }
  host = host.substr(0, host.find(':'));
  return host == "localhost" || host.rfind("127.", 0) == 0;
}

std::string caller_label(const Caller& c) { return c.name; }

// Parses a time parameter into *out_ms; returns false (and the 400) when malformed.
bool time_param(const RequestTarget& t, const char* name, int64_t* out_ms, HttpResponse* refusal) {
  const std::string* v = t.param(name);
  if (v == nullptr) return true;
  const auto s = parse_time_value(*v);
  if (!s) {
    *refusal = bad_param(name, std::string(name) + " = '" + *v +
                                   "': expected Unix seconds or ISO 8601 (e.g. 2024-05-01T10:00:00Z)");
    return false;
  }
  *out_ms = *s * 1000;
  return true;
}

bool int_param(const RequestTarget& t, const char* name, int64_t lo, int64_t hi, int64_t* out, HttpResponse* refusal) {
  const std::string* v = t.param(name);
  if (v == nullptr) return true;
  const auto n = parse_int_value(*v, lo, hi);
  if (!n) {
    *refusal = bad_param(name, std::string(name) + " = '" + *v + "': expected an integer from " + std::to_string(lo) +
                                   " to " + std::to_string(hi));
    return false;
  }
  *out = *n;
  return true;
}


// ?fields=fleet: what the fleet page shows, rounded, at about half the size.
}  // namespace

std::string cookie_value(const HttpRequest& req, std::string_view name) {
  for (const auto& [key, value] : req.headers) {
    if (key != "cookie") continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      const auto semi = rest.find(';');
      std::string_view item = rest.substr(0, semi);
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      const auto eq = item.find('=');
      if (eq != std::string_view::npos && item.substr(0, eq) == name) return std::string(item.substr(eq + 1));
    }
  }
  return "";
}

bool same_origin(const HttpRequest& req) {
  const std::string* origin = req.header("origin");
  if (origin == nullptr) return true;  // not a browser cross-origin request
  const std::string* host = req.header("host");
  if (host == nullptr) return false;
  const auto scheme_end = origin->find("://");
  if (scheme_end == std::string::npos) return false;  // includes "null"
  return ascii_lower(origin->substr(scheme_end + 3)) == ascii_lower(*host);
}

ApiHandler::ApiHandler(ApiDeps deps)
    : deps_(std::move(deps)),
      password_cost_(password_cost_from_name(deps_.auth_config.password_cost).value_or(PasswordCost::kInteractive)),
      throttle_(deps_.auth_config.login_delay_base_ms, deps_.auth_config.login_delay_max_ms),
      directory_(*deps_.store, 5000),
      day_start_(*deps_.store),
      static_files_(deps_.static_dir) {
  if (!deps_.now_ms) deps_.now_ms = system_now_ms;
  started_ms_ = deps_.now_ms();
}

HttpResponse ApiHandler::handle(const HttpRequest& req) {
  const auto target = parse_target(req.target);
  if (!target) return bad_param("target", "malformed request target (bad percent-encoding?)");
  return route(req, *target);
}

HttpResponse ApiHandler::route(const HttpRequest& req, const RequestTarget& target) {
  if (target.path.compare(0, kApiPrefix.size(), kApiPrefix) != 0 && target.path != "/api") {
    return static_files_.serve(req, target.path);
  }
  const std::vector<std::string> seg = path_segments(target.path);
  if (seg.size() < 2 || seg[1] != "v1") return not_found();
  return route_api(req, target, seg);
}

HttpResponse ApiHandler::route_api(const HttpRequest& req, const RequestTarget& target,
                                   const std::vector<std::string>& seg) {
  const std::string& m = req.method;
  const std::size_t n = seg.size();
  // Sign-in and sign-out need no (valid) credentials.
  if (n == 3 && seg[2] == "session") {
    if (m == "POST") return sign_in(req);
    if (m == "DELETE") return sign_out(req);
  }

  HttpResponse refusal;
  const auto caller = authenticate(req, &refusal);
  if (!caller) return refusal;
  // A browser form or script on another site cannot use the session cookie to change anything.
  if (caller->via_session && m != "GET" && m != "HEAD" && !same_origin(req)) {
    return forbidden("cross-origin request refused");
  }

  if (n == 3 && seg[2] == "session") return m == "GET" ? session_info(*caller) : method_not_allowed("GET, POST, DELETE");
  if (n == 4 && seg[2] == "session" && seg[3] == "me") {
    return m == "GET" ? session_info(*caller) : method_not_allowed("GET");
  }
  if (n == 3 && seg[2] == "health") return m == "GET" ? health(*caller) : method_not_allowed("GET");
  if (n == 3 && seg[2] == "live") {
    return error_response(426, "upgrade_required", "", "connect with a WebSocket to receive the live feed");
  }
  if (n >= 3 && seg[2] == "meters") {
    if (n == 3) return m == "GET" ? list_meters(*caller, target) : method_not_allowed("GET");
    const std::string& id = seg[3];
    if (n == 4) return m == "GET" ? get_meter(*caller, id) : method_not_allowed("GET");
    if (n == 5 && seg[4] == "readings") return m == "GET" ? meter_readings(*caller, id, target) : method_not_allowed("GET");
    if (n == 5 && seg[4] == "events") return m == "GET" ? meter_events(*caller, id, target) : method_not_allowed("GET");
    if (n == 5 && seg[4] == "commands") {
      if (m == "POST") return send_command(req, *caller, id);
      if (m == "GET") return list_commands(*caller, id, target);
      return method_not_allowed("GET, POST");
    }
    if (n == 6 && seg[4] == "commands") return m == "GET" ? get_command(*caller, id, seg[5]) : method_not_allowed("GET");
  }
  if (n >= 3 && seg[2] == "users") {
    if (n == 3) {
      if (m == "GET") return list_users(*caller);
      if (m == "POST") return add_user(req, *caller);
      return method_not_allowed("GET, POST");
    }
    if (n == 4) {
      if (m == "GET") return get_user(*caller, seg[3]);
      if (m == "PATCH") return update_user(req, *caller, seg[3]);
      if (m == "DELETE") return delete_user(*caller, seg[3]);
      return method_not_allowed("GET, PATCH, DELETE");
    }
    if (n == 5 && seg[4] == "meters") return m == "PUT" ? set_user_meters(req, *caller, seg[3]) : method_not_allowed("PUT");
  }
  if (n >= 3 && seg[2] == "tokens") {
    if (n == 3) {
      if (m == "GET") return list_tokens(*caller);
      if (m == "POST") return add_token(req, *caller);
      return method_not_allowed("GET, POST");
    }
    if (n == 4) return m == "DELETE" ? revoke_token(*caller, seg[3]) : method_not_allowed("DELETE");
  }
  if (deps_.grid) {
    if (auto grid = deps_.grid->handle(req, target, seg, *caller)) return std::move(*grid);
  }
  if (deps_.alerts) {
    if (auto alerts = deps_.alerts->handle(req, target, seg, *caller)) return std::move(*alerts);
  }
  if (deps_.extra_route) {
    if (auto extra = deps_.extra_route(req, target, *caller)) return std::move(*extra);
  }
  return not_found();
}

// ---------------------------------------------------------------------------------------------
// Authentication

std::optional<Caller> ApiHandler::authenticate(const HttpRequest& req, HttpResponse* refusal) {
  if (const std::string* auth = req.header("authorization")) {
    constexpr std::string_view kBearer = "bearer ";
    if (auth->size() <= kBearer.size() || ascii_lower(auth->substr(0, kBearer.size())) != kBearer) {
      *refusal = unauthorized("the Authorization header must be 'Bearer <token>'");
      return std::nullopt;
    }
    const std::string token = auth->substr(kBearer.size());
    const auto info = deps_.auth->find_token(token);
    if (!info) {
      *refusal = unauthorized("unknown or revoked API token");
      return std::nullopt;
    }
    Caller c;
    c.name = "token:" + std::to_string(info->id);
    c.access = info->scope == TokenScope::kAdmin ? Access::kAdmin : Access::kReadAll;
    c.token = info;
    return c;
  }
  const std::string sid = cookie_value(req, kSessionCookie);
  if (sid.empty()) {
    *refusal = unauthorized("sign in (POST /api/v1/session) or send an API token");
    return std::nullopt;
  }
  const auto session = deps_.auth->session_user(sid, now_ms() / 1000);
  if (!session) {
    *refusal = unauthorized("the session has expired or ended; sign in again");
    refusal->add_header("Set-Cookie", session_cookie(req, "", 0));
    return std::nullopt;
  }
  Caller c;
  c.name = session->user.name;
  switch (session->user.role) {
    case Role::kConsumer: c.access = Access::kConsumer; break;
    case Role::kOperator: c.access = Access::kOperate; break;
    case Role::kAdmin: c.access = Access::kAdmin; break;
  }
  c.via_session = true;
  c.user = session->user;
  c.session_expires_ms = session->expires_at_s * 1000;
  return c;
}

std::string ApiHandler::session_cookie(const HttpRequest& req, const std::string& value, int64_t max_age_s) {
  std::string cookie = std::string(kSessionCookie) + "=" + value + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                       std::to_string(max_age_s);
  bool secure = false;
  switch (deps_.auth_config.cookie_secure) {
    case CookieSecure::kAlways: secure = true; break;
    case CookieSecure::kNever: secure = false; break;
    case CookieSecure::kAuto: {
      // Plain HTTP to a loopback address never leaves the machine, and browsers would refuse a
      // Secure cookie there only in some versions; everywhere else require HTTPS (a TLS proxy).
      const std::string* host = req.header("host");
      const std::string* proto = req.header("x-forwarded-proto");
      secure = (proto != nullptr && ascii_lower(*proto) == "https") || host == nullptr || !is_loopback_host(*host);
      if (secure && (proto == nullptr || ascii_lower(*proto) != "https") && !value.empty()) {
        std::call_once(insecure_cookie_warning_, [] {
          spdlog::warn(
              "api: sign-in over plain HTTP from a non-loopback address: the session cookie is marked Secure, so "
              "browsers will only keep it over HTTPS. Put a TLS proxy in front (sending X-Forwarded-Proto: https) "
              "or set auth.cookie_secure = \"never\" on a trusted network.");
        });
      }
      break;
    }
  }
  if (secure) cookie += "; Secure";
  return cookie;
}

HttpResponse ApiHandler::sign_in(const HttpRequest& req) {
  HttpResponse refusal;
  const auto body = json_body(req, &refusal);
  if (!body) return refusal;
  bool bad = false;
  const auto name = string_member(*body, "name", &refusal, &bad);
  if (bad) return refusal;
  const auto password = string_member(*body, "password", &refusal, &bad);
  if (bad) return refusal;
  if (!name || name->empty()) return bad_param("name", "name is required");
  if (!password || password->empty()) return bad_param("password", "password is required");
  if (name->size() > 256 || password->size() > 1024) return bad_param("name", "name or password too long");

  const int64_t now = now_ms();
  const int64_t wait = throttle_.wait_ms(*name, req.remote_address, now);
  if (wait > 0) {
    // Another attempt while the previous failure's delay runs (parallel guessing). Same answer
    // whether or not the user exists.
    const int64_t wait_s = (wait + 999) / 1000;
    HttpResponse r = error_response(429, "too_many_attempts", "",
                                    "too many failed sign-ins; try again in " + std::to_string(wait_s) + " s");
    r.set_header("Retry-After", std::to_string(wait_s));
    return r;
  }
  const auto user = deps_.auth->check_password(*name, *password, password_cost_);
  if (!user) {
    const int64_t delay = throttle_.record_failure(*name, req.remote_address, now_ms());
    spdlog::info("api: failed sign-in for '{}' from {}", *name, req.remote_address);
    HttpResponse r = error_response(401, "bad_credentials", "", "wrong user name or password");
    // The answer itself waits out the delay, so a client trying one password after another
    // is slowed down without ever seeing a 429.
    r.delay_ms = static_cast<int>(delay);
    return r;
  }
  throttle_.record_success(*name);
  const int64_t ttl_s = deps_.auth_config.session_ttl_s;
  const std::string sid = deps_.auth->create_session(user->id, now / 1000, ttl_s);
  if (sid.empty()) return error_response(500, "storage_error", "", "could not create the session");
  spdlog::info("api: '{}' signed in from {}", user->name, req.remote_address);
  HttpResponse r = json_response(200, json{{"user", user_json(*user, meters_of(user->name))},
                                           {"expires_ms", (now / 1000 + ttl_s) * 1000}});
  r.add_header("Set-Cookie", session_cookie(req, sid, ttl_s));
  return r;
}

HttpResponse ApiHandler::sign_out(const HttpRequest& req) {
  const std::string sid = cookie_value(req, kSessionCookie);
  if (!sid.empty()) {
    if (!same_origin(req)) return forbidden("cross-origin request refused");
    deps_.auth->delete_session(sid);
  }
  HttpResponse r = no_content();
  r.add_header("Set-Cookie", session_cookie(req, "", 0));
  return r;
}

HttpResponse ApiHandler::session_info(const Caller& caller) {
  if (caller.user) {
    return json_response(200, json{{"user", user_json(*caller.user, meters_of(caller.user->name))},
                                   {"expires_ms", caller.session_expires_ms}});
  }
  const TokenInfo& t = *caller.token;
  return json_response(200, json{{"token",
                                  {{"id", t.id},
                                   {"scope", scope_name(t.scope)},
                                   {"label", t.label},
                                   {"created_ms", t.created_at_s * 1000}}}});
}

std::vector<std::string> ApiHandler::meters_of(const std::string& user_name) {
  return directory_.get(now_ms())->owned_by(user_name);
}

void ApiHandler::audit(const Caller& caller, const std::string& action, const std::string& target,
                       const std::string& details) {
  storage::AuditEntry e;
  e.time_ms = now_ms();
  e.actor = caller_label(caller);
  e.action = action;
  e.target = target;
  e.details = details;
  const auto r = deps_.store->append_audit(e);
  if (!r.ok()) spdlog::warn("api: audit entry {} {} not written: {}", action, target, r.error().message);
}

// ---------------------------------------------------------------------------------------------
// Health

HttpResponse ApiHandler::health(const Caller& caller) {
  if (!caller.can_read_all()) return forbidden("health is for operators and API tokens");
  const ingest::IngestHealth h = deps_.ingest->health();
  const LiveHub::Stats live = deps_.hub->stats();
  const int64_t now = now_ms();
  json rejected = json::object();
  for (const auto& [reason, count] : h.rejected) rejected[reason] = count;
  json body = {
      {"status", h.connected ? "ok" : "degraded"},
      {"now_ms", now},
      {"uptime_s", (now - started_ms_) / 1000},
      {"mqtt", {{"connected", h.connected}, {"connects", h.connects}, {"messages_received", h.messages_received}}},
      {"readings",
       {{"received", h.readings_received},
        {"stored", h.readings_stored},
        {"duplicate", h.readings_duplicate},
        {"late", h.readings_late},
        {"pending", h.pending_readings}}},
      {"rejected", {{"total", h.rejected_total}, {"by_reason", std::move(rejected)}}},
      {"meters", {{"known", h.meters_known}, {"online", h.meters_online}, {"stale", h.meters_stale}, {"offline", h.meters_offline}}},
      {"events_stored", h.events_stored},
      {"statuses_received", h.statuses_received},
      {"commands", {{"sent", h.commands_sent}, {"acks_received", h.acks_received}, {"timed_out", h.commands_timed_out}}},
      {"storage", {{"batches_written", h.batches_written}, {"errors", h.store_errors}}},
      {"live",
       {{"clients", live.clients},
        {"messages_published", live.published},
        {"dropped_clients", live.dropped_clients}}},
  };
  if (deps_.open_connections) body["http"] = {{"open_connections", deps_.open_connections()}};
  return json_response(200, body);
}

// ---------------------------------------------------------------------------------------------
// Meters

std::optional<storage::MeterInfo> ApiHandler::visible_meter(const Caller& caller, const std::string& id) {
  const auto snap = directory_.get(now_ms());
  const storage::MeterInfo* info = snap->find(id);
  if (info == nullptr) {
    // Possibly provisioned since the last reload.
    if (!protocol::is_valid_meter_id(id) || !deps_.store->has_meter(id)) return std::nullopt;
    directory_.invalidate();
    info = directory_.get(now_ms())->find(id);
    if (info == nullptr) return std::nullopt;
  }
  if (caller.access == Access::kConsumer && ascii_lower(info->owner) != ascii_lower(caller.name)) {
    return std::nullopt;  // 404, not 403: do not reveal that someone else's meter exists
  }
  return *info;
}

ApiHandler::MeterRow ApiHandler::meter_row(const storage::MeterInfo& info, const ingest::MeterLive* live,
                                           int64_t now_ms) {
  MeterRow row;
  row.info = &info;
  row.live = live;
  row.period_s = deps_.default_period_s;
  if (live == nullptr) return row;
  if (live->period_s > 0) row.period_s = static_cast<int>(live->period_s);
  row.status = ingest::connectivity_name(live->connectivity);
  // Stale (ingest's verdict), or online but silent for over two periods: not yet offline (that takes
  // ingest.offline_after_periods) but the values shown are getting old.
  row.stale = live->connectivity == ingest::Connectivity::kStale ||
              (live->connectivity == ingest::Connectivity::kOnline && live->last_seen_ms > 0 &&
               now_ms - live->last_seen_ms > 2LL * row.period_s * 1000);
  if (live->last_reading) {
    const protocol::Reading& r = *live->last_reading;
    if (std::isfinite(r.p_w)) row.p_w = r.p_w;
    row.day_start_import_wh = day_start_.day_start_import_wh(info.id, now_ms, r.time_ms, r.e_import_wh);
    if (row.day_start_import_wh) {
      const bool today = r.time_ms >= now_ms - ((now_ms % kDayMs) + kDayMs) % kDayMs;
      row.today_import_wh = today ? std::max(0.0, r.e_import_wh - *row.day_start_import_wh) : 0.0;
    }
  }
  return row;
}

// Built member by member rather than from initializer lists: the fleet page asks for every meter at once, and
// this runs 10,000 times per request there.
json ApiHandler::meter_json(const MeterRow& row, bool fleet_fields) const {
  const storage::MeterInfo& info = *row.info;
  const ingest::MeterLive* live = row.live;
  const auto optional_number = [fleet_fields](const std::optional<double>& v) {
    if (!v) return json(nullptr);
    return json(fleet_fields ? round_to_step(*v, 0.1) : *v);
  };
  json j = json::object();
  j["id"] = info.id;
  j["name"] = info.name;
  j["area"] = info.area;
  j["owner"] = info.owner;
  j["created_ms"] = info.created_ms;
  j["status"] = row.status;
  j["since_ms"] = live != nullptr ? live->since_ms : 0;
  j["last_seen_ms"] = live != nullptr ? live->last_seen_ms : 0;
  j["offline_reason"] = live != nullptr ? live->offline_reason : std::string();
  j["period_s"] = row.period_s;
  j["relay"] = live != nullptr ? protocol::relay_state_name(live->relay) : "unknown";
  j["stale"] = row.stale;
  j["alerts_open"] = row.alerts_open;
  if (live != nullptr && live->last_reading) {
    const protocol::Reading& r = *live->last_reading;
    if (fleet_fields) {
      // The fleet list shows power, voltage and energy only, to 0.1: a third of the bytes of the full reading.
      json slim = json::object();
      slim["time_ms"] = r.time_ms;
      slim["flags"] = r.flags;
      for (const auto& [key, value] : {std::pair{"vrms", r.vrms}, std::pair{"p_w", r.p_w}, std::pair{"e_import_wh", r.e_import_wh}}) {
        slim[key] = std::isfinite(value) ? json(round_to_step(value, 0.1)) : json(nullptr);
      }
      j["last_reading"] = std::move(slim);
    } else {
      j["last_reading"] = reading_json(r);
    }
    j["tamper"] = active_tamper(r.flags);
  } else {
    j["last_reading"] = nullptr;
    j["tamper"] = json::array();
  }
  j["today_import_wh"] = optional_number(row.today_import_wh);
  j["day_start_import_wh"] = optional_number(row.day_start_import_wh);
  return j;
}

HttpResponse ApiHandler::list_meters(const Caller& caller, const RequestTarget& target) {
  HttpResponse refusal;
  int64_t limit = kDefaultMeterLimit;
  int64_t offset = 0;
  if (!int_param(target, "limit", 1, kMaxMeterLimit, &limit, &refusal)) return refusal;
  if (!int_param(target, "offset", 0, INT32_MAX, &offset, &refusal)) return refusal;
  std::string status_filter;
  if (const std::string* s = target.param("status")) {
    if (*s != "online" && *s != "offline" && *s != "unknown" && *s != "stale") {
      return bad_param("status", "status = '" + *s + "': expected online, offline, unknown or stale");
    }
    status_filter = *s;
  }
  bool fleet_fields = false;
  if (const std::string* f = target.param("fields")) {
    if (*f != "fleet" && *f != "all") return bad_param("fields", "fields = '" + *f + "': expected fleet or all");
    fleet_fields = *f == "fleet";
  }
  const std::string q = target.param("q") != nullptr ? ascii_lower(*target.param("q")) : "";
  const std::string* area = target.param("area");
  std::string sort = target.param("sort") != nullptr ? *target.param("sort") : "id";
  const bool descending = !sort.empty() && sort[0] == '-';
  if (descending) sort.erase(0, 1);
  static const char* kSorts[] = {"id", "name", "area", "status", "p_w", "last_seen_ms", "today_import_wh"};
  if (std::find(std::begin(kSorts), std::end(kSorts), sort) == std::end(kSorts)) {
    return bad_param("sort", "sort = '" + sort +
                                 "': expected id, name, area, status, p_w, last_seen_ms or today_import_wh "
                                 "(prefix - for descending)");
  }

  const int64_t now = now_ms();
  const auto snap = directory_.get(now);
  const std::vector<ingest::MeterLive> live_states = deps_.ingest->live_states();
  std::unordered_map<std::string_view, const ingest::MeterLive*> live;
  live.reserve(live_states.size());
  for (const auto& m : live_states) live.emplace(m.meter_id, &m);
  const std::map<std::string, int> alerts_open = deps_.alerts ? deps_.alerts->open_counts() : std::map<std::string, int>{};

  // Filter and sort plain rows; only the page is turned into JSON.
  std::vector<MeterRow> rows;
  const auto consider = [&](const storage::MeterInfo& info) {
    if (area != nullptr && info.area != *area) return;
    if (!q.empty()) {
      const bool hit = ascii_lower(info.id).find(q) != std::string::npos ||
                       ascii_lower(info.name).find(q) != std::string::npos ||
                       ascii_lower(info.area).find(q) != std::string::npos ||
                       ascii_lower(info.owner).find(q) != std::string::npos;
      if (!hit) return;
    }
    const auto it = live.find(info.id);
    MeterRow row = meter_row(info, it == live.end() ? nullptr : it->second, now);
    if (const auto open = alerts_open.find(info.id); open != alerts_open.end()) row.alerts_open = open->second;
    if (!status_filter.empty()) {
      if (status_filter == "stale" ? !row.stale : row.status != status_filter) return;
    }
    rows.push_back(row);
  };
  if (caller.access == Access::kConsumer) {
    for (const auto& id : snap->owned_by(caller.name)) {
      if (const auto* info = snap->find(id)) consider(*info);
    }
  } else {
    rows.reserve(snap->meters.size());
    for (const auto& info : snap->meters) consider(info);
  }

  if (sort != "id" || descending) {
    // Missing values sort last either way.
    using Key = std::variant<std::monostate, std::string_view, double>;
    const auto key = [&sort](const MeterRow& r) -> Key {
      if (sort == "id") return std::string_view(r.info->id);
      if (sort == "name") return std::string_view(r.info->name);
      if (sort == "area") return std::string_view(r.info->area);
      if (sort == "status") return r.status;
      if (sort == "last_seen_ms") return static_cast<double>(r.live != nullptr ? r.live->last_seen_ms : 0);
      const std::optional<double>& v = sort == "p_w" ? r.p_w : r.today_import_wh;
      return v ? Key(*v) : Key();
    };
    std::stable_sort(rows.begin(), rows.end(), [&](const MeterRow& a, const MeterRow& b) {
      const Key ka = key(a);
      const Key kb = key(b);
      const bool na = std::holds_alternative<std::monostate>(ka);
      const bool nb = std::holds_alternative<std::monostate>(kb);
      if (na != nb) return nb;
      if (na) return false;
      return descending ? kb < ka : ka < kb;
    });
  }
  const std::size_t total = rows.size();
  json meters = json::array();
  for (std::size_t i = static_cast<std::size_t>(offset); i < total && meters.size() < static_cast<std::size_t>(limit);
       ++i) {
    meters.push_back(meter_json(rows[i], fleet_fields));
  }
  return json_response(200, json{{"now_ms", now},
                                 {"total", total},
                                 {"offset", offset},
                                 {"limit", limit},
                                 {"meters", std::move(meters)}});
}

HttpResponse ApiHandler::get_meter(const Caller& caller, const std::string& id) {
  const auto info = visible_meter(caller, id);
  if (!info) return meter_not_found(id);
  const int64_t now = now_ms();
  const std::optional<ingest::MeterLive> live = deps_.ingest->live_state(id);
  json body = meter_json(meter_row(*info, live ? &*live : nullptr, now), false);
  body["now_ms"] = now;
  if (deps_.alerts) body["alerts_open"] = deps_.alerts->open_count(id);
  return json_response(200, json{{"meter", std::move(body)}});
}

HttpResponse ApiHandler::meter_readings(const Caller& caller, const std::string& id, const RequestTarget& target) {
  HttpResponse refusal;
  const int64_t now = now_ms();
  int64_t to_ms = now;
  int64_t from_ms = INT64_MIN;
  if (!time_param(target, "to", &to_ms, &refusal)) return refusal;
  if (!time_param(target, "from", &from_ms, &refusal)) return refusal;
  if (from_ms == INT64_MIN) from_ms = to_ms - kDefaultRangeMs;
  if (from_ms >= to_ms) return bad_param("from", "from must be before to");
  int64_t max_points = kDefaultMaxPoints;
  if (!int_param(target, "max_points", 1, kMaxPoints, &max_points, &refusal)) return refusal;
  int64_t step_ms = 0;
  if (const std::string* s = target.param("step")) {
    const auto step_s = parse_step_value(*s);
    if (!step_s) {
      return bad_param("step", "step = '" + *s + "': expected seconds or a duration like 30s, 15m, 1h, 1d (at most 366d)");
    }
    step_ms = *step_s * 1000;
  } else {
    // No step: the smallest "round" step giving at most 1,000 points.
    static constexpr int64_t kSteps_s[] = {1,    5,     10,    15,    30,    60,    120,    300,   600,
                                           900,  1800,  3600,  7200,  10800, 21600, 43200, 86400, 604800};
    const int64_t span_s = (to_ms - from_ms + 999) / 1000;
    step_ms = kSteps_s[std::size(kSteps_s) - 1] * 1000;
    for (int64_t s : kSteps_s) {
      if (span_s / s <= 1000) {
        step_ms = s * 1000;
        break;
      }
    }
  }
  const int64_t buckets = (to_ms - from_ms + step_ms - 1) / step_ms;
  if (buckets > max_points) {
    return bad_param("step", "from/to/step give " + std::to_string(buckets) + " points, over max_points = " +
                                 std::to_string(max_points) + "; use a larger step or a shorter range");
  }
  if (!visible_meter(caller, id)) return meter_not_found(id);
  auto series = deps_.store->readings(id, from_ms, to_ms, step_ms, static_cast<std::size_t>(max_points));
  if (!series.ok()) {
    if (series.error().code == storage::StoreCode::kNotFound) return meter_not_found(id);
    if (series.error().code == storage::StoreCode::kInvalidArgument) return bad_param("step", series.error().message);
    return storage_error(series.error());
  }
  json points = json::array();
  for (const auto& p : series->points) points.push_back(aggregate_point_json(p));
  return json_response(200, json{{"meter_id", id},
                                 {"from_ms", from_ms},
                                 {"to_ms", to_ms},
                                 {"step_ms", series->step_ms},
                                 {"step_s", series->step_ms / 1000.0},
                                 {"source", storage::resolution_name(series->source)},
                                 {"points", std::move(points)}});
}

HttpResponse ApiHandler::meter_events(const Caller& caller, const std::string& id, const RequestTarget& target) {
  HttpResponse refusal;
  storage::EventQuery query;
  query.meter_id = id;
  int64_t limit = 100;
  if (!time_param(target, "from", &query.from_ms, &refusal)) return refusal;
  if (!time_param(target, "to", &query.to_ms, &refusal)) return refusal;
  if (!int_param(target, "limit", 1, 10000, &limit, &refusal)) return refusal;
  query.limit = static_cast<std::size_t>(limit);
  if (const std::string* kind = target.param("kind")) {
    query.kind = protocol::event_kind_from_name(*kind);
    if (!query.kind) return bad_param("kind", "kind = '" + *kind + "': not an event kind (see docs/protocol.md)");
  }
  if (!visible_meter(caller, id)) return meter_not_found(id);
  auto events = deps_.store->events(query);
  if (!events.ok()) return storage_error(events.error());
  json list = json::array();
  for (const auto& e : *events) list.push_back(event_json(e));
  return json_response(200, json{{"meter_id", id}, {"events", std::move(list)}});
}

// ---------------------------------------------------------------------------------------------
// Commands

HttpResponse ApiHandler::send_command(const HttpRequest& req, const Caller& caller, const std::string& id) {
  if (!visible_meter(caller, id)) return meter_not_found(id);
  if (!caller.can_command()) {
    return forbidden(caller.token ? "a read-only token cannot send commands" : "only operators can send commands");
  }
  HttpResponse refusal;
  const auto body = json_body(req, &refusal);
  if (!body) return refusal;
  bool bad = false;
  const auto kind_name = string_member(*body, "kind", &refusal, &bad);
  if (bad) return refusal;
  if (!kind_name) return bad_param("kind", "kind is required: relay_off, relay_on, set_period or ping");
  const auto kind = protocol::command_kind_from_name(*kind_name);
  if (!kind) return bad_param("kind", "kind = '" + *kind_name + "': expected relay_off, relay_on, set_period or ping");
  ingest::CommandRequest request;
  request.meter_id = id;
  request.kind = *kind;
  request.requested_by = caller_label(caller);
  if (const auto it = body->find("period_s"); it != body->end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > 3600) {
      return bad_param("period_s", "period_s must be an integer from 1 to 3600");
    }
    request.period_s = static_cast<uint32_t>(it->get<int64_t>());
  }
  if (*kind == protocol::CommandKind::kSetPeriod && !request.period_s) {
    return bad_param("period_s", "set_period needs period_s");
  }
  if (*kind != protocol::CommandKind::kSetPeriod && request.period_s) {
    return bad_param("period_s", "period_s applies only to set_period");
  }
  const auto reason = string_member(*body, "reason", &refusal, &bad);
  if (bad) return refusal;
  if (reason) {
    if (reason->size() > 512) return bad_param("reason", "reason is limited to 512 characters");
    request.reason = *reason;
  }
  if (const auto it = body->find("timeout_s"); it != body->end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > 86400) {
      return bad_param("timeout_s", "timeout_s must be an integer from 1 to 86400");
    }
    request.timeout_ms = static_cast<int>(it->get<int64_t>() * 1000);
  }
  auto result = deps_.ingest->send_command(request);
  if (!result.ok()) {
    const auto& err = result.error();
    switch (err.code) {
      case ErrorCode::kNotFound: return meter_not_found(id);
      case ErrorCode::kInvalidInput: return bad_param(err.field.empty() ? "kind" : err.field, err.message);
      default:
        spdlog::error("api: command for {} not stored: {}", id, err.message);
        return error_response(500, "storage_error", "", "the command could not be stored");
    }
  }
  spdlog::info("api: {} sent {} to {} (command {})", caller.name, *kind_name, id, result->id);
  HttpResponse r = json_response(202, json{{"command", command_json(*result)}});
  r.set_header("Location", "/api/v1/meters/" + id + "/commands/" + result->id);
  return r;
}

HttpResponse ApiHandler::list_commands(const Caller& caller, const std::string& id, const RequestTarget& target) {
  HttpResponse refusal;
  int64_t limit = 50;
  if (!int_param(target, "limit", 1, 1000, &limit, &refusal)) return refusal;
  if (!visible_meter(caller, id)) return meter_not_found(id);
  auto list = deps_.store->commands(id, static_cast<std::size_t>(limit));
  if (!list.ok()) return storage_error(list.error());
  json commands = json::array();
  for (const auto& c : *list) commands.push_back(command_json(c));
  return json_response(200, json{{"meter_id", id}, {"commands", std::move(commands)}});
}

HttpResponse ApiHandler::get_command(const Caller& caller, const std::string& id, const std::string& command_id) {
  if (!visible_meter(caller, id)) return meter_not_found(id);
  auto record = deps_.store->get_command(command_id);
  if (!record.ok()) {
    if (record.error().code == storage::StoreCode::kNotFound) {
      return error_response(404, "command_not_found", "command_id", "no command '" + command_id + "'");
    }
    return storage_error(record.error());
  }
  if (record->meter_id != id) {
    return error_response(404, "command_not_found", "command_id", "no command '" + command_id + "' for meter " + id);
  }
  return json_response(200, json{{"command", command_json(*record)}});
}

// ---------------------------------------------------------------------------------------------
// Users and tokens (admins)

HttpResponse ApiHandler::list_users(const Caller& caller) {
  if (!caller.is_admin()) return forbidden("only admins manage users");
  json users = json::array();
  for (const auto& u : deps_.auth->list_users()) users.push_back(user_json(u, meters_of(u.name)));
  return json_response(200, json{{"users", std::move(users)}});
}

HttpResponse ApiHandler::get_user(const Caller& caller, const std::string& name) {
  if (!caller.is_admin()) return forbidden("only admins manage users");
  const auto user = deps_.auth->find_user(name);
  if (!user) return error_response(404, "user_not_found", "name", "no user '" + name + "'");
  return json_response(200, json{{"user", user_json(*user, meters_of(user->name))}});
}

namespace {

// The "meters" member as a list of ids, or the 400.
std::optional<std::vector<std::string>> meter_list_member(const json& body, HttpResponse* refusal) {
  std::vector<std::string> meters;
  const auto it = body.find("meters");
  if (it == body.end() || it->is_null()) return meters;
  if (!it->is_array()) {
    *refusal = bad_param("meters", "meters must be an array of meter ids");
    return std::nullopt;
  }
  for (const auto& m : *it) {
    if (!m.is_string() || !protocol::is_valid_meter_id(m.get<std::string>())) {
      *refusal = bad_param("meters", "meters must be an array of meter ids ([A-Za-z0-9_-], 1 to 64 characters)");
      return std::nullopt;
    }
    meters.push_back(m.get<std::string>());
  }
  return meters;
}

}  // namespace

HttpResponse ApiHandler::set_user_meters(const HttpRequest& req, const Caller& caller, const std::string& name) {
  if (!caller.is_admin()) return forbidden("only admins manage users");
  HttpResponse refusal;
  const auto body = json_body(req, &refusal);
  if (!body) return refusal;
  if (!body->contains("meters")) return bad_param("meters", "meters is required");
  const auto meters = meter_list_member(*body, &refusal);
  if (!meters) return refusal;
  const auto user = deps_.auth->find_user(name);
  if (!user) return error_response(404, "user_not_found", "name", "no user '" + name + "'");
  for (const auto& id : *meters) {
    if (!deps_.store->has_meter(id)) return bad_param("meters", "no meter '" + id + "'");
  }
  // Ownership lives in the meter registry: give the listed meters to the user and take the
  // user's other meters back.
  directory_.invalidate();
  const auto snap = directory_.get(now_ms());
  for (const auto& id : snap->owned_by(user->name)) {
    if (std::find(meters->begin(), meters->end(), id) != meters->end()) continue;
    storage::MeterInfo info = *snap->find(id);
    info.owner.clear();
    if (auto st = deps_.store->update_meter(info); !st.ok()) return storage_error(st);
  }
  for (const auto& id : *meters) {
    auto info = deps_.store->get_meter(id);
    if (!info.ok()) return storage_error(info.error());
    info->owner = user->name;
    if (auto st = deps_.store->update_meter(*info); !st.ok()) return storage_error(st);
  }
  directory_.invalidate();
  std::string list;
  for (const auto& id : *meters) list += (list.empty() ? "" : ",") + id;
  audit(caller, "user.meters", user->name, list);
  return json_response(200, json{{"user", user_json(*user, meters_of(user->name))}});
}

HttpResponse ApiHandler::add_user(const HttpRequest& req, const Caller& caller) {
  if (!caller.is_admin()) return forbidden("only admins manage users");
  HttpResponse refusal;
  const auto body = json_body(req, &refusal);
  if (!body) return refusal;
  bool bad = false;
  const auto name = string_member(*body, "name", &refusal, &bad);
  if (bad) return refusal;
  const auto role_s = string_member(*body, "role", &refusal, &bad);
  if (bad) return refusal;
  const auto password = string_member(*body, "password", &refusal, &bad);
  if (bad) return refusal;
  if (!name) return bad_param("name", "name is required");
  if (!role_s) return bad_param("role", "role is required: consumer, operator or admin");
  const auto role = role_from_name(*role_s);
  if (!role) return bad_param("role", "role = '" + *role_s + "': expected consumer, operator or admin");
  if (!password) return bad_param("password", "password is required");
  const auto meters = meter_list_member(*body, &refusal);
  if (!meters) return refusal;
  for (const auto& id : *meters) {
    if (!deps_.store->has_meter(id)) return bad_param("meters", "no meter '" + id + "'");
  }
  const auto outcome = deps_.auth->add_user(*name, *role, *password, password_cost_, now_ms() / 1000);
  if (!outcome.ok()) {
    const bool exists = outcome.error.find("already exists") != std::string::npos;
    return error_response(exists ? 409 : 400, exists ? "user_exists" : "bad_parameter", outcome.field, outcome.error);
  }
  for (const auto& id : *meters) {
    auto info = deps_.store->get_meter(id);
    if (!info.ok()) return storage_error(info.error());
    info->owner = *name;
    if (auto st = deps_.store->update_meter(*info); !st.ok()) return storage_error(st);
  }
  directory_.invalidate();
  audit(caller, "user.add", *name, role_name(*role));
  const auto user = deps_.auth->find_user(*name);
  HttpResponse r = json_response(201, json{{"user", user_json(*user, meters_of(*name))}});
  r.set_header("Location", "/api/v1/users/" + *name);
  return r;
}

HttpResponse ApiHandler::update_user(const HttpRequest& req, const Caller& caller, const std::string& name) {
  if (!caller.is_admin()) return forbidden("only admins manage users");
  HttpResponse refusal;
  const auto body = json_body(req, &refusal);
  if (!body) return refusal;
  bool bad = false;
  const auto role_s = string_member(*body, "role", &refusal, &bad);
  if (bad) return refusal;
  const auto password = string_member(*body, "password", &refusal, &bad);
  if (bad) return refusal;
  if (!deps_.auth->find_user(name)) return error_response(404, "user_not_found", "name", "no user '" + name + "'");
  std::optional<Role> role;
  if (role_s) {
    role = role_from_name(*role_s);
    if (!role) return bad_param("role", "role = '" + *role_s + "': expected consumer, operator or admin");
  }
  if (password) {
    const auto outcome = deps_.auth->set_password(name, *password, password_cost_);
    if (!outcome.ok()) return bad_param(outcome.field, outcome.error);
    audit(caller, "user.password", name, "");
  }
  if (role) {
    const auto outcome = deps_.auth->set_role(name, *role);
    if (!outcome.ok()) return bad_param(outcome.field, outcome.error);
    audit(caller, "user.role", name, role_name(*role));
  }
  const auto user = deps_.auth->find_user(name);
  return json_response(200, json{{"user", user_json(*user, meters_of(user->name))}});
}

HttpResponse ApiHandler::delete_user(const Caller& caller, const std::string& name) {
  if (!caller.is_admin()) return forbidden("only admins manage users");
  if (caller.user && ascii_lower(caller.user->name) == ascii_lower(name)) {
    return bad_param("name", "you cannot delete your own account");
  }
  const auto user = deps_.auth->find_user(name);
  if (!user) return error_response(404, "user_not_found", "name", "no user '" + name + "'");
  directory_.invalidate();
  const auto snap = directory_.get(now_ms());
  for (const auto& id : snap->owned_by(user->name)) {
    storage::MeterInfo info = *snap->find(id);
    info.owner.clear();
    if (auto st = deps_.store->update_meter(info); !st.ok()) return storage_error(st);
  }
  directory_.invalidate();
  const auto outcome = deps_.auth->delete_user(user->name);
  if (!outcome.ok()) return error_response(404, "user_not_found", "name", outcome.error);
  audit(caller, "user.delete", user->name, "");
  return no_content();
}

HttpResponse ApiHandler::list_tokens(const Caller& caller) {
  if (!caller.is_admin()) return forbidden("only admins manage API tokens");
  json tokens = json::array();
  for (const auto& t : deps_.auth->list_tokens()) {
    tokens.push_back(
        json{{"id", t.id}, {"scope", scope_name(t.scope)}, {"label", t.label}, {"created_ms", t.created_at_s * 1000}});
  }
  return json_response(200, json{{"tokens", std::move(tokens)}});
}

HttpResponse ApiHandler::add_token(const HttpRequest& req, const Caller& caller) {
  if (!caller.is_admin()) return forbidden("only admins manage API tokens");
  HttpResponse refusal;
  const auto body = json_body(req, &refusal);
  if (!body) return refusal;
  bool bad = false;
  const auto scope_s = string_member(*body, "scope", &refusal, &bad);
  if (bad) return refusal;
  const auto label = string_member(*body, "label", &refusal, &bad);
  if (bad) return refusal;
  if (!scope_s) return bad_param("scope", "scope is required: read or admin");
  const auto scope = scope_from_name(*scope_s);
  if (!scope) return bad_param("scope", "scope = '" + *scope_s + "': expected read or admin");
  if (label && label->size() > 128) return bad_param("label", "label is limited to 128 characters");
  const std::string token = deps_.auth->create_token(*scope, label.value_or(""), now_ms() / 1000);
  if (token.empty()) return error_response(500, "storage_error", "", "could not store the token");
  const auto info = deps_.auth->find_token(token);
  audit(caller, "token.add", "token:" + std::to_string(info->id), *scope_s);
  return json_response(201, json{{"token", token},
                                 {"id", info->id},
                                 {"scope", scope_name(info->scope)},
                                 {"label", info->label},
                                 {"created_ms", info->created_at_s * 1000}});
}

HttpResponse ApiHandler::revoke_token(const Caller& caller, const std::string& id_s) {
  if (!caller.is_admin()) return forbidden("only admins manage API tokens");
  const auto id = parse_int_value(id_s, 1, INT64_MAX);
  if (!id) return bad_param("id", "token id must be a positive integer");
  const auto outcome = deps_.auth->revoke_token(*id);
  if (!outcome.ok()) return error_response(404, "token_not_found", "id", outcome.error);
  audit(caller, "token.revoke", "token:" + id_s, "");
  return no_content();
}

// ---------------------------------------------------------------------------------------------
// WebSocket upgrade

LiveUpgrade ApiHandler::upgrade(const HttpRequest& req) {
  LiveUpgrade decision;
  const auto target = parse_target(req.target);
  if (!target) {
    decision.refusal = bad_param("target", "malformed request target");
    return decision;
  }
  if (target->path != "/api/v1/live") {
    decision.refusal = error_response(404, "not_found", "", "WebSocket endpoint is /api/v1/live");
    return decision;
  }
  HttpResponse refusal;
  const auto caller = authenticate(req, &refusal);
  if (!caller) {
    decision.refusal = std::move(refusal);
    return decision;
  }
  // Browsers send cookies on cross-site WebSocket handshakes; only our own pages may use them.
  if (caller->via_session && !same_origin(req)) {
    decision.refusal = forbidden("cross-origin WebSocket refused");
    return decision;
  }
  std::optional<LiveHub::MeterSet> wanted;
  if (const std::string* list = target->param("meters")) {
    wanted.emplace();
    for (auto& id : split_list(*list)) {
      if (!protocol::is_valid_meter_id(id)) {
        decision.refusal = bad_param("meters", "meters = '" + *list + "': expected comma-separated meter ids");
        return decision;
      }
      wanted->insert(std::move(id));
    }
  }
  if (caller->access == Access::kConsumer) {
    // Consumers get their own meters only; others they name are simply not delivered.
    LiveHub::MeterSet own;
    for (const auto& id : directory_.get(now_ms())->owned_by(caller->name)) {
      if (!wanted || wanted->count(id) != 0) own.insert(id);
    }
    wanted = std::move(own);
  }
  decision.meters = std::move(wanted);
  return decision;
}

}  // namespace wattguard::api
