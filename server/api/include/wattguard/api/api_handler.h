// The REST API as a plain function from request to response (no sockets): routing,
// authentication (API tokens, session cookies), authorisation by role, parameter checks, and
// the JSON answers. docs/api.md describes every route. Thread-safe: called from all I/O threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "wattguard/api/api_config.h"
#include "wattguard/api/auth_store.h"
#include "wattguard/api/http_message.h"
#include "wattguard/api/http_server.h"
#include "wattguard/api/live_hub.h"
#include "wattguard/api/login_throttle.h"
#include "wattguard/api/meter_directory.h"
#include "wattguard/api/request_target.h"
#include "wattguard/api/static_files.h"
#include "wattguard/ingest/ingest_service.h"
#include "wattguard/storage/reading_store.h"

namespace wattguard::api {

class GridRoutes;
class AlertRoutes;

// What an authenticated caller may do.
enum class Access {
  kConsumer,  // a consumer user: read its own meters only
  kReadAll,   // a read-only API token: read every meter, health, live feed
  kOperate,   // an operator user: read everything and send commands
  kAdmin,     // an admin user or admin token: everything, including users and tokens
};

struct Caller {
  std::string name;     // user name, or "token:<id>"
  Access access = Access::kConsumer;
  bool via_session = false;  // signed in with a cookie (else an API token)
  std::optional<User> user;  // for sessions
  std::optional<TokenInfo> token;
  int64_t session_expires_ms = 0;

  bool can_read_all() const { return access != Access::kConsumer; }
  bool can_command() const { return access == Access::kOperate || access == Access::kAdmin; }
  bool is_admin() const { return access == Access::kAdmin; }
};

// Routes added by the embedding program (the demo's /api/v1/demo/...), tried for /api/v1/ paths
// no built-in route matches, after authentication. nullopt = not mine (the API answers 404).
using ExtraRoute =
    std::function<std::optional<HttpResponse>(const HttpRequest&, const RequestTarget&, const Caller&)>;

struct ApiDeps {
  storage::ReadingStore* store = nullptr;
  ingest::IngestService* ingest = nullptr;
  AuthStore* auth = nullptr;
  LiveHub* hub = nullptr;
  AuthConfig auth_config;                       // sign-in cost and delays, sessions, cookies
  std::string static_dir;                       // the web UI's built files (http.static_dir resolved)
  int default_period_s = 5;                     // a meter's report period until it announces its own
  std::function<int64_t()> now_ms;              // wall clock, Unix ms; default: system clock
  std::function<int()> open_connections;        // for health; optional
  ExtraRoute extra_route;                       // optional
  AlertRoutes* alerts = nullptr;                // alerts and audit routes, meters' alerts_open (alert_routes.h); optional
  GridRoutes* grid = nullptr;                   // transformers, topology, imports (grid_routes.h); optional
};

class ApiHandler {
 public:
  explicit ApiHandler(ApiDeps deps);

  // Answers one HTTP request (API routes, or the web UI's static files for other paths).
  HttpResponse handle(const HttpRequest& request);

  // Decides a WebSocket upgrade: only /api/v1/live, authenticated, same origin.
  LiveUpgrade upgrade(const HttpRequest& request);

  // Meters were provisioned or changed behind the API's back (in-process, e.g. the demo): reload the registry.
  void meters_changed() { directory_.invalidate(); }

  // Name of the session cookie.
  static constexpr const char* kSessionCookie = "wg_session";

 private:
  HttpResponse route(const HttpRequest& req, const RequestTarget& target);
  HttpResponse route_api(const HttpRequest& req, const RequestTarget& target, const std::vector<std::string>& seg);

  // Authentication: the caller, or the 401 to answer.
  std::optional<Caller> authenticate(const HttpRequest& req, HttpResponse* refusal);

  HttpResponse sign_in(const HttpRequest& req);
  HttpResponse sign_out(const HttpRequest& req);
  HttpResponse session_info(const Caller& caller);
  HttpResponse health(const Caller& caller);
  HttpResponse list_meters(const Caller& caller, const RequestTarget& target);
  HttpResponse get_meter(const Caller& caller, const std::string& id);
  HttpResponse meter_readings(const Caller& caller, const std::string& id, const RequestTarget& target);
  HttpResponse meter_events(const Caller& caller, const std::string& id, const RequestTarget& target);
  HttpResponse send_command(const HttpRequest& req, const Caller& caller, const std::string& id);
  HttpResponse list_commands(const Caller& caller, const std::string& id, const RequestTarget& target);
  HttpResponse get_command(const Caller& caller, const std::string& id, const std::string& command_id);
  HttpResponse list_users(const Caller& caller);
  HttpResponse add_user(const HttpRequest& req, const Caller& caller);
  HttpResponse get_user(const Caller& caller, const std::string& name);
  HttpResponse update_user(const HttpRequest& req, const Caller& caller, const std::string& name);
  HttpResponse delete_user(const Caller& caller, const std::string& name);
  HttpResponse set_user_meters(const HttpRequest& req, const Caller& caller, const std::string& name);
  HttpResponse list_tokens(const Caller& caller);
  HttpResponse add_token(const HttpRequest& req, const Caller& caller);
  HttpResponse revoke_token(const Caller& caller, const std::string& id);

  // The meter when it exists and the caller may see it (consumers: only their own).
  std::optional<storage::MeterInfo> visible_meter(const Caller& caller, const std::string& id);
  // What the meter list filters and sorts on, computed once per meter; JSON is built only for the rows sent.
  struct MeterRow {
    const storage::MeterInfo* info = nullptr;
    const ingest::MeterLive* live = nullptr;  // null: never heard from
    std::string_view status = "unknown";
    int period_s = 0;
    bool stale = false;
    int alerts_open = 0;
    std::optional<double> p_w;
    std::optional<double> day_start_import_wh;
    std::optional<double> today_import_wh;
  };
  MeterRow meter_row(const storage::MeterInfo& info, const ingest::MeterLive* live, int64_t now_ms);
  // `fleet_fields`: the slim form of the fleet page (reading cut to time, flags, vrms, p_w, e_import_wh; 0.1).
  nlohmann::json meter_json(const MeterRow& row, bool fleet_fields) const;
  std::vector<std::string> meters_of(const std::string& user_name);
  std::string session_cookie(const HttpRequest& req, const std::string& value, int64_t max_age_s);
  void audit(const Caller& caller, const std::string& action, const std::string& target, const std::string& details);

  int64_t now_ms() const { return deps_.now_ms(); }

  ApiDeps deps_;
  PasswordCost password_cost_;
  LoginThrottle throttle_;
  MeterDirectory directory_;
  DayStartCache day_start_;
  StaticFiles static_files_;
  int64_t started_ms_;
  std::once_flag insecure_cookie_warning_;
};

// Value of cookie `name` in the request's Cookie header(s), or "".
std::string cookie_value(const HttpRequest& req, std::string_view name);

// True when the request has no Origin header, or one whose host:port equals the Host header.
bool same_origin(const HttpRequest& req);

}  // namespace wattguard::api
