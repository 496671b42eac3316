// JSON shapes of the API's records.
#include "server/api/api_json.h"

#include <cmath>

namespace wattguard::api {
namespace {

using nlohmann::json;

// JSON has no NaN or infinity; the store refuses them, but never emit invalid JSON regardless.
json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

json reading_json(const protocol::Reading& r) {
  return json{{"meter_id", r.meter_id},
              {"seq", r.seq},
              {"time_ms", r.time_ms},
              {"vrms", number(r.vrms)},
              {"irms", number(r.irms)},
              {"p_w", number(r.p_w)},
              {"s_va", number(r.s_va)},
              {"q_var", number(r.q_var)},
              {"pf", number(r.pf)},
              {"freq_hz", number(r.freq_hz)},
              {"e_import_wh", number(r.e_import_wh)},
              {"e_export_wh", number(r.e_export_wh)},
              {"flags", r.flags}};
}

json aggregate_point_json(const storage::AggregatePoint& p) {
  return json{{"t_ms", p.t_ms},
              {"count", p.count},
              {"p_avg_w", number(p.p_avg_w)},
              {"p_min_w", number(p.p_min_w)},
              {"p_max_w", number(p.p_max_w)},
              {"vrms_avg", number(p.vrms_avg)},
              {"vrms_min", number(p.vrms_min)},
              {"vrms_max", number(p.vrms_max)},
              {"irms_avg", number(p.irms_avg)},
              {"s_avg_va", number(p.s_avg_va)},
              {"q_avg_var", number(p.q_avg_var)},
              {"pf_avg", number(p.pf_avg)},
              {"freq_avg_hz", number(p.freq_avg_hz)},
              {"energy_import_wh", number(p.energy_import_wh)},
              {"energy_export_wh", number(p.energy_export_wh)},
              {"e_import_wh", number(p.e_import_wh)},
              {"e_export_wh", number(p.e_export_wh)},
              {"flags", p.flags}};
}

json event_json(const storage::StoredEvent& e) {
  return json{{"id", e.id},
              {"meter_id", e.event.meter_id},
              {"kind", protocol::event_kind_name(e.event.kind)},
              {"edge", protocol::event_edge_name(e.event.edge)},
              {"time_ms", e.event.time_ms},
              {"details", e.event.details},
              {"source", storage::event_source_name(e.source)},
              {"received_ms", e.received_ms}};
}

json command_json(const storage::CommandRecord& c) {
  json args = json::parse(c.args_json, nullptr, false);
  if (args.is_discarded()) args = json::object();
  return json{{"id", c.id},
              {"meter_id", c.meter_id},
              {"kind", protocol::command_kind_name(c.kind)},
              {"args", std::move(args)},
              {"requested_by", c.requested_by},
              {"state", storage::command_state_name(c.state)},
              {"message", c.message},
              {"relay", protocol::relay_state_name(c.relay)},
              {"created_ms", c.created_ms},
              {"sent_ms", c.sent_ms},
              {"updated_ms", c.updated_ms}};
}

json user_json(const User& user, const std::vector<std::string>& meters) {
  return json{{"name", user.name},
              {"role", role_name(user.role)},
              {"meters", meters},
              {"created_ms", user.created_at_s * 1000}};
}

std::vector<std::string> active_tamper(uint32_t flags) {
  struct Bit {
    uint32_t mask;
    protocol::EventKind kind;
  };
  static constexpr Bit kBits[] = {
      {protocol::kFlagTamperReverseFlow, protocol::EventKind::kReverseFlow},
      {protocol::kFlagTamperNeutralMismatch, protocol::EventKind::kNeutralMismatch},
      {protocol::kFlagTamperCurrentWithoutVoltage, protocol::EventKind::kCurrentWithoutVoltage},
      {protocol::kFlagTamperMagnetic, protocol::EventKind::kMagnetic},
      {protocol::kFlagTamperCoverOpen, protocol::EventKind::kCoverOpen},
      {protocol::kFlagTamperRegisterRollback, protocol::EventKind::kRegisterRollback},
  };
  std::vector<std::string> names;
  for (const auto& b : kBits) {
    if ((flags & b.mask) != 0) names.emplace_back(protocol::event_kind_name(b.kind));
  }
  return names;
}

std::string live_reading_message(const protocol::Reading& r) {
  return dump(json{{"type", "reading"}, {"meter_id", r.meter_id}, {"reading", reading_json(r)}});
}

std::string live_status_message(const ingest::MeterLive& m) {
  return dump(json{{"type", "status"},
                   {"meter_id", m.meter_id},
                   {"status", ingest::connectivity_name(m.connectivity)},
                   {"since_ms", m.since_ms},
                   {"last_seen_ms", m.last_seen_ms},
                   {"offline_reason", m.offline_reason},
                   {"period_s", m.period_s},
                   {"relay", protocol::relay_state_name(m.relay)}});
}

std::string live_event_message(const storage::StoredEvent& e) {
  return dump(json{{"type", "event"}, {"meter_id", e.event.meter_id}, {"event", event_json(e)}});
}

std::string live_command_message(const storage::CommandRecord& c) {
  return dump(json{{"type", "command"}, {"meter_id", c.meter_id}, {"command", command_json(c)}});
}

}  // namespace wattguard::api
