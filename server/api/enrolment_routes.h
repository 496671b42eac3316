// Adding, re-keying and retiring meters from the API (docs/api.md "Adding meters"): admins only. The secrets
// are in the answer once and stored only as digests (ingest::Enrolment does the work). Thread-safe.
#pragma once

#include "server/api/api_context.h"
#include "server/api/api_router.h"
#include "server/api/meter_routes.h"

namespace wattguard::api {

class EnrolmentRoutes {
 public:
  EnrolmentRoutes(ApiContext& context, MeterRoutes& meters) : context_(context), meters_(meters) {}

  void add_to(ApiRouter& router);

 private:
  HttpResponse add_meter(const HttpRequest& req, const Caller& caller);
  HttpResponse rotate(const Caller& caller, const std::string& id);
  HttpResponse retire(const Caller& caller, const std::string& id);
  // The registry changed: ingest and the meter directory re-read it.
  void meters_changed();

  ApiContext& context_;
  MeterRoutes& meters_;
};

}  // namespace wattguard::api
