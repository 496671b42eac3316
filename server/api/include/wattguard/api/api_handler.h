// The REST API as a plain function from request to response (no sockets): routing,
// authentication (API tokens, session cookies), authorisation by role, parameter checks, and
// the JSON answers. docs/api.md describes every route. Thread-safe: called from all I/O threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wattguard/api/api_config.h"
#include "wattguard/api/auth_store.h"
#include "wattguard/api/http_message.h"
#include "wattguard/api/http_server.h"
#include "wattguard/api/live_hub.h"
#include "wattguard/api/metrics_writer.h"
#include "wattguard/api/request_target.h"
#include "wattguard/api/static_files.h"
#include "wattguard/base/clock.h"
#include "wattguard/base/expected.h"
#include "wattguard/ingest/ingest_service.h"
#include "wattguard/storage/reading_store.h"

namespace wattguard::accounts {
class AccountService;
class AccountStore;
}  // namespace wattguard::accounts

namespace wattguard::ingest {
class DeviceKeys;
class Enrolment;
}  // namespace wattguard::ingest

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
  std::string name;  // user name, or "token:<id>"
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
using ExtraRoute = std::function<std::optional<HttpResponse>(const HttpRequest&, const RequestTarget&, const Caller&)>;
// Routes outside /api/ for devices and their scripts (the Blynk HTTP API: /{token}/update/V1...), tried before
// the web UI's files, without the API's authentication: the route checks its own credentials (device tokens).
// nullopt = not mine.
using OutsideRoute = std::function<std::optional<HttpResponse>(const HttpRequest&, const RequestTarget&)>;

// Where devices reach this server, for the answer that hands a new meter its secrets (the host name is the
// client's: the server cannot know which of its names a meter can resolve). 0 / "" = not offered.
struct ConnectHints {
  int mqtt_port = 0;
  int blynk_port = 0;
  int blynk_tls_port = 0;
  std::string emoncms_path;
};

struct ApiDeps {
  storage::ReadingStore* store = nullptr;
  ingest::IngestService* ingest = nullptr;
  AuthStore* auth = nullptr;
  LiveHub* hub = nullptr;
  AuthConfig auth_config;                 // sign-in cost and delays, sessions, cookies
  std::string static_dir;                 // the web UI's built files (http.static_dir resolved)
  int default_period_s = 5;               // a meter's report period until it announces its own
  Clock now_ms;                           // wall clock, Unix ms; default: system clock
  std::function<int()> open_connections;  // for health; optional
  ExtraRoute extra_route;                 // optional
  OutsideRoute outside_route;             // optional
  AlertRoutes* alerts = nullptr;          // alerts and audit routes, meters' alerts_open (alert_routes.h); optional
  GridRoutes* grid = nullptr;             // transformers, topology, imports (grid_routes.h); optional
  accounts::AccountService* accounts = nullptr;  // tariffs, bills, prepaid (billing_routes.h); optional
  accounts::AccountStore* accounts_store = nullptr;
  ingest::Enrolment* enrolment = nullptr;     // POST/DELETE /api/v1/meters (enrolment_routes.h); optional
  ingest::DeviceKeys* device_keys = nullptr;  // the emoncms and Blynk keys; optional (no emoncms input without)
  EmoncmsConfig emoncms;                      // the emoncms input API (emoncms_routes.h)
  ConnectHints connect;
  // GET /metrics (docs/api.md "Operations"): the families other parts add (each part its own, e.g.
  // wattguard_connections{protocol="..."}), the HTTP server's response counts, and whether to add per-meter series.
  std::vector<MetricsSource> metrics_sources;
  std::function<std::vector<HttpRequestCount>()> http_requests;  // optional
  bool metrics_per_meter = false;
};

// The face of the API: parses the target, serves the web UI's files outside /api/, authenticates, and hands
// /api/v1/... to the routing table (server/api/api_router.h) filled by the route groups.
class ApiHandler {
 public:
  explicit ApiHandler(ApiDeps deps);
  ~ApiHandler();
  ApiHandler(const ApiHandler&) = delete;
  ApiHandler& operator=(const ApiHandler&) = delete;

  // Answers one HTTP request (API routes, or the web UI's static files for other paths).
  HttpResponse handle(const HttpRequest& request);

  // The HTTP server's header check (HttpServer::set_header_check): refuses, before the body is read, a request
  // with an unknown method (405), or one for an API route that needs credentials when they are missing or wrong
  // (401) or it comes from another site (403). Public routes (sign-in, probes, the emoncms and Blynk device APIs,
  // the web UI's files) pass: they check their own credentials and their bodies are small (http.max_body_bytes).
  std::optional<HttpResponse> check_header(const HttpRequest& request);

  // The separate metrics listener ([metrics] listen): GET /metrics with the same authorisation, 404 otherwise.
  HttpResponse handle_metrics_only(const HttpRequest& request);

  // Decides a WebSocket upgrade: only /api/v1/live, authenticated, same origin. The accepted stream re-checks
  // (LiveUpgrade::recheck) that its session or token still works and, for a consumer, that it still owns the
  // meters it watches.
  LiveUpgrade upgrade(const HttpRequest& request);

  // Meters were provisioned or changed behind the API's back (in-process, e.g. the demo): reload the registry.
  void meters_changed();

  // Name of the session cookie.
  static constexpr const char* kSessionCookie = "wg_session";

 private:
  struct Impl;
  HttpResponse route_api(const HttpRequest& req, const RequestTarget& target, const std::vector<std::string>& seg);
  // Authentication: the caller (API token or session cookie), or why not (answered by unauthorized()).
  Expected<Caller> authenticate(const HttpRequest& req);
  // The 401 for a failed authenticate(); it also clears the cookie of a session that is over.
  HttpResponse unauthorized(const HttpRequest& req, const Error& why);

  std::unique_ptr<Impl> impl_;
};

// Value of cookie `name` in the request's Cookie header(s), or "".
std::string cookie_value(const HttpRequest& req, std::string_view name);

// True when the request has no Origin header, or one whose host:port equals the Host header.
bool same_origin(const HttpRequest& req);

}  // namespace wattguard::api
