// The operations endpoints outside /api/: GET /healthz (liveness, no credentials), GET /readyz (broker and
// storage reachable) and GET /metrics (Prometheus text, for API tokens and operator or admin sessions).
// docs/api.md "Operations". Thread-safe: called from every I/O thread.
#pragma once

#include <string_view>

#include "server/api/api_context.h"

namespace wattguard::api {

class OpsRoutes {
 public:
  explicit OpsRoutes(ApiContext& context) : context_(context) {}

  static bool is_ops_path(std::string_view path) {
    return path == "/healthz" || path == "/readyz" || path == "/metrics";
  }
  // /healthz or /readyz; REQUIRES: is_ops_path(path) and path != "/metrics".
  HttpResponse probe(const HttpRequest& req, std::string_view path);
  // /metrics for an authenticated caller (consumers are refused).
  HttpResponse metrics(const HttpRequest& req, const Caller& caller);

 private:
  ApiContext& context_;
};

}  // namespace wattguard::api
