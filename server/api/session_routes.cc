// Sign-in, sign-out and the caller's own session or token.
#include "server/api/session_routes.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <array>
#include <nlohmann/json.hpp>

#include "server/api/api_json.h"
#include "server/api/route_support.h"
#include "wattguard/base/sodium.h"

namespace wattguard::api {

using nlohmann::json;

bool is_json_content(const HttpRequest& req) {
  const std::string* type = req.header("content-type");
  if (type == nullptr) return false;
  const std::string media = ascii_lower(type->substr(0, type->find(';')));
  const auto end = media.find_last_not_of(" \t");
  return media.substr(0, end == std::string::npos ? 0 : end + 1) == "application/json";
}

std::string loggable_name(AuthStore& auth, const std::string& submitted) {
  // A real user's name is safe to log (and what an operator needs). Anything else may be a password typed into
  // the name field, or text made to forge log lines: log only a keyed fingerprint, the same within one run.
  if (check_user_name(submitted).empty() && auth.find_user(submitted)) return "user '" + submitted + "'";
  static const std::array<unsigned char, crypto_generichash_KEYBYTES> kKey = [] {
    ensure_sodium();
    std::array<unsigned char, crypto_generichash_KEYBYTES> key{};
    randombytes_buf(key.data(), key.size());
    return key;
  }();
  std::array<unsigned char, 6> digest{};
  crypto_generichash(digest.data(), digest.size(), reinterpret_cast<const unsigned char*>(submitted.data()),
                     submitted.size(), kKey.data(), kKey.size());
  std::array<char, digest.size() * 2 + 1> hex{};
  sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
  return "an unknown name (fingerprint " + std::string(hex.data()) + ")";
}

void SessionRoutes::add_to(ApiRouter& router) {
  router.add("GET", "/api/v1/session", [this](const RouteRequest& r) { return session_info(*r.caller); });
  // Sign-in and sign-out need no (valid) credentials.
  router.add_public("POST", "/api/v1/session", [this](const RouteRequest& r) { return sign_in(r.http); });
  router.add_public("DELETE", "/api/v1/session", [this](const RouteRequest& r) { return sign_out(r.http); });
  router.add("GET", "/api/v1/session/me", [this](const RouteRequest& r) { return session_info(*r.caller); });
}

HttpResponse SessionRoutes::sign_in(const HttpRequest& req) {
  // Login CSRF: another site's form (which cannot send application/json without a preflight) or script must not
  // sign the browser in to an account of the attacker's choosing.
  if (!same_origin(req)) return forbidden("cross-origin sign-in refused");
  if (!is_json_content(req)) {
    return error_response(415, "unsupported_media_type", "", "send the sign-in as Content-Type: application/json");
  }
  JsonBody body(req);
  const auto name = body.string("name");
  const auto password = body.string("password");
  if (!body.ok()) return body.refusal();
  if (!name || name->empty()) return bad_param("name", "name is required");
  if (!password || password->empty()) return bad_param("password", "password is required");
  if (name->size() > 256 || password->size() > 1024) return bad_param("name", "name or password too long");

  const int64_t wait = context_.throttle().wait_ms(*name, req.remote_address, context_.now_ms());
  if (wait > 0) {
    // This address tries again while its previous failure's delay runs (parallel guessing). Same answer
    // whether or not the user exists; other addresses are not affected.
    const int64_t wait_s = (wait + 999) / 1000;
    HttpResponse r = error_response(429, "too_many_attempts", "",
                                    "too many failed sign-ins; try again in " + std::to_string(wait_s) + " s");
    r.set_header("Retry-After", std::to_string(wait_s));
    return r;
  }
  // argon2id takes tens of milliseconds and much memory: the HTTP server runs it on its worker pool.
  HttpRequest head;
  head.headers = req.headers;
  head.remote_address = req.remote_address;
  head.tls = req.tls;  // the cookie is Secure over our own HTTPS
  HttpResponse pending;
  pending.offload = [this, head = std::move(head), name = *name, password = *password]() {
    return check_password(head, name, password);
  };
  return pending;
}

HttpResponse SessionRoutes::check_password(const HttpRequest& req, const std::string& name,
                                           const std::string& password) {
  AuthStore& auth = *context_.deps().auth;
  const auto user = auth.check_password(name, password, context_.password_cost());
  const int64_t now = context_.now_ms();
  if (!user) {
    const int64_t delay = context_.throttle().record_failure(name, req.remote_address, now);
    spdlog::info("api: failed sign-in for {} from {}", loggable_name(auth, name), req.remote_address);
    HttpResponse r = error_response(401, "bad_credentials", "", "wrong user name or password");
    // The answer itself waits out the delay, so a client trying one password after another
    // is slowed down without ever seeing a 429.
    r.delay_ms = static_cast<int>(delay);
    return r;
  }
  context_.throttle().record_success(name, req.remote_address);
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
