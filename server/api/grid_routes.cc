// Grid routes: JSON for transformers and their analysis, topology and readings imports with row-naming errors.
#include "server/api/grid_routes.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "server/api/route_support.h"
#include "wattguard/base/decimal_round.h"
#include "wattguard/grid/readings_import.h"
#include "wattguard/grid/topology_import.h"

namespace wattguard::api {
namespace {

using nlohmann::json;

constexpr size_t kTopSuspects = 3;

HttpResponse transformer_not_found(const std::string& id) {
  return error_response(404, "transformer_not_found", "id", "no transformer '" + id + "'");
}

HttpResponse grid_storage_error(const Error& status) { return storage_error(status, "grid"); }

// A bad file: 400 with the row's line, column and value besides the usual error members.
HttpResponse bad_file(const Error& e) {
  json error = {{"code", "bad_parameter"}, {"field", "body"}, {"message", grid::describe_error(e)}};
  if (e.line > 0) error["line"] = e.line;
  if (!e.field.empty()) error["column"] = e.field;
  if (!e.value.empty()) error["value"] = e.value;
  return json_response(400, json{{"error", std::move(error)}});
}

json point_json(const grid::BalancePoint& p) {
  return {{"end_ms", p.end_ms},
          {"check_present", p.check_present},
          {"check_kwh", p.check_present ? json(round_to_step(p.check_kwh, 1e-4)) : json(nullptr)},
          {"consumers_kwh", round_to_step(p.consumers_kwh, 1e-4)},
          {"consumers_missing", p.consumers_missing},
          {"evaluated", p.evaluated},
          {"expected_loss_kwh", round_to_step(p.expected_loss_kwh, 1e-4)},
          {"unexplained_kwh", p.evaluated ? json(round_to_step(p.unexplained_kwh, 1e-4)) : json(nullptr)},
          {"z", round_to_step(p.z, 1e-3)},
          {"cusum", round_to_step(p.cusum, 1e-3)},
          {"alert", p.alert}};
}

json suspect_json(const grid::SuspectStatus& s, bool full) {
  json j = {{"meter", s.meter},     {"rank", s.rank},         {"score", round_to_step(s.score, 1e-4)},
            {"flagged", s.flagged}, {"decision", s.decision}, {"reason", s.reason}};
  if (full) {
    j["pattern_score"] = round_to_step(s.pattern_score, 1e-3);
    j["loss_share"] = round_to_step(s.loss_share, 1e-4);
    j["attributed_kwh_per_day"] = round_to_step(s.attributed_kwh_per_day, 1e-3);
    j["first_flagged_ms"] = s.first_flagged_ms > 0 ? json(s.first_flagged_ms) : json(nullptr);
    j["evidence"] = s.evidence;
  }
  return j;
}

// The analysis summary (list) or everything (detail); null before the first analysis of the transformer.
json analysis_json(const std::optional<grid::TransformerStatus>& st, bool full, size_t series_limit) {
  if (!st) return nullptr;
  json j = {{"analysed_to_ms", st->analysed_to_ms},
            {"calibrated", st->calibrated},
            {"alert", st->alert},
            {"alert_since_ms", st->alert_since_ms > 0 ? json(st->alert_since_ms) : json(nullptr)},
            {"unexplained_kwh", round_to_step(st->unexplained_kwh, 1e-3)},
            {"check_kwh", round_to_step(st->check_kwh, 1e-3)},
            {"loss_share", round_to_step(st->loss_share, 1e-5)},
            {"state", st->state},
            {"last_interval", st->last ? point_json(*st->last) : json(nullptr)}};
  json suspects = json::array();
  for (const auto& s : st->suspects) {
    if (!full && suspects.size() >= kTopSuspects) break;
    suspects.push_back(suspect_json(s, full));
  }
  j[full ? "suspects" : "top_suspects"] = std::move(suspects);
  if (full) {
    j["history_from_ms"] = st->history_from_ms;
    j["alerts_raised"] = st->alerts_raised;
    j["cusum"] = round_to_step(st->cusum, 1e-3);
    j["threshold"] = round_to_step(st->threshold, 1e-3);
    j["evidence"] = st->evidence;
    j["balance_alert"] = st->balance_alert;
    j["check_silent_hours"] = round_to_step(st->check_silent_hours, 0.01);
    json episodes = json::array();
    for (const grid::EpisodeStatus& e : st->episodes) {
      episodes.push_back({{"start_ms", e.start_ms},
                          {"end_ms", e.open ? json(nullptr) : json(e.end_ms)},
                          {"energy_kwh", round_to_step(e.energy_kwh, 1e-3)},
                          {"peak_loss_share", round_to_step(e.peak_loss_share, 1e-5)},
                          {"open", e.open}});
    }
    j["episodes"] = std::move(episodes);
    json series = json::array();
    const size_t skip = st->series.size() > series_limit ? st->series.size() - series_limit : 0;
    for (size_t i = skip; i < st->series.size(); ++i) series.push_back(point_json(st->series[i]));
    j["series"] = std::move(series);
  }
  return j;
}

json transformer_json(const grid::Transformer& t, bool members) {
  json j = {
      {"id", t.id}, {"name", t.name}, {"area", t.area}, {"check_meter", t.check_meter}, {"created_ms", t.created_ms}};
  if (members) {
    j["consumers"] = t.consumers;
  } else {
    j["consumer_count"] = t.consumers.size();
  }
  return j;
}

// The consumers member: an array of strings (empty when absent), or an Error naming the bad entry.
Expected<std::vector<std::string>> consumers_member(const json& body) {
  std::vector<std::string> consumers;
  const auto it = body.find("consumers");
  if (it == body.end() || it->is_null()) return consumers;
  if (!it->is_array()) return Error::invalid("consumers", it->dump(), "consumers must be an array of meter ids");
  for (size_t i = 0; i < it->size(); ++i) {
    if (!(*it)[i].is_string()) {
      return Error::invalid("consumers[" + std::to_string(i) + "]", (*it)[i].dump(), "meter ids are strings");
    }
    consumers.push_back((*it)[i].get<std::string>());
  }
  return consumers;
}

// The string members id, name, area and check_meter of a transformer body; when several are not strings, the
// 400 names the last of them.
struct TransformerMembers {
  Expected<std::optional<std::string>> id, name, area, check_meter;

