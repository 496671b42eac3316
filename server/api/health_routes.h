// GET /api/v1/health: ingest, storage, live feed and HTTP counters for operators and API tokens
// (docs/api.md "Health"). Thread-safe.
#pragma once

#include "server/api/api_context.h"
#include "server/api/api_router.h"

namespace wattguard::api {

class HealthRoutes {
 public:
  explicit HealthRoutes(ApiContext& context) : context_(context) {}

  void add_to(ApiRouter& router);

 private:
  HttpResponse health(const Caller& caller);

  ApiContext& context_;
};

}  // namespace wattguard::api
