// The enrolment routes.
#include "server/api/enrolment_routes.h"

#include <nlohmann/json.hpp>

#include "server/api/route_support.h"
#include "wattguard/ingest/enrolment.h"

namespace wattguard::api {

using nlohmann::json;

namespace {

json credentials_json(const ingest::DeviceCredentials& c) {
  json j = json::object();
  if (c.mqtt_username) j["mqtt_username"] = *c.mqtt_username;
  if (c.mqtt_password) j["mqtt_password"] = *c.mqtt_password;
  if (c.blynk_token) j["blynk_token"] = *c.blynk_token;
  if (c.emoncms_apikey) j["emoncms_apikey"] = *c.emoncms_apikey;
  return j;
}

json connect_json(const ConnectHints& c) {
  json j = json::object();
  if (c.mqtt_port > 0) j["mqtt_port"] = c.mqtt_port;
  if (c.blynk_port > 0) j["blynk_port"] = c.blynk_port;
  if (c.blynk_tls_port > 0) j["blynk_tls_port"] = c.blynk_tls_port;
  if (!c.emoncms_path.empty()) j["emoncms_path"] = c.emoncms_path;
  return j;
}

}  // namespace

void EnrolmentRoutes::add_to(ApiRouter& router) {
  router.add("POST", "/api/v1/meters", [this](const RouteRequest& r) { return add_meter(r.http, *r.caller); });
  router.add("POST", "/api/v1/meters/{id}/credentials",
             [this](const RouteRequest& r) { return rotate(*r.caller, r.params[0]); });
  router.add("DELETE", "/api/v1/meters/{id}", [this](const RouteRequest& r) { return retire(*r.caller, r.params[0]); });
}

void EnrolmentRoutes::meters_changed() {
  context_.deps().ingest->reload_meters();
  context_.ownership_changed();
}

HttpResponse EnrolmentRoutes::add_meter(const HttpRequest& req, const Caller& caller) {
  if (!caller.is_admin()) return forbidden("adding meters is for admins");
  ingest::Enrolment* enrolment = context_.deps().enrolment;
  if (enrolment == nullptr) return error_response(503, "unavailable", "", "this server does not add meters");
  JsonBody body(req);
  storage::MeterInfo meter;
  meter.id = body.string("id").value_or("");
  meter.name = body.string("name").value_or("");
  meter.area = body.string("area").value_or("");
  meter.owner = body.string("owner").value_or("");
  if (!body.ok()) return body.refusal();
  if (meter.id.empty()) return bad_param("id", "id is required");
  std::vector<ingest::DeviceProtocol> protocols;
  const json& obj = body.object();
  if (!obj.contains("protocols")) {
    protocols.push_back(ingest::DeviceProtocol::kMqtt);
  } else {
    const json& list = obj["protocols"];
    if (!list.is_array() || list.empty()) {
      return bad_param("protocols", "protocols must be a non-empty array of \"mqtt\", \"blynk\", \"emoncms\"");
    }
    for (const json& p : list) {
      const auto parsed = p.is_string() ? ingest::device_protocol_from_name(p.get<std::string>()) : std::nullopt;
      if (!parsed) {
        return bad_param("protocols", "protocols: " + p.dump() + " is not one of \"mqtt\", \"blynk\", \"emoncms\"");
      }
      if (std::find(protocols.begin(), protocols.end(), *parsed) == protocols.end()) protocols.push_back(*parsed);
    }
  }
  auto made = enrolment->enrol(meter, protocols);
  if (!made.ok()) return error_answer(made.error(), "enrolment");
  meters_changed();
  std::string names;
  for (auto p : protocols) names += std::string(names.empty() ? "" : ",") + ingest::device_protocol_name(p);
  context_.audit(caller, "meter.add", meter.id, "protocols " + names);
  auto shown = meters_.meter_json_of(meter.id);
  return json_response(201, json{{"meter", shown ? std::move(*shown) : json{{"id", meter.id}}},
                                 {"credentials", credentials_json(made.value())},
                                 {"connect", connect_json(context_.deps().connect)}});
}

HttpResponse EnrolmentRoutes::rotate(const Caller& caller, const std::string& id) {
  if (!caller.is_admin()) return forbidden("re-keying meters is for admins");
  ingest::Enrolment* enrolment = context_.deps().enrolment;
  if (enrolment == nullptr) return error_response(503, "unavailable", "", "this server does not manage meter keys");
  auto made = enrolment->rotate(id);
  if (!made.ok()) return error_answer(made.error(), "enrolment");
  context_.audit(caller, "meter.credentials", id, "new credentials issued; the old ones no longer work");
  return json_response(200, json{{"meter_id", id},
                                 {"credentials", credentials_json(made.value())},
                                 {"connect", connect_json(context_.deps().connect)}});
}

HttpResponse EnrolmentRoutes::retire(const Caller& caller, const std::string& id) {
  if (!caller.is_admin()) return forbidden("retiring meters is for admins");
  ingest::Enrolment* enrolment = context_.deps().enrolment;
  if (enrolment == nullptr) return error_response(503, "unavailable", "", "this server does not retire meters");
  auto retired = enrolment->retire(id);
  if (!retired.ok()) return error_answer(retired.error(), "enrolment");
  meters_changed();
  context_.audit(caller, "meter.retire", id, "retired; its history is kept");
  auto shown = meters_.meter_json_of(id);
  return json_response(200, json{{"meter", shown ? std::move(*shown) : json{{"id", id}}}});
}

}  // namespace wattguard::api
