// The meter routes of the API: the meter list (filtered, sorted, paged) and one meter, its readings series and
// events, its commands (send, list, get), and the live feed's plain-HTTP answer (docs/api.md "Meters",
// "Commands"). Consumers see only their own meters (404 for others). Thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "server/api/api_context.h"
#include "server/api/api_router.h"

namespace wattguard::api {

class MeterRoutes {
 public:
  explicit MeterRoutes(ApiContext& context) : context_(context) {}

  void add_to(ApiRouter& router);

  // The meter as GET /api/v1/meters/{id} shows it (for an operator), or nullopt when unknown.
  std::optional<nlohmann::json> meter_json_of(const std::string& id);

 private:
  HttpResponse list_meters(const Caller& caller, const RequestTarget& target);
  HttpResponse get_meter(const Caller& caller, const std::string& id);
  HttpResponse meter_readings(const Caller& caller, const std::string& id, const RequestTarget& target);
  HttpResponse meter_events(const Caller& caller, const std::string& id, const RequestTarget& target);
  HttpResponse send_command(const HttpRequest& req, const Caller& caller, const std::string& id);
  HttpResponse list_commands(const Caller& caller, const std::string& id, const RequestTarget& target);
  HttpResponse get_command(const Caller& caller, const std::string& id, const std::string& command_id);

  // What the meter list filters and sorts on, computed once per meter; JSON is built only for the rows sent.
  struct MeterRow {
    const storage::MeterInfo* info = nullptr;
    const ingest::MeterLive* live = nullptr;  // null: never heard from
    std::string_view status = "unknown";
    int period_s = 0;
    bool stale = false;
    int alerts_open = 0;
    std::optional<double> p_w;
    std::optional<double> day_start_import_wh;
    std::optional<double> today_import_wh;
  };
  MeterRow meter_row(const storage::MeterInfo& info, const ingest::MeterLive* live, int64_t now_ms);
  // `fleet_fields`: the slim form of the fleet page (reading cut to time, flags, vrms, p_w, e_import_wh; 0.1).
  nlohmann::json meter_json(const MeterRow& row, bool fleet_fields) const;

  ApiContext& context_;
};

}  // namespace wattguard::api
