// The disconnect policy.
#include "wattguard/alerts/prevention_policy.h"

#include <spdlog/spdlog.h>

namespace wattguard::alerts {

PreventionPolicy::PreventionPolicy(AlertService& service, ingest::IngestService& ingest, storage::ReadingStore& store,
                                   AlertsConfig config)
    : service_(service), ingest_(ingest), store_(store), config_(std::move(config)) {}

PreventionPolicy::~PreventionPolicy() {
  detach();
  tasks_.stop();
}

void PreventionPolicy::attach() {
  if (attached_.exchange(true)) return;
  ingest_.add_observer(this);
  // The service has no remove_listener: the flag turns this listener off after detach().
  service_.add_listener([this](const Alert& a) {
    if (attached_) on_alert(a);
  });
}

void PreventionPolicy::detach() {
  if (!attached_.exchange(false)) return;
  ingest_.remove_observer(this);
  tasks_.drain();
}

void PreventionPolicy::on_alert(const Alert& alert) {
  if (alert.meter_id.empty()) return;  // a transformer alert names no meter to disconnect
  if (!config_.disconnect_kinds(alert.area).count(alert.kind)) return;
  Pending p;
  p.alert_id = alert.id;
  p.meter_id = alert.meter_id;
  p.actor = "policy:" + (alert.area.empty() ? std::string("default") : alert.area);
  p.kind = alert.kind;
  tasks_.post([this, p] { send(p); });
}

void PreventionPolicy::send(Pending p) {
  ingest::CommandRequest r;
  r.meter_id = p.meter_id;
  r.kind = protocol::CommandKind::kRelayOff;
  r.requested_by = p.actor;
  r.reason = "alert " + std::to_string(p.alert_id) + " (" + p.kind + "), attempt " + std::to_string(p.attempt) +
             " of " + std::to_string(config_.disconnect_attempts);
  r.timeout_ms = config_.disconnect_timeout_s * 1000;
  const auto sent = ingest_.send_command(r);  // ingest writes the audit entry for the command itself
  if (!sent.ok()) {
    finish(p, "not sent: " + sent.error().message);
    return;
  }
  in_flight_[sent->id] = p;
  service_.add_action(p.alert_id, {service_.now_ms(), p.actor, "disconnect",
                                   "relay_off command " + sent->id + " (attempt " + std::to_string(p.attempt) + ")"});
  spdlog::warn("alert {}: policy disconnects meter {} (command {}, attempt {})", p.alert_id, p.meter_id, sent->id,
               p.attempt);
}

void PreventionPolicy::finish(const Pending& p, const std::string& result) {
  const int64_t now = service_.now_ms();
  service_.add_action(p.alert_id, {now, p.actor, "disconnect_result", result});
  storage::AuditEntry e;
  e.time_ms = now;
  e.actor = p.actor;
  e.action = "policy.disconnect_result";
  e.target = p.meter_id;
  e.details = "alert " + std::to_string(p.alert_id) + " (" + p.kind + "): " + result;
  if (auto a = store_.append_audit(e); !a.ok()) spdlog::error("alerts: audit failed: {}", a.error().message);
  spdlog::warn("alert {}: disconnect of meter {}: {}", p.alert_id, p.meter_id, result);
}

void PreventionPolicy::on_ack(const storage::CommandRecord& command) {
  if (command.kind != protocol::CommandKind::kRelayOff) return;
  tasks_.post([this, command] { handle_ack(command); });
}

void PreventionPolicy::handle_ack(const storage::CommandRecord& c) {
  const auto it = in_flight_.find(c.id);
  if (it == in_flight_.end()) return;
  Pending p = it->second;
  switch (c.state) {
    case storage::CommandState::kAcked:
      in_flight_.erase(it);
      finish(p, "acked: command " + c.id + ", relay " + std::string(protocol::relay_state_name(c.relay)));
      return;
    case storage::CommandState::kFailed:
      in_flight_.erase(it);
      finish(p, "failed: command " + c.id + ": " + c.message);
      return;
    case storage::CommandState::kTimedOut:
      in_flight_.erase(it);
      if (p.attempt < config_.disconnect_attempts) {
        ++p.attempt;
        send(p);
      } else {
        finish(p, "timed_out: no ack after " + std::to_string(p.attempt) + " attempts (last command " + c.id + ")");
      }
      return;
    default: return;  // pending / sent: wait for the outcome
  }
}

}  // namespace wattguard::alerts
