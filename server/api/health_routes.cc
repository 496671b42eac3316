// The health report.
#include "server/api/health_routes.h"

#include <nlohmann/json.hpp>

#include "server/api/route_support.h"

namespace wattguard::api {

using nlohmann::json;

void HealthRoutes::add_to(ApiRouter& router) {
  router.add("GET", "/api/v1/health", [this](const RouteRequest& r) { return health(*r.caller); });
}

HttpResponse HealthRoutes::health(const Caller& caller) {
  if (!caller.can_read_all()) return forbidden("health is for operators and API tokens");
  const ApiDeps& deps = context_.deps();
  const ingest::IngestHealth h = deps.ingest->health();
  const LiveHub::Stats live = deps.hub->stats();
  const int64_t now = context_.now_ms();
  json rejected = json::object();
  for (const auto& [reason, count] : h.rejected) rejected[reason] = count;
  json body = {
      {"status", h.connected && !h.storage_failing ? "ok" : "degraded"},
      {"now_ms", now},
      {"uptime_s", (now - context_.started_ms()) / 1000},
      {"mqtt", {{"connected", h.connected}, {"connects", h.connects}, {"messages_received", h.messages_received}}},
      {"readings",
       {{"received", h.readings_received},
        {"stored", h.readings_stored},
        {"duplicate", h.readings_duplicate},
        {"late", h.readings_late},
        {"pending", h.pending_readings}}},
      {"rejected", {{"total", h.rejected_total}, {"by_reason", std::move(rejected)}}},
      {"meters",
       {{"known", h.meters_known},
        {"online", h.meters_online},
        {"stale", h.meters_stale},
        {"offline", h.meters_offline}}},
      {"events_stored", h.events_stored},
      {"statuses_received", h.statuses_received},
      {"commands",
       {{"sent", h.commands_sent}, {"acks_received", h.acks_received}, {"timed_out", h.commands_timed_out}}},
      {"storage",
       {{"batches_written", h.batches_written},
        {"errors", h.store_errors},
        {"failing", h.storage_failing},
        {"failing_since_ms", h.storage_failing_since_ms},
        {"error", h.storage_error}}},
      {"journal", {{"append_errors", h.journal_append_errors}, {"replayed", h.journal_replayed}}},
      {"live",
       {{"clients", live.clients}, {"messages_published", live.published}, {"dropped_clients", live.dropped_clients}}},
  };
  if (deps.open_connections) body["http"] = {{"open_connections", deps.open_connections()}};
  return json_response(200, body);
}

}  // namespace wattguard::api