  explicit TransformerMembers(const json& body)
      : id(string_member(body, "id")),
        name(string_member(body, "name")),
        area(string_member(body, "area")),
        check_meter(string_member(body, "check_meter")) {}

  std::optional<HttpResponse> refusal(bool with_id) const {
    for (const auto* m : {&check_meter, &area, &name}) {
      if (!m->ok()) return bad_param(m->error());
    }
    if (with_id && !id.ok()) return bad_param(id.error());
    return std::nullopt;
  }
};

}  // namespace

GridRoutes::GridRoutes(GridRoutesDeps deps) : deps_(std::move(deps)) {}

void GridRoutes::audit(const Caller& caller, const std::string& action, const std::string& target,
                       const std::string& details) {
  write_audit(*deps_.store, deps_.now_ms(), caller, action, target, details);
}

std::optional<HttpResponse> GridRoutes::handle(const HttpRequest& req, const RequestTarget& target,
                                               const std::vector<std::string>& seg, const Caller& caller) {
  const size_t n = seg.size();
  if (n < 3 || (seg[2] != "transformers" && seg[2] != "topology" && seg[2] != "import")) return std::nullopt;
  const bool is_import = seg[2] == "import";
  if (is_import && !(n == 4 && seg[3] == "readings")) return std::nullopt;
  if (seg[2] == "topology" && n != 3) return std::nullopt;
  if (seg[2] == "transformers" && n > 5) return std::nullopt;
  if (n == 5 && seg[4] != "members") return std::nullopt;
  if (!caller.can_read_all()) return forbidden("the grid model and theft analysis are for operators and API tokens");
  const std::string& m = req.method;
  const bool reading = m == "GET" || m == "HEAD";
  if (!reading && !caller.is_admin()) return forbidden("only admins change the grid model or import data");

  if (is_import) return m == "POST" ? import_readings(req, caller) : method_not_allowed("POST");
  if (seg[2] == "topology") {
    if (reading) return get_topology();
    if (m == "PUT") return replace_topology(req, caller);
    return method_not_allowed("GET, PUT");
  }
  if (n == 3) {
    if (reading) return list(target);
    if (m == "POST") return add(req, caller);
    return method_not_allowed("GET, POST");
  }
  if (n == 4) {
    if (reading) return get(seg[3], target);
    if (m == "DELETE") return remove(seg[3], caller);
    return method_not_allowed("GET, DELETE");
  }
  return m == "PUT" ? set_members(req, seg[3], caller) : method_not_allowed("PUT");
}

HttpResponse GridRoutes::list(const RequestTarget& target) {
  auto all = deps_.grid->list();
  if (!all.ok()) return grid_storage_error(all.error());
  const std::string* area = target.param("area");
  const std::string* alert = target.param("alert");
  if (alert != nullptr && *alert != "true" && *alert != "false") {
    return bad_param("alert", "alert = '" + *alert + "': expected true or false");
  }
  json rows = json::array();
  for (const auto& t : all.value()) {
    if (area != nullptr && t.area != *area) continue;
    std::optional<grid::TransformerStatus> st;
    if (deps_.analysis) st = deps_.analysis->status(t.id);
    if (alert != nullptr && (st && st->alert) != (*alert == "true")) continue;
    json row = transformer_json(t, false);
    row["analysis"] = analysis_json(st, false, 0);
    rows.push_back(std::move(row));
  }
  return json_response(200, json{{"now_ms", deps_.now_ms()}, {"transformers", std::move(rows)}});
}

HttpResponse GridRoutes::get(const std::string& id, const RequestTarget& target) {
  auto t = deps_.grid->get(id);
  if (!t.ok()) {
    if (t.error().code == ErrorCode::kNotFound) return transformer_not_found(id);
    return grid_storage_error(t.error());
  }
  int64_t limit = 96;
  if (const std::string* v = target.param("intervals")) {
    const auto parsed = parse_int_value(*v, 0, 100000);
    if (!parsed) return bad_param("intervals", "intervals = '" + *v + "': expected an integer from 0 to 100000");
    limit = *parsed;
  }
  json members = json::array();
  for (size_t i = 0; i <= t->consumers.size(); ++i) {
    const std::string& meter = i == 0 ? t->check_meter : t->consumers[i - 1];
    json row = {{"meter", meter}, {"role", i == 0 ? "check" : "consumer"}};
    if (auto info = deps_.store->get_meter(meter); info.ok()) {
      row["name"] = info->name;
      row["area"] = info->area;
    }
    members.push_back(std::move(row));
  }
  json body = transformer_json(t.value(), true);
  body["members"] = std::move(members);
  std::optional<grid::TransformerStatus> st;
  if (deps_.analysis) st = deps_.analysis->status(id);
  return json_response(200, json{{"now_ms", deps_.now_ms()},
                                 {"transformer", std::move(body)},
                                 {"analysis", analysis_json(st, true, static_cast<size_t>(limit))}});
}

std::optional<std::string> GridRoutes::transformer_checked_by(const std::string& meter_id) {
  auto m = deps_.grid->membership(meter_id);
  if (!m.ok() || !m->has_value() || (*m)->second != "check") return std::nullopt;
  return (*m)->first;
}

HttpResponse GridRoutes::add(const HttpRequest& req, const Caller& caller) {
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return bad_param("body", "the body is not a JSON object");
  const TransformerMembers members(body);
  if (auto refusal = members.refusal(true)) return std::move(*refusal);
  const std::optional<std::string>& id = *members.id;
  const std::optional<std::string>& name = *members.name;
  const std::optional<std::string>& area = *members.area;
  const std::optional<std::string>& check = *members.check_meter;
  grid::Transformer t;
  if (!id) return bad_param("id", "id is required");
  if (!check) return bad_param("check_meter", "check_meter is required");
  t.id = *id;
  t.name = name.value_or("");
  t.area = area.value_or("");
  t.check_meter = *check;
  auto consumers = consumers_member(body);
  if (!consumers.ok()) return bad_param(consumers.error());
  t.consumers = std::move(consumers).value();
  const grid::MeterKnown known = [this](const std::string& m) { return deps_.store->has_meter(m); };
  if (auto checked = grid::check_transformer(t, known); !checked) {
    return bad_param(checked.error().field, grid::describe_error(checked.error()));
  }
  if (deps_.grid->get(t.id).ok()) {
    return error_response(409, "transformer_exists", "id", "transformer '" + t.id + "' exists");
  }
  if (auto s = deps_.grid->add(t, deps_.now_ms()); !s.ok()) {
    if (s.error().code == ErrorCode::kAlreadyExists)
      return error_response(409, "meter_assigned", "consumers", s.error().message);
    return grid_storage_error(s.error());
  }
  audit(caller, "transformer.add", t.id, std::to_string(t.consumers.size()) + " consumers, check " + t.check_meter);
  auto stored = deps_.grid->get(t.id);
  if (!stored.ok()) return grid_storage_error(stored.error());
  HttpResponse r = json_response(201, json{{"transformer", transformer_json(stored.value(), true)}});
  r.set_header("Location", "/api/v1/transformers/" + t.id);
  return r;
}

HttpResponse GridRoutes::remove(const std::string& id, const Caller& caller) {
  if (auto s = deps_.grid->remove(id); !s.ok()) {
    if (s.error().code == ErrorCode::kNotFound) return transformer_not_found(id);
    return grid_storage_error(s.error());
  }
  audit(caller, "transformer.delete", id, "");
  return no_content();
}

HttpResponse GridRoutes::set_members(const HttpRequest& req, const std::string& id, const Caller& caller) {
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return bad_param("body", "the body is not a JSON object");
  auto current = deps_.grid->get(id);
  if (!current.ok()) {
    if (current.error().code == ErrorCode::kNotFound) return transformer_not_found(id);
    return grid_storage_error(current.error());
  }
  const TransformerMembers members(body);
  if (auto refusal = members.refusal(false)) return std::move(*refusal);
  const std::optional<std::string>& name = *members.name;
  const std::optional<std::string>& area = *members.area;
  const std::optional<std::string>& check = *members.check_meter;
  if (!body.contains("consumers")) return bad_param("consumers", "consumers is required (the complete list)");
  grid::Transformer t = current.value();
  auto consumers = consumers_member(body);
  if (!consumers.ok()) return bad_param(consumers.error());
  t.consumers = std::move(consumers).value();
  if (check) t.check_meter = *check;
  if (name) t.name = *name;
  if (area) t.area = *area;
  const grid::MeterKnown known = [this](const std::string& m) { return deps_.store->has_meter(m); };
  if (auto checked = grid::check_transformer(t, known); !checked) {
    return bad_param(checked.error().field, grid::describe_error(checked.error()));
  }
  if (auto s = deps_.grid->set_members(id, t.check_meter, t.consumers, name, area); !s.ok()) {
    if (s.error().code == ErrorCode::kAlreadyExists)
      return error_response(409, "meter_assigned", "consumers", s.error().message);
    if (s.error().code == ErrorCode::kNotFound) return transformer_not_found(id);
    return grid_storage_error(s.error());
  }
  audit(caller, "transformer.members", id, std::to_string(t.consumers.size()) + " consumers, check " + t.check_meter);
  auto stored = deps_.grid->get(id);
  if (!stored.ok()) return grid_storage_error(stored.error());
  return json_response(200, json{{"transformer", transformer_json(stored.value(), true)}});
}

HttpResponse GridRoutes::get_topology() {
  auto all = deps_.grid->list();
  if (!all.ok()) return grid_storage_error(all.error());
  json list = json::array();
  for (const auto& t : all.value()) list.push_back(transformer_json(t, true));
  return json_response(200, json{{"transformers", std::move(list)}});
}

HttpResponse GridRoutes::replace_topology(const HttpRequest& req, const Caller& caller) {
  if (req.body.empty()) return bad_param("body", "a topology is required: CSV transformer,meter,role or JSON");
  const grid::MeterKnown known = [this](const std::string& m) { return deps_.store->has_meter(m); };
  auto parsed = grid::parse_grid_topology(req.body, "topology", known);
  if (!parsed.ok()) return bad_file(parsed.error());
  size_t previous = 0;
  if (auto before = deps_.grid->list(); before.ok()) previous = before->size();
  if (auto s = deps_.grid->replace_all(parsed.value(), deps_.now_ms()); !s.ok()) return grid_storage_error(s.error());
  size_t consumers = 0;
  for (const auto& t : parsed.value()) consumers += t.consumers.size();
  audit(caller, "topology.replace", "",
        std::to_string(parsed.value().size()) + " transformers, " + std::to_string(consumers) + " consumers");
  return json_response(200, json{{"transformers", parsed.value().size()},
                                 {"consumers", consumers},
                                 {"replaced_transformers", previous}});
}

HttpResponse GridRoutes::import_readings(const HttpRequest& req, const Caller& caller) {
  if (req.body.empty()) return bad_param("body", "a readings CSV is required: meter,time,kwh");
  auto result = grid::import_readings(req.body, "readings", *deps_.store, deps_.now_ms());
  if (!result.ok()) {
    if (result.error().field == "storage") {
      return grid_storage_error(Error::io(result.error().message));
    }
    return bad_file(result.error());
  }
  const grid::ReadingsImportSummary& s = result.value();
  audit(caller, "readings.import", "",
        std::to_string(s.meters) + " meters, " + std::to_string(s.intervals_stored) + " intervals stored");
  return json_response(200, json{{"rows", s.rows},
                                 {"meters", s.meters},
                                 {"intervals_stored", s.intervals_stored},
                                 {"intervals_skipped", s.intervals_skipped},
                                 {"intervals_filled", s.intervals_filled},
                                 {"intervals_missing", s.intervals_missing},
                                 {"source_interval_s", s.source_interval_s},
                                 {"first_end_ms", s.first_end_ms},
                                 {"last_end_ms", s.last_end_ms}});
}

}  // namespace wattguard::api
