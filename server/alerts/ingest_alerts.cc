// Tamper and offline alerts from ingest events.
#include "wattguard/alerts/ingest_alerts.h"

#include <spdlog/spdlog.h>

namespace wattguard::alerts {

double tamper_score(std::string_view kind) {
  // Bypass, earth return, a removed voltage link, reversal and magnets are deliberate acts; a cover
  // opening or a register reset very likely; a power-up after an outage is weak evidence on its own.
  if (kind == "neutral_mismatch" || kind == "current_without_voltage" || kind == "reverse_flow" || kind == "magnetic")
    return 1.0;
  if (kind == "register_rollback") return 0.9;
  if (kind == "cover_open") return 0.8;
  if (kind == "power_up") return 0.3;
  return 0;
}

IngestAlerts::IngestAlerts(AlertService& service, storage::ReadingStore& store, bool offline_alerts)
    : service_(service), store_(store), offline_alerts_(offline_alerts) {}

IngestAlerts::~IngestAlerts() { tasks_.stop(); }

std::string IngestAlerts::tamper_key(const std::string& meter_id, const std::string& kind) {
  return "tamper|" + meter_id + "|" + kind;
}

std::string IngestAlerts::offline_key(const std::string& meter_id) { return "offline|" + meter_id; }

void IngestAlerts::on_event(const storage::StoredEvent& event) {
  tasks_.post([this, event] { handle_event(event); });
}

void IngestAlerts::on_status(const ingest::MeterLive& state) {
  if (!offline_alerts_) return;
  ingest::MeterLive copy;
  copy.meter_id = state.meter_id;
  copy.connectivity = state.connectivity;
  copy.since_ms = state.since_ms;
  copy.last_seen_ms = state.last_seen_ms;
  copy.offline_reason = state.offline_reason;
  tasks_.post([this, copy] { handle_status(copy); });
}

std::string IngestAlerts::area_of(const std::string& meter_id) {
  const auto m = store_.get_meter(meter_id);
  return m.ok() ? m->area : std::string();
}

void IngestAlerts::handle_event(const storage::StoredEvent& stored) {
  const auto& e = stored.event;
  const std::string kind(protocol::event_kind_name(e.kind));
  const double score = tamper_score(kind);
  if (score <= 0) return;  // outages, voltage limits, relay changes, comm_loss: not theft alerts
  const std::string key = tamper_key(e.meter_id, kind);
  if (e.edge == protocol::EventEdge::kClear) {
    service_.clear(key, e.time_ms);
    return;
  }
  NewAlert a;
  a.kind = kind;
  a.meter_id = e.meter_id;
  a.area = area_of(e.meter_id);
  a.score = score;
  a.raised_ms = e.time_ms;
  a.evidence = nlohmann::json::array({{{"event_id", stored.id},
                                       {"edge", protocol::event_edge_name(e.edge)},
                                       {"time_ms", e.time_ms},
                                       {"source", storage::event_source_name(stored.source)},
                                       {"details", e.details}}});
  // Single-point events (rollback, power-up) are occurrences: while the meter's alert of the kind is active,
  // each adds to its evidence (not a new alert and a new SMS per reading); once an operator closes it, the
  // next occurrence opens a new one.
  a.dedup_key = key;
  a.occurrence = e.edge == protocol::EventEdge::kInstant;
  service_.raise(a);
}

void IngestAlerts::handle_status(const ingest::MeterLive& s) {
  const std::string key = offline_key(s.meter_id);
  if (s.connectivity == ingest::Connectivity::kOnline) {
    service_.clear(key, s.since_ms);
    return;
  }
  if (s.connectivity != ingest::Connectivity::kOffline) return;
  // Never heard from over MQTT: provisioned but not installed yet, or read only through imports (a check
  // meter of another system). Ingest keeps such a meter unknown; this guards the alert against any status
  // source that does not.
  if (s.last_seen_ms <= 0) return;
  NewAlert a;
  a.kind = "offline";
  a.meter_id = s.meter_id;
  a.area = area_of(s.meter_id);
  a.score = 0.5;
  a.raised_ms = s.since_ms;
  a.dedup_key = key;
  a.evidence = nlohmann::json::array(
      {{{"reason", s.offline_reason}, {"since_ms", s.since_ms}, {"last_seen_ms", s.last_seen_ms}}});
  service_.raise(a);
}

}  // namespace wattguard::alerts
