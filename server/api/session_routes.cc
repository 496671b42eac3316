// Sign-in, sign-out and the caller's own session or token.
#include "server/api/session_routes.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "server/api/api_json.h"
#include "server/api/route_support.h"

namespace wattguard::api {

using nlohmann::json;

void SessionRoutes::add_to(ApiRouter& router) {
  router.add("GET", "/api/v1/session", [this](const RouteRequest& r) { return session_info(*r.caller); });
  // Sign-in and sign-out need no (valid) credentials.
  router.add_public("POST", "/api/v1/session", [this](const RouteRequest& r) { return sign_in(r.http); });
  router.add_public("DELETE", "/api/v1/session", [this](const RouteRequest& r) { return sign_out(r.http); });
  router.add("GET", "/api/v1/session/me", [this](const RouteRequest& r) { return session_info(*r.caller); });
}

HttpResponse SessionRoutes::sign_in(const HttpRequest& req) {
  JsonBody body(req);
  const auto name = body.string("name");
  const auto password = body.string("password");
  if (!body.ok()) return body.refusal();
  if (!name || name->empty()) return bad_param("name", "name is required");
  if (!password || password->empty()) return bad_param("password", "password is required");
  if (name->size() > 256 || password->size() > 1024) return bad_param("name", "name or password too long");

  const int64_t now = context_.now_ms();
  const int64_t wait = context_.throttle().wait_ms(*name, req.remote_address, now);
  if (wait > 0) {
    // Another attempt while the previous failure's delay runs (parallel guessing). Same answer
    // whether or not the user exists.
    const int64_t wait_s = (wait + 999) / 1000;
    HttpResponse r = error_response(429, "too_many_attempts", "",
                                    "too many failed sign-ins; try again in " + std::to_string(wait_s) + " s");
    r.set_header("Retry-After", std::to_string(wait_s));
    return r;
  }
  AuthStore& auth = *context_.deps().auth;
  const auto user = auth.check_password(*name, *password, context_.password_cost());
  if (!user) {
    const int64_t delay = context_.throttle().record_failure(*name, req.remote_address, context_.now_ms());
    spdlog::info("api: failed sign-in for '{}' from {}", *name, req.remote_address);
    HttpResponse r = error_response(401, "bad_credentials", "", "wrong user name or password");
    // The answer itself waits out the delay, so a client trying one password after another
    // is slowed down without ever seeing a 429.
    r.delay_ms = static_cast<int>(delay);
    return r;
  }
  context_.throttle().record_success(*name);
  const int64_t ttl_s = context_.deps().auth_config.session_ttl_s;
  const std::string sid = auth.create_session(user->id, now / 1000, ttl_s);
  if (sid.empty()) return error_response(500, "storage_error", "", "could not create the session");
  spdlog::info("api: '{}' signed in from {}", user->name, req.remote_address);
  HttpResponse r = json_response(200, json{{"user", user_json(*user, context_.meters_of(user->name))},
                                           {"expires_ms", (now / 1000 + ttl_s) * 1000}});
  r.add_header("Set-Cookie", context_.session_cookie(req, sid, ttl_s));
  return r;
}

HttpResponse SessionRoutes::sign_out(const HttpRequest& req) {
  const std::string sid = cookie_value(req, ApiHandler::kSessionCookie);
  if (!sid.empty()) {
    if (!same_origin(req)) return forbidden("cross-origin request refused");
    context_.deps().auth->delete_session(sid);
  }
  HttpResponse r = no_content();
  r.add_header("Set-Cookie", context_.session_cookie(req, "", 0));
  return r;
}

HttpResponse SessionRoutes::session_info(const Caller& caller) {
  if (caller.user) {
    return json_response(200, json{{"user", user_json(*caller.user, context_.meters_of(caller.user->name))},
                                   {"expires_ms", caller.session_expires_ms}});
  }
  const TokenInfo& t = *caller.token;
  return json_response(
      200,
      json{
          {"token",
           {{"id", t.id}, {"scope", scope_name(t.scope)}, {"label", t.label}, {"created_ms", t.created_at_s * 1000}}}});
}

}  // namespace wattguard::api
