// The API's face: static files or /api/v1/, authentication, the routing table and the WebSocket upgrade.
#include "wattguard/api/api_handler.h"

#include <algorithm>
#include <string_view>

#include "server/api/account_routes.h"
#include "server/api/alert_routes.h"
#include "server/api/api_context.h"
#include "server/api/api_router.h"
#include "server/api/billing_routes.h"
#include "server/api/emoncms_routes.h"
#include "server/api/enrolment_routes.h"
#include "server/api/grid_routes.h"
#include "server/api/health_routes.h"
#include "server/api/meter_routes.h"
#include "server/api/ops_routes.h"
#include "server/api/route_support.h"
#include "server/api/session_routes.h"
#include "wattguard/protocol/topics.h"

namespace wattguard::api {
namespace {

constexpr std::string_view kApiPrefix = "/api/";

// Error::reason of a session cookie whose session is over.
constexpr const char* kSessionEnded = "session_ended";

// The methods any route answers; others get 405 before authentication.
bool is_known_method(const std::string& m) {
  return m == "GET" || m == "HEAD" || m == "POST" || m == "PUT" || m == "PATCH" || m == "DELETE" || m == "OPTIONS";
}

HttpResponse unknown_method() {
  HttpResponse r = error_response(405, "method_not_allowed", "", "unknown HTTP method");
  r.set_header("Allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
  return r;
}

bool changes_state(const std::string& m) { return m != "GET" && m != "HEAD" && m != "OPTIONS"; }

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

struct ApiHandler::Impl {
  explicit Impl(ApiDeps deps)
      : context(std::move(deps)),
        static_files(context.deps().static_dir),
        sessions(context),
        health(context),
        meters(context),
        enrolment(context, meters),
        emoncms(context),
        accounts(context),
        billing(context),
        ops(context, {[this](MetricsWriter& out) { emoncms.write_metrics(out); }}) {
    sessions.add_to(router);
    health.add_to(router);
    meters.add_to(router);
    enrolment.add_to(router);
    accounts.add_to(router);
    billing.add_to(router);
    // Groups that match their own paths, tried in this order when no route of the table has the path.
    const ApiDeps& d = context.deps();
    if (d.grid != nullptr) {
      router.add_fallback([grid = d.grid](const HttpRequest& req, const RequestTarget& target,
                                          const std::vector<std::string>& seg,
                                          const Caller& caller) { return grid->handle(req, target, seg, caller); });
    }
    if (d.alerts != nullptr) {
      router.add_fallback(
          [alerts = d.alerts](const HttpRequest& req, const RequestTarget& target, const std::vector<std::string>& seg,
                              const Caller& caller) { return alerts->handle(req, target, seg, caller); });
    }
    if (d.extra_route) {
      router.add_fallback([extra = d.extra_route](const HttpRequest& req, const RequestTarget& target,
                                                  const std::vector<std::string>&,
                                                  const Caller& caller) { return extra(req, target, caller); });
    }
  }

  ApiContext context;
  StaticFiles static_files;
  SessionRoutes sessions;
  HealthRoutes health;
  MeterRoutes meters;
  EnrolmentRoutes enrolment;
  EmoncmsRoutes emoncms;
  AccountRoutes accounts;
  BillingRoutes billing;
  OpsRoutes ops;
  ApiRouter router;
};

ApiHandler::ApiHandler(ApiDeps deps) : impl_(std::make_unique<Impl>(std::move(deps))) {
  // Whatever ends a session or takes a right away makes the live streams check at once (LiveUpgrade::recheck).
  if (impl_->context.deps().auth != nullptr && impl_->context.deps().hub != nullptr) {
    impl_->context.deps().auth->set_revocation_listener([hub = impl_->context.deps().hub] { hub->access_changed(); });
  }
}

ApiHandler::~ApiHandler() {
  if (impl_->context.deps().auth != nullptr) impl_->context.deps().auth->set_revocation_listener(nullptr);
}

void ApiHandler::meters_changed() { impl_->context.ownership_changed(); }

std::optional<HttpResponse> ApiHandler::check_header(const HttpRequest& req) {
  if (!is_known_method(req.method)) return unknown_method();
  const auto target = parse_target(req.target);
  if (!target) return bad_param("target", "malformed request target (bad percent-encoding?)");
  if (OpsRoutes::is_ops_path(target->path)) return std::nullopt;  // bodiless probes; /metrics checks its caller
  if (target->path.compare(0, kApiPrefix.size(), kApiPrefix) != 0) return std::nullopt;
  const std::vector<std::string> seg = path_segments(target->path);
  if (seg.size() < 2 || seg[1] != "v1") return std::nullopt;  // a 404 without reading much
  if (impl_->router.has_public(req.method, seg)) return std::nullopt;
  const auto caller = authenticate(req);
  if (!caller.ok()) return unauthorized(req, caller.error());
  if (caller->via_session && changes_state(req.method) && !same_origin(req)) {
    return forbidden("cross-origin request refused");
  }
  return std::nullopt;
}

HttpResponse ApiHandler::handle(const HttpRequest& req) {
  if (!is_known_method(req.method)) return unknown_method();
  const auto target = parse_target(req.target);
  if (!target) return bad_param("target", "malformed request target (bad percent-encoding?)");
  if (OpsRoutes::is_ops_path(target->path)) {
    if (target->path != "/metrics") return impl_->ops.probe(req, target->path);
    return handle_metrics_only(req);
  }
  if (target->path.compare(0, kApiPrefix.size(), kApiPrefix) != 0 && target->path != "/api") {
    if (auto answer = impl_->emoncms.handle(req, *target)) return std::move(*answer);
    if (const auto& outside = impl_->context.deps().outside_route) {
      if (auto answered = outside(req, *target)) return std::move(*answered);
    }
    return impl_->static_files.serve(req, target->path);
  }
  const std::vector<std::string> seg = path_segments(target->path);
  if (seg.size() < 2 || seg[1] != "v1") return route_not_found();
  return route_api(req, *target, seg);
}

HttpResponse ApiHandler::handle_metrics_only(const HttpRequest& req) {
  const auto target = parse_target(req.target);
  if (!target) return bad_param("target", "malformed request target (bad percent-encoding?)");
  if (target->path != "/metrics") return error_response(404, "not_found", "", "only /metrics is served here");
  const auto caller = authenticate(req);
  if (!caller.ok()) return unauthorized(req, caller.error());
  return impl_->ops.metrics(req, *caller);
}

HttpResponse ApiHandler::route_api(const HttpRequest& req, const RequestTarget& target,
                                   const std::vector<std::string>& seg) {
  if (auto answer = impl_->router.dispatch_public(req, target, seg)) return std::move(*answer);
  const auto caller = authenticate(req);
  if (!caller.ok()) return unauthorized(req, caller.error());
  // A browser form or script on another site cannot use the session cookie to change anything.
  const std::string& m = req.method;
  if (caller->via_session && m != "GET" && m != "HEAD" && !same_origin(req)) {
    return forbidden("cross-origin request refused");
  }
  return impl_->router.dispatch(req, target, seg, *caller);
}

// ---------------------------------------------------------------------------------------------
// Authentication

Expected<Caller> ApiHandler::authenticate(const HttpRequest& req) {
  if (const std::string* auth = req.header("authorization")) {
    constexpr std::string_view kBearer = "bearer ";
    if (auth->size() <= kBearer.size() || ascii_lower(auth->substr(0, kBearer.size())) != kBearer) {
      return Error::permission_denied("the Authorization header must be 'Bearer <token>'");
    }
    const std::string token = auth->substr(kBearer.size());
    const auto info = impl_->context.deps().auth->find_token(token);
    if (!info) return Error::permission_denied("unknown or revoked API token");
    Caller c;
    c.name = "token:" + std::to_string(info->id);
    c.access = info->scope == TokenScope::kAdmin ? Access::kAdmin : Access::kReadAll;
    c.token = info;
    return c;
  }
  const std::string sid = cookie_value(req, kSessionCookie);
  if (sid.empty()) return Error::permission_denied("sign in (POST /api/v1/session) or send an API token");
  const auto session = impl_->context.deps().auth->session_user(sid, impl_->context.now_ms() / 1000);
  if (!session) {
    return Error::permission_denied("the session has expired or ended; sign in again").because(kSessionEnded);
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

HttpResponse ApiHandler::unauthorized(const HttpRequest& req, const Error& why) {
  HttpResponse r = error_response(401, "unauthorized", "", why.message);
  r.set_header("WWW-Authenticate", "Bearer realm=\"wattguard\"");
  // The browser drops the cookie of a session that is over.
  if (why.reason == kSessionEnded) r.add_header("Set-Cookie", impl_->context.session_cookie(req, "", 0));
  return r;
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
  const auto caller = authenticate(req);
  if (!caller.ok()) {
    decision.refusal = unauthorized(req, caller.error());
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
    for (const auto& id : impl_->context.directory().get(impl_->context.now_ms())->owned_by(caller->name)) {
      if (!wanted || wanted->count(id) != 0) own.insert(id);
    }
    wanted = std::move(own);
  }
  decision.meters = wanted;
  // Access is checked again while the stream runs: the same credentials (a session cookie or token) must still
  // work, and a consumer must still own every meter it watches.
  HttpRequest credentials;
  credentials.target = req.target;
  credentials.remote_address = req.remote_address;
  for (const auto& [name, value] : req.headers) {
    if (name == "cookie" || name == "authorization") credentials.headers.emplace_back(name, value);
  }
  const bool consumer = caller->access == Access::kConsumer;
  decision.recheck = [this, credentials = std::move(credentials), consumer,
                      watched = std::move(wanted)]() -> std::optional<std::string> {
    const auto again = authenticate(credentials);
    if (!again.ok()) return again.error().message;
    if (!consumer) return std::nullopt;
    if (again->access != Access::kConsumer) return std::string("the user's role changed");
    const auto owned = impl_->context.directory().get(impl_->context.now_ms())->owned_by(again->name);
    for (const auto& id : *watched) {
      if (std::find(owned.begin(), owned.end(), id) == owned.end()) return "meter " + id + " is no longer yours";
    }
    return std::nullopt;
  };
  return decision;
}

}  // namespace wattguard::api
