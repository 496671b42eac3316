// The session routes of the API: sign in (POST /api/v1/session: same origin, JSON, throttled per address, the
// password checked on the HTTP server's worker pool), sign out, and who the caller is (GET /api/v1/session,
// /api/v1/session/me). docs/api.md "Sessions", docs/security.md. Thread-safe.
#pragma once

#include "server/api/api_context.h"
#include "server/api/api_router.h"

namespace wattguard::api {

// True when the request's Content-Type is application/json (parameters such as charset allowed).
bool is_json_content(const HttpRequest& req);

// How a submitted sign-in name appears in the log: "user 'carol'" for an existing user, else a keyed fingerprint
// (never the text itself: it may be a password typed into the wrong field, or carry control characters).
std::string loggable_name(AuthStore& auth, const std::string& submitted);

class SessionRoutes {
 public:
  explicit SessionRoutes(ApiContext& context) : context_(context) {}

  void add_to(ApiRouter& router);

 private:
  HttpResponse sign_in(const HttpRequest& req);
  // The slow half of sign_in (argon2id), on a worker thread; `req` carries the headers and address only.
  HttpResponse check_password(const HttpRequest& req, const std::string& name, const std::string& password);
  HttpResponse sign_out(const HttpRequest& req);
  HttpResponse session_info(const Caller& caller);

  ApiContext& context_;
};

}  // namespace wattguard::api
