// The connectivity rules of the ingest service (see liveness.h).
#include "server/ingest/liveness.h"

#include <algorithm>

namespace wattguard::ingest {

Liveness::Liveness(int default_period_s, int missed_periods, int64_t started_ms)
    : default_period_s_(default_period_s), missed_periods_(missed_periods), started_ms_(started_ms) {}

void Liveness::add(const std::string& meter_id) { meters_.try_emplace(meter_id); }

void Liveness::restore_last_seen(const std::string& meter_id, int64_t last_seen_ms) {
  Meter& m = meters_[meter_id];
  m.last_seen_ms = std::max(m.last_seen_ms, last_seen_ms);
}

int64_t Liveness::period_ms(const Meter& m) const {
  return 1000LL * (m.period_s != 0 ? static_cast<int64_t>(m.period_s) : default_period_s_);
}

LivenessChange Liveness::change_to(const std::string& id, Meter& m, Connectivity to, int64_t at_ms,
                                   std::string reason) {
  LivenessChange c;
  c.meter_id = id;
  c.from = m.state;
  c.to = to;
  c.at_ms = at_ms;
  if (to == Connectivity::kOffline) {
    c.offline_reason = std::move(reason);
    if (m.last_seen_ms > 0) c.comm_loss = protocol::EventEdge::kOnset;
  } else if (m.state == Connectivity::kOffline) {
    c.comm_loss = protocol::EventEdge::kClear;
  }
  m.state = to;
  return c;
}

std::optional<LivenessChange> Liveness::on_reading(const std::string& meter_id, int64_t received_ms, int64_t now_ms) {
  Meter& m = meters_[meter_id];
  m.last_seen_ms = std::max(m.last_seen_ms, received_ms);
  if (m.state == Connectivity::kOnline || m.offline_by_status) return std::nullopt;
  return change_to(meter_id, m, Connectivity::kOnline, now_ms, "");
}

std::optional<LivenessChange> Liveness::on_status(const std::string& meter_id, bool online, uint32_t period_s,
                                                  int64_t received_ms, int64_t said_ms, bool retained) {
  Meter& m = meters_[meter_id];
  if (is_old_news(said_ms, retained)) {
    if (period_s != 0) m.period_s = period_s;
    return std::nullopt;
  }
  m.last_seen_ms = std::max(m.last_seen_ms, received_ms);
  if (period_s != 0) m.period_s = period_s;
  m.offline_by_status = !online;
  const Connectivity to = online ? Connectivity::kOnline : Connectivity::kOffline;
  if (m.state == to) return std::nullopt;
  return change_to(meter_id, m, to, received_ms, "status");
}

void Liveness::listening_since(int64_t now_ms) { started_ms_ = std::max(started_ms_, now_ms); }

void Liveness::set_period(const std::string& meter_id, uint32_t period_s) {
  if (period_s != 0) meters_[meter_id].period_s = period_s;
}

std::vector<LivenessChange> Liveness::on_tick(int64_t now_ms) {
  std::vector<LivenessChange> changes;
  for (auto& [id, m] : meters_) {
    if (m.state == Connectivity::kOffline || m.last_seen_ms <= 0) continue;
    const int64_t period = period_ms(m);
    const int64_t silent_ms = now_ms - std::max(m.last_seen_ms, started_ms_);
    // The onset goes where the next reading was last due, so a restart does not invent a new onset time.
    if (silent_ms > missed_periods_ * period) {
      changes.push_back(
          change_to(id, m, Connectivity::kOffline, m.last_seen_ms + missed_periods_ * period, "missed_periods"));
    } else if (silent_ms > stale_after_ms(period) && m.state != Connectivity::kStale) {
      changes.push_back(change_to(id, m, Connectivity::kStale, m.last_seen_ms + stale_after_ms(period), ""));
    }
  }
  return changes;
}

Connectivity Liveness::state(const std::string& meter_id) const {
  auto it = meters_.find(meter_id);
  return it == meters_.end() ? Connectivity::kUnknown : it->second.state;
}

LivenessCounts Liveness::counts() const {
  LivenessCounts c;
  for (const auto& [id, m] : meters_) {
    c.online += m.state == Connectivity::kOnline;
    c.stale += m.state == Connectivity::kStale;
    c.offline += m.state == Connectivity::kOffline;
  }
  return c;
}

}  // namespace wattguard::ingest
