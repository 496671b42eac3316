// The session routes of the API: sign in (POST /api/v1/session, throttled), sign out, and who the caller is
// (GET /api/v1/session, /api/v1/session/me). docs/api.md "Sessions". Thread-safe.
#pragma once

#include "server/api/api_context.h"
#include "server/api/api_router.h"

namespace wattguard::api {

class SessionRoutes {
 public:
  explicit SessionRoutes(ApiContext& context) : context_(context) {}

  void add_to(ApiRouter& router);

 private:
  HttpResponse sign_in(const HttpRequest& req);
  HttpResponse sign_out(const HttpRequest& req);
  HttpResponse session_info(const Caller& caller);

  ApiContext& context_;
};

}  // namespace wattguard::api
