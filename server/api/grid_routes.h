// The grid routes of the API: transformers with their latest energy balance and suspects, topology import and
// edits, and the readings import (docs/api.md "Grid and theft analysis"). Consumers are refused (403); reading
// needs a read token, operator or admin; changes need an admin. Thread-safe (called from the I/O threads).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "wattguard/api/api_handler.h"
#include "wattguard/api/http_message.h"
#include "wattguard/api/request_target.h"
#include "wattguard/base/clock.h"
#include "wattguard/grid/grid_store.h"
#include "wattguard/grid/theft_analysis_service.h"
#include "wattguard/storage/reading_store.h"

namespace wattguard::api {

struct GridRoutesDeps {
  grid::GridStore* grid = nullptr;
  grid::TheftAnalysisService* analysis = nullptr;  // optional: without it transformers have "analysis": null
  storage::ReadingStore* store = nullptr;
  Clock now_ms;
};

class GridRoutes {
 public:
  explicit GridRoutes(GridRoutesDeps deps);

  // The answer for /api/v1/{transformers,topology,import}/..., or nullopt for any other path.
  // seg: the path's segments ("api", "v1", ...).
  std::optional<HttpResponse> handle(const HttpRequest& req, const RequestTarget& target,
                                     const std::vector<std::string>& seg, const Caller& caller);

  // The transformer whose check meter `meter_id` is, or nullopt (a consumer, unassigned, or the grid
  // store failed: a failure must not block commands to ordinary meters).
  std::optional<std::string> transformer_checked_by(const std::string& meter_id);

 private:
  HttpResponse list(const RequestTarget& target);
  HttpResponse get(const std::string& id, const RequestTarget& target);
  HttpResponse add(const HttpRequest& req, const Caller& caller);
  HttpResponse remove(const std::string& id, const Caller& caller);
  HttpResponse set_members(const HttpRequest& req, const std::string& id, const Caller& caller);
  HttpResponse get_topology();
  HttpResponse replace_topology(const HttpRequest& req, const Caller& caller);
  HttpResponse import_readings(const HttpRequest& req, const Caller& caller);
  void audit(const Caller& caller, const std::string& action, const std::string& target, const std::string& details);

  GridRoutesDeps deps_;
};

}  // namespace wattguard::api
