// The operations endpoints outside /api/: GET /healthz (liveness, no credentials), GET /readyz (broker and
// storage reachable) and GET /metrics (Prometheus text, for API tokens and operator or admin sessions).
// docs/api.md "Operations". Thread-safe: called from every I/O thread.
#pragma once

#include <string_view>
#include <utility>
#include <vector>

#include "server/api/api_context.h"

namespace wattguard::api {

class OpsRoutes {
 public:
  // `own_sources`: the api part's own families beyond write_server_metrics (the emoncms input's counters).
  OpsRoutes(ApiContext& context, std::vector<MetricsSource> own_sources)
      : context_(context), own_sources_(std::move(own_sources)) {}

  static bool is_ops_path(std::string_view path) {
    return path == "/healthz" || path == "/readyz" || path == "/metrics";
  }
  // /healthz or /readyz; REQUIRES: is_ops_path(path) and path != "/metrics".
  HttpResponse probe(const HttpRequest& req, std::string_view path);
  // /metrics for an authenticated caller (consumers are refused).
  HttpResponse metrics(const HttpRequest& req, const Caller& caller);

 private:
  ApiContext& context_;
  std::vector<MetricsSource> own_sources_;
};

}  // namespace wattguard::api
