// Meters, their readings, events and commands.
#include "server/api/meter_routes.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>
#include <variant>

#include "server/api/alert_routes.h"
#include "server/api/api_json.h"
#include "server/api/grid_routes.h"
#include "server/api/route_support.h"
#include "wattguard/base/decimal_round.h"
#include "wattguard/protocol/topics.h"

namespace wattguard::api {
namespace {

using nlohmann::json;

constexpr std::size_t kDefaultMeterLimit = 1000;
constexpr std::size_t kMaxMeterLimit = 100000;
constexpr int64_t kDefaultRangeMs = kDayMs;
constexpr int64_t kDefaultMaxPoints = 5000;
constexpr int64_t kMaxPoints = 100000;

HttpResponse meter_not_found(const std::string& id) {
  return error_response(404, "meter_not_found", "id", "no meter '" + id + "'");
}

HttpResponse command_not_found(const std::string& message) {
  return error_response(404, "command_not_found", "command_id", message);
}

}  // namespace

void MeterRoutes::add_to(ApiRouter& router) {
  router.add("*", "/api/v1/live", [](const RouteRequest&) {
    return error_response(426, "upgrade_required", "", "connect with a WebSocket to receive the live feed");
  });
  router.add("GET", "/api/v1/meters", [this](const RouteRequest& r) { return list_meters(*r.caller, r.target); });
  router.add("GET", "/api/v1/meters/{id}", [this](const RouteRequest& r) { return get_meter(*r.caller, r.params[0]); });
  router.add("GET", "/api/v1/meters/{id}/readings",
             [this](const RouteRequest& r) { return meter_readings(*r.caller, r.params[0], r.target); });
  router.add("GET", "/api/v1/meters/{id}/events",
             [this](const RouteRequest& r) { return meter_events(*r.caller, r.params[0], r.target); });
  router.add("GET", "/api/v1/meters/{id}/commands",
             [this](const RouteRequest& r) { return list_commands(*r.caller, r.params[0], r.target); });
  router.add("POST", "/api/v1/meters/{id}/commands",
             [this](const RouteRequest& r) { return send_command(r.http, *r.caller, r.params[0]); });
  router.add("GET", "/api/v1/meters/{id}/commands/{command_id}",
             [this](const RouteRequest& r) { return get_command(*r.caller, r.params[0], r.params[1]); });
}

MeterRoutes::MeterRow MeterRoutes::meter_row(const storage::MeterInfo& info, const ingest::MeterLive* live,
                                             int64_t now_ms) {
  MeterRow row;
  row.info = &info;
  row.live = live;
  row.period_s = context_.deps().default_period_s;
  if (live == nullptr) return row;
  if (live->period_s > 0) row.period_s = static_cast<int>(live->period_s);
  row.status = ingest::connectivity_name(live->connectivity);
  // Stale (ingest's verdict), or online but silent for over two periods: not yet offline (that takes
  // ingest.offline_after_periods) but the values shown are getting old.
  row.stale = live->connectivity == ingest::Connectivity::kStale ||
              (live->connectivity == ingest::Connectivity::kOnline && live->last_seen_ms > 0 &&
               now_ms - live->last_seen_ms > 2LL * row.period_s * 1000);
  if (live->last_reading) {
    const protocol::Reading& r = *live->last_reading;
    if (std::isfinite(r.p_w)) row.p_w = r.p_w;
    row.day_start_import_wh = context_.day_start().day_start_import_wh(info.id, now_ms, r.time_ms, r.e_import_wh);
    if (row.day_start_import_wh) {
      const bool today = r.time_ms >= now_ms - ((now_ms % kDayMs) + kDayMs) % kDayMs;
      row.today_import_wh = today ? std::max(0.0, r.e_import_wh - *row.day_start_import_wh) : 0.0;
    }
  }
  return row;
}

// Built member by member rather than from initializer lists: the fleet page asks for every meter at once, and
// this runs 10,000 times per request there.
json MeterRoutes::meter_json(const MeterRow& row, bool fleet_fields) const {
  const storage::MeterInfo& info = *row.info;
  const ingest::MeterLive* live = row.live;
  const auto optional_number = [fleet_fields](const std::optional<double>& v) {
    if (!v) return json(nullptr);
    return json(fleet_fields ? round_to_step(*v, 0.1) : *v);
  };
  json j = json::object();
  j["id"] = info.id;
  j["name"] = info.name;
  j["area"] = info.area;
  j["owner"] = info.owner;
  j["created_ms"] = info.created_ms;
  j["retired_ms"] = info.retired_ms;
  j["status"] = row.status;
  j["since_ms"] = live != nullptr ? live->since_ms : 0;
  j["last_seen_ms"] = live != nullptr ? live->last_seen_ms : 0;
  j["offline_reason"] = live != nullptr ? live->offline_reason : std::string();
  j["period_s"] = row.period_s;
  j["relay"] = live != nullptr ? protocol::relay_state_name(live->relay) : "unknown";
  j["stale"] = row.stale;
  j["alerts_open"] = row.alerts_open;
  if (live != nullptr && live->last_reading) {
    const protocol::Reading& r = *live->last_reading;
    if (fleet_fields) {
      // The fleet list shows power, voltage and energy only, to 0.1: a third of the bytes of the full reading.
      json slim = json::object();
      slim["time_ms"] = r.time_ms;
      slim["flags"] = r.flags;
      for (const auto& [key, value] :
           {std::pair{"vrms", r.vrms}, std::pair{"p_w", r.p_w}, std::pair{"e_import_wh", r.e_import_wh}}) {
        slim[key] = std::isfinite(value) ? json(round_to_step(value, 0.1)) : json(nullptr);
      }
      j["last_reading"] = std::move(slim);
    } else {
      j["last_reading"] = reading_json(r);
    }
    j["tamper"] = active_tamper(r.flags);
  } else {
    j["last_reading"] = nullptr;
    j["tamper"] = json::array();
  }
  j["today_import_wh"] = optional_number(row.today_import_wh);
  j["day_start_import_wh"] = optional_number(row.day_start_import_wh);
  return j;
}

HttpResponse MeterRoutes::list_meters(const Caller& caller, const RequestTarget& target) {
  const auto limit_param = int_param(target, "limit", 1, kMaxMeterLimit, kDefaultMeterLimit);
  if (!limit_param.ok()) return bad_param(limit_param.error());
  const auto offset_param = int_param(target, "offset", 0, INT32_MAX, 0);
  if (!offset_param.ok()) return bad_param(offset_param.error());
  const int64_t limit = *limit_param;
  const int64_t offset = *offset_param;
  std::string status_filter;
  if (const std::string* s = target.param("status")) {
    if (*s != "online" && *s != "offline" && *s != "unknown" && *s != "stale") {
      return bad_param("status", "status = '" + *s + "': expected online, offline, unknown or stale");
    }
    status_filter = *s;
  }
  bool fleet_fields = false;
  if (const std::string* f = target.param("fields")) {
    if (*f != "fleet" && *f != "all") return bad_param("fields", "fields = '" + *f + "': expected fleet or all");
    fleet_fields = *f == "fleet";
  }
  const std::string q = target.param("q") != nullptr ? ascii_lower(*target.param("q")) : "";
  const std::string* area = target.param("area");
  std::string sort = target.param("sort") != nullptr ? *target.param("sort") : "id";
  const bool descending = !sort.empty() && sort[0] == '-';
  if (descending) sort.erase(0, 1);
  static constexpr const char* kSorts[] = {"id", "name", "area", "status", "p_w", "last_seen_ms", "today_import_wh"};
  if (std::find(std::begin(kSorts), std::end(kSorts), sort) == std::end(kSorts)) {
    return bad_param("sort", "sort = '" + sort +
                                 "': expected id, name, area, status, p_w, last_seen_ms or today_import_wh "
                                 "(prefix - for descending)");
  }

  const int64_t now = context_.now_ms();
  const auto snap = context_.directory().get(now);
  const std::vector<ingest::MeterLive> live_states = context_.deps().ingest->live_states();
  std::unordered_map<std::string_view, const ingest::MeterLive*> live;
  live.reserve(live_states.size());
  for (const auto& m : live_states) live.emplace(m.meter_id, &m);
  AlertRoutes* alerts = context_.deps().alerts;
  const std::map<std::string, int> alerts_open = alerts ? alerts->open_counts(caller) : std::map<std::string, int>{};

  // Filter and sort plain rows; only the page is turned into JSON.
  std::vector<MeterRow> rows;
  const auto consider = [&](const storage::MeterInfo& info) {
    if (area != nullptr && info.area != *area) return;
    if (!q.empty()) {
      const bool hit =
          ascii_lower(info.id).find(q) != std::string::npos || ascii_lower(info.name).find(q) != std::string::npos ||
          ascii_lower(info.area).find(q) != std::string::npos || ascii_lower(info.owner).find(q) != std::string::npos;
      if (!hit) return;
    }
    const auto it = live.find(info.id);
    MeterRow row = meter_row(info, it == live.end() ? nullptr : it->second, now);
    if (const auto open = alerts_open.find(info.id); open != alerts_open.end()) row.alerts_open = open->second;
    if (!status_filter.empty()) {
      if (status_filter == "stale" ? !row.stale : row.status != status_filter) return;
    }
    rows.push_back(row);
  };
  if (caller.access == Access::kConsumer) {
    for (const auto& id : snap->owned_by(caller.name)) {
      if (const auto* info = snap->find(id)) consider(*info);
    }
  } else {
    rows.reserve(snap->meters.size());
    for (const auto& info : snap->meters) consider(info);
  }

  if (sort != "id" || descending) {
    // Missing values sort last either way.
    using Key = std::variant<std::monostate, std::string_view, double>;
    const auto key = [&sort](const MeterRow& r) -> Key {
      if (sort == "id") return std::string_view(r.info->id);
      if (sort == "name") return std::string_view(r.info->name);
      if (sort == "area") return std::string_view(r.info->area);
      if (sort == "status") return r.status;
      if (sort == "last_seen_ms") return static_cast<double>(r.live != nullptr ? r.live->last_seen_ms : 0);
      const std::optional<double>& v = sort == "p_w" ? r.p_w : r.today_import_wh;
      return v ? Key(*v) : Key();
    };
    std::stable_sort(rows.begin(), rows.end(), [&](const MeterRow& a, const MeterRow& b) {
      const Key ka = key(a);
      const Key kb = key(b);
      const bool na = std::holds_alternative<std::monostate>(ka);
      const bool nb = std::holds_alternative<std::monostate>(kb);
      if (na != nb) return nb;
      if (na) return false;
      return descending ? kb < ka : ka < kb;
    });
  }
  const std::size_t total = rows.size();
  json meters = json::array();
  for (std::size_t i = static_cast<std::size_t>(offset); i < total && meters.size() < static_cast<std::size_t>(limit);
       ++i) {
    meters.push_back(meter_json(rows[i], fleet_fields));
  }
  return json_response(
      200,
      json{{"now_ms", now}, {"total", total}, {"offset", offset}, {"limit", limit}, {"meters", std::move(meters)}});
}

std::optional<json> MeterRoutes::meter_json_of(const std::string& id) {
  auto info = context_.deps().store->get_meter(id);
  if (!info.ok()) return std::nullopt;
  const std::optional<ingest::MeterLive> live = context_.deps().ingest->live_state(id);
  return meter_json(meter_row(info.value(), live ? &*live : nullptr, context_.now_ms()), false);
}

HttpResponse MeterRoutes::get_meter(const Caller& caller, const std::string& id) {
  const auto info = context_.visible_meter(caller, id);
  if (!info) return meter_not_found(id);
  const int64_t now = context_.now_ms();
  const std::optional<ingest::MeterLive> live = context_.deps().ingest->live_state(id);
  json body = meter_json(meter_row(*info, live ? &*live : nullptr, now), false);
  body["now_ms"] = now;
  if (context_.deps().alerts) body["alerts_open"] = context_.deps().alerts->open_count(id, caller);
  return json_response(200, json{{"meter", std::move(body)}});
}

HttpResponse MeterRoutes::meter_readings(const Caller& caller, const std::string& id, const RequestTarget& target) {
  const auto to_param = time_param(target, "to", context_.now_ms());
  if (!to_param.ok()) return bad_param(to_param.error());
  const int64_t to_ms = *to_param;
  const auto from_param = time_param(target, "from", to_ms - kDefaultRangeMs);
  if (!from_param.ok()) return bad_param(from_param.error());
  const int64_t from_ms = *from_param;
  if (from_ms >= to_ms) return bad_param("from", "from must be before to");
  const auto max_points_param = int_param(target, "max_points", 1, kMaxPoints, kDefaultMaxPoints);
  if (!max_points_param.ok()) return bad_param(max_points_param.error());
  const int64_t max_points = *max_points_param;
  int64_t step_ms = 0;
  if (const std::string* s = target.param("step")) {
    const auto step_s = parse_step_value(*s);
    if (!step_s) {
      return bad_param("step",
                       "step = '" + *s + "': expected seconds or a duration like 30s, 15m, 1h, 1d (at most 366d)");
    }
    step_ms = *step_s * 1000;
  } else {
    // No step: the smallest "round" step giving at most 1,000 points.
    static constexpr int64_t kStepSeconds[] = {1,   5,    10,   15,   30,    60,    120,   300,   600,
                                               900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 604800};
    const int64_t span_s = (to_ms - from_ms + 999) / 1000;
    step_ms = kStepSeconds[std::size(kStepSeconds) - 1] * 1000;
    for (int64_t s : kStepSeconds) {
      if (span_s / s <= 1000) {
        step_ms = s * 1000;
        break;
      }
    }
  }
  const int64_t buckets = (to_ms - from_ms + step_ms - 1) / step_ms;
  if (buckets > max_points) {
    return bad_param("step", "from/to/step give " + std::to_string(buckets) + " points, over max_points = " +
                                 std::to_string(max_points) + "; use a larger step or a shorter range");
  }
  if (!context_.visible_meter(caller, id)) return meter_not_found(id);
  auto series = context_.deps().store->readings(id, from_ms, to_ms, step_ms, static_cast<std::size_t>(max_points));
  if (!series.ok()) {
    if (series.error().code == ErrorCode::kNotFound) return meter_not_found(id);
    if (series.error().code == ErrorCode::kInvalidInput) return bad_param("step", series.error().message);
    return storage_error(series.error());
  }
  json points = json::array();
  for (const auto& p : series->points) points.push_back(aggregate_point_json(p));
  return json_response(200, json{{"meter_id", id},
                                 {"from_ms", from_ms},
                                 {"to_ms", to_ms},
                                 {"step_ms", series->step_ms},
                                 {"step_s", series->step_ms / 1000.0},
                                 {"source", storage::resolution_name(series->source)},
                                 {"points", std::move(points)}});
}

HttpResponse MeterRoutes::meter_events(const Caller& caller, const std::string& id, const RequestTarget& target) {
  storage::EventQuery query;
  query.meter_id = id;
  const auto from = time_param(target, "from", query.from_ms);
  if (!from.ok()) return bad_param(from.error());
  query.from_ms = *from;
  const auto to = time_param(target, "to", query.to_ms);
  if (!to.ok()) return bad_param(to.error());
  query.to_ms = *to;
  const auto limit = int_param(target, "limit", 1, 10000, 100);
  if (!limit.ok()) return bad_param(limit.error());
  query.limit = static_cast<std::size_t>(*limit);
  if (const std::string* kind = target.param("kind")) {
    query.kind = protocol::event_kind_from_name(*kind);
    if (!query.kind) return bad_param("kind", "kind = '" + *kind + "': not an event kind (see docs/protocol.md)");
  }
  if (!context_.visible_meter(caller, id)) return meter_not_found(id);
  auto events = context_.deps().store->events(query);
  if (!events.ok()) return storage_error(events.error());
  json list = json::array();
  for (const auto& e : *events) list.push_back(event_json(e));
  return json_response(200, json{{"meter_id", id}, {"events", std::move(list)}});
}

HttpResponse MeterRoutes::send_command(const HttpRequest& req, const Caller& caller, const std::string& id) {
  if (!context_.visible_meter(caller, id)) return meter_not_found(id);
  if (!caller.can_command()) {
    return forbidden(caller.token ? "a read-only token cannot send commands" : "only operators can send commands");
  }
  JsonBody body(req);
  const auto kind_name = body.string("kind");
  if (!body.ok()) return body.refusal();
  if (!kind_name) return bad_param("kind", "kind is required: relay_off, relay_on, set_period or ping");
  const auto kind = protocol::command_kind_from_name(*kind_name);
  if (!kind) return bad_param("kind", "kind = '" + *kind_name + "': expected relay_off, relay_on, set_period or ping");
  // A check meter measures a whole transformer's feeder and has no supply relay of its own: a relay
  // command to it is a mistake that would only ever time out (or, on odd firmware, cut a feeder).
  const bool relay = *kind == protocol::CommandKind::kRelayOff || *kind == protocol::CommandKind::kRelayOn;
  if (relay && context_.deps().grid) {
    if (const auto transformer = context_.deps().grid->transformer_checked_by(id)) {
      return error_response(409, "check_meter", "kind",
                            "meter " + id + " is the check meter of transformer " + *transformer +
                                ": it has no supply relay; switch the consumers' meters instead");
    }
  }
  ingest::CommandRequest request;
  request.meter_id = id;
  request.kind = *kind;
  request.requested_by = caller.name;
  if (const auto it = body.object().find("period_s"); it != body.object().end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > 3600) {
      return bad_param("period_s", "period_s must be an integer from 1 to 3600");
    }
    request.period_s = static_cast<uint32_t>(it->get<int64_t>());
  }
  if (*kind == protocol::CommandKind::kSetPeriod && !request.period_s) {
    return bad_param("period_s", "set_period needs period_s");
  }
  if (*kind != protocol::CommandKind::kSetPeriod && request.period_s) {
    return bad_param("period_s", "period_s applies only to set_period");
  }
  const auto reason = body.string("reason");
  if (!body.ok()) return body.refusal();
  if (reason) {
    if (reason->size() > 512) return bad_param("reason", "reason is limited to 512 characters");
    request.reason = *reason;
  }
  if (const auto it = body.object().find("timeout_s"); it != body.object().end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > 86400) {
      return bad_param("timeout_s", "timeout_s must be an integer from 1 to 86400");
    }
    request.timeout_ms = static_cast<int>(it->get<int64_t>() * 1000);
  }
  auto result = context_.deps().ingest->send_command(request);
  if (!result.ok()) {
    const auto& err = result.error();
    switch (err.code) {
      case ErrorCode::kNotFound: return meter_not_found(id);
      case ErrorCode::kInvalidInput: return bad_param(err.field.empty() ? "kind" : err.field, err.message);
      default:
        spdlog::error("api: command for {} not stored: {}", id, err.message);
        return error_response(500, "storage_error", "", "the command could not be stored");
    }
  }
  spdlog::info("api: {} sent {} to {} (command {})", caller.name, *kind_name, id, result->id);
  HttpResponse r = json_response(202, json{{"command", command_json(*result)}});
  r.set_header("Location", "/api/v1/meters/" + id + "/commands/" + result->id);
  return r;
}

HttpResponse MeterRoutes::list_commands(const Caller& caller, const std::string& id, const RequestTarget& target) {
  const auto limit = int_param(target, "limit", 1, 1000, 50);
  if (!limit.ok()) return bad_param(limit.error());
  if (!context_.visible_meter(caller, id)) return meter_not_found(id);
  auto list = context_.deps().store->commands(id, static_cast<std::size_t>(*limit));
  if (!list.ok()) return storage_error(list.error());
  json commands = json::array();
  for (const auto& c : *list) commands.push_back(command_json(c));
  return json_response(200, json{{"meter_id", id}, {"commands", std::move(commands)}});
}

HttpResponse MeterRoutes::get_command(const Caller& caller, const std::string& id, const std::string& command_id) {
  if (!context_.visible_meter(caller, id)) return meter_not_found(id);
  auto record = context_.deps().store->get_command(command_id);
  if (!record.ok()) {
    if (record.error().code == ErrorCode::kNotFound) {
      return command_not_found("no command '" + command_id + "'");
    }
    return storage_error(record.error());
  }
  if (record->meter_id != id) {
    return command_not_found("no command '" + command_id + "' for meter " + id);
  }
  return json_response(200, json{{"command", command_json(*record)}});
}

}  // namespace wattguard::api
