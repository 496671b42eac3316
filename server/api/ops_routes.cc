// Liveness, readiness and the Prometheus exposition.
#include "server/api/ops_routes.h"

#include <string>

#include "server/api/metrics_text.h"
#include "server/api/route_support.h"

namespace wattguard::api {
namespace {

// Any name: the probe only asks whether the store answers (kNotFound is an answer).
constexpr const char* kProbeMeter = "readyz-probe";

HttpResponse plain_text(int status, std::string body, const char* content_type = "text/plain; charset=utf-8") {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.set_header("Content-Type", content_type);
  r.set_header("Cache-Control", "no-store");
  return r;
}

bool is_read(const HttpRequest& req) { return req.method == "GET" || req.method == "HEAD"; }

}  // namespace

HttpResponse OpsRoutes::probe(const HttpRequest& req, std::string_view path) {
  if (!is_read(req)) return method_not_allowed("GET, HEAD");
  if (path == "/healthz") return plain_text(200, "ok");
  // Ready: ingest's broker session is up and the store answers a query. Only which part is down is told.
  std::string down;
  if (!context_.deps().ingest->connected()) down = "broker";
  const auto probe = context_.deps().store->get_meter(kProbeMeter);
  // A store that answers reads can still fail every write (a full disk): ingest knows.
  const bool store_down =
      (!probe.ok() && probe.error().code != ErrorCode::kNotFound) || context_.deps().ingest->health().storage_failing;
  if (store_down) down += down.empty() ? "storage" : ", storage";
  if (!down.empty()) return plain_text(503, "not ready: " + down);
  return plain_text(200, "ready");
}

HttpResponse OpsRoutes::metrics(const HttpRequest& req, const Caller& caller) {
  if (!is_read(req)) return method_not_allowed("GET, HEAD");
  if (!caller.can_read_all()) return forbidden("metrics are for API tokens, operators and admins");
  MetricsWriter out;
  write_server_metrics(context_, out);
  for (const auto& source : own_sources_) source(out);
  for (const auto& source : context_.deps().metrics_sources) source(out);
  return plain_text(200, out.text(), MetricsWriter::kContentType);
}

}  // namespace wattguard::api
