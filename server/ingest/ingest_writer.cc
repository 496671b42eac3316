// IngestService's writer side, on the writer thread: batches of readings into the store (retried on errors),
// the live state and its observers, statuses, events, command acks and timeouts, and liveness ticks.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <variant>
#include <vector>

#include "server/ingest/ingest_service_impl.h"
#include "wattguard/protocol/codec.h"

namespace wattguard::ingest {

using protocol::Rejection;

void IngestService::Impl::apply(const LivenessChange& c) {
  if (c.comm_loss) {
    const bool onset = *c.comm_loss == protocol::EventEdge::kOnset;
    protocol::MeterEvent e{c.meter_id, protocol::EventKind::kCommLoss, *c.comm_loss, c.at_ms,
                           onset ? "offline (" + c.offline_reason + ")" : "back online"};
    store_event(e, storage::EventSource::kServer, now());
  }
  MeterLive copy;
  {
    std::lock_guard lk(live_mu);
    MeterLive& m = live[c.meter_id];
    m.meter_id = c.meter_id;
    m.connectivity = c.to;
    m.since_ms = c.at_ms;
    m.offline_reason = c.offline_reason;
    copy = m;
  }
  notify([&](IngestObserver& o) { o.on_status(copy); });
}

bool IngestService::Impl::store_event(const protocol::MeterEvent& e, storage::EventSource source, int64_t received) {
  auto r = store.add_event(e, source, received);
  if (!r.ok()) {
    spdlog::error("ingest: storing event {} of {} failed: {}", protocol::event_kind_name(e.kind), e.meter_id,
                  r.error().message);
    storage_failed(r.error().message);
    return false;
  }
  storage_worked();
  count(&IngestHealth::events_stored);
  const storage::StoredEvent stored{r.value(), e, source, received};
  notify([&](IngestObserver& o) { o.on_event(stored); });
  return true;
}

void IngestService::Impl::handle(StatusItem& s) {
  const std::string& id = s.status.meter_id;
  {
    std::lock_guard lk(live_mu);
    MeterLive& m = live[id];
    m.meter_id = id;
    if (!liveness->is_old_news(s.status.time_ms, s.retained)) m.last_seen_ms = std::max(m.last_seen_ms, s.received_ms);
    if (s.status.period_s != 0) m.period_s = s.status.period_s;
  }
  if (auto c = liveness->on_status(id, s.status.online, s.status.period_s, s.received_ms, s.status.time_ms, s.retained))
    apply(*c);
}

void IngestService::Impl::handle(EventItem& e) {
  // Kept in the journal when the store failed: the next start replays it.
  if (store_event(e.event, storage::EventSource::kMeter, e.received_ms) && journal) journal->handled(e.journal_segment);
  if (e.event.kind == protocol::EventKind::kRelayOpened || e.event.kind == protocol::EventKind::kRelayClosed) {
    std::lock_guard lk(live_mu);
    live[e.event.meter_id].relay =
        e.event.kind == protocol::EventKind::kRelayOpened ? protocol::RelayState::kOff : protocol::RelayState::kOn;
  }
}

void IngestService::Impl::command_changed(const storage::CommandRecord& c) {
  auto st = store.update_command(c.id, c.state, c.message, c.relay, c.updated_ms);
  if (!st.ok()) spdlog::error("ingest: updating command {} failed: {}", c.id, st.error().message);
  notify([&](IngestObserver& o) { o.on_ack(c); });
}

void IngestService::Impl::handle(AckItem& a) {
  if (journal) journal->handled(a.journal_segment);
  const protocol::CommandAck& ack = a.ack;
  {
    std::lock_guard lk(live_mu);
    MeterLive& m = live[ack.meter_id];
    if (ack.relay != protocol::RelayState::kUnknown) m.relay = ack.relay;
    if (ack.period_s != 0) m.period_s = ack.period_s;
  }
  liveness->set_period(ack.meter_id, ack.period_s);
  CommandTracker::AckResult r = commands.on_ack(ack, a.received_ms);
  switch (r.match) {
    case CommandTracker::AckMatch::kFinished: return command_changed(r.record);
    case CommandTracker::AckMatch::kWrongMeter:
      return reject(ack.meter_id, Rejection::kMeterIdMismatch, "ack for command " + ack.id + " of another meter");
    case CommandTracker::AckMatch::kNotTracked: {
      // Not ours (another server sent it, or it already timed out): record the truth anyway.
      auto rec = store.get_command(ack.id);
      if (!rec.ok() || rec->meter_id != ack.meter_id) return;
      CommandTracker::apply_ack(rec.value(), ack, a.received_ms);
      return command_changed(rec.value());
    }
  }
}

void IngestService::Impl::handle(PublishedItem& p) {
  if (auto c = commands.on_published(p.mid, now())) command_changed(*c);
}

void IngestService::Impl::handle(TickItem&) {
  const int64_t t = now();
  // Deaf (no broker connection): silence is ours, not the meters'.
  if (connected) {
    for (const LivenessChange& c : liveness->on_tick(t)) apply(c);
  }
  const LivenessCounts counts = liveness->counts();
  {
    std::lock_guard hk(health_mu);
    health.meters_online = counts.online;
    health.meters_stale = counts.stale;
    health.meters_offline = counts.offline;
  }
  const std::vector<storage::CommandRecord> timed_out = commands.expire(t);
  {
    std::lock_guard hk(health_mu);
    health.commands_timed_out += timed_out.size();
  }
  for (const storage::CommandRecord& c : timed_out) command_changed(c);
}

bool IngestService::Impl::storage_failed(const std::string& error) {
  std::lock_guard lk(health_mu);
  ++health.store_errors;
  const bool onset = !health.storage_failing;
  if (onset) health.storage_failing_since_ms = now();
  health.storage_failing = true;
  health.storage_error = error;
  return onset;
}

void IngestService::Impl::storage_worked() {
  std::lock_guard lk(health_mu);
  if (!health.storage_failing) return;
  spdlog::info("ingest: storage works again after {} s", (now() - health.storage_failing_since_ms) / 1000);
  health.storage_failing = false;
  health.storage_failing_since_ms = 0;
  health.storage_error.clear();
}

void IngestService::Impl::write_batch(std::vector<ReadingItem>& batch) {
  std::vector<protocol::Reading> rs;
  rs.reserve(batch.size());
  for (ReadingItem& it : batch) rs.push_back(it.reading);
  const int64_t t = now();
  for (int attempt = 0;; ++attempt) {
    auto result = store.append_readings(rs, t);
    if (result.ok()) {
      if (result->maintenance_error.empty()) {
        storage_worked();
      } else {
        if (storage_failed(result->maintenance_error)) spdlog::error("ingest: {}", result->maintenance_error);
      }
      // While the store failed, nothing the meters sent could be taken in: their silence since is ours.
      if (attempt > 0) liveness->listening_since(now());
      apply_result(batch, result.value());
      if (journal) {
        for (const ReadingItem& it : batch) journal->handled(it.journal_segment);
      }
      return;
    }
    storage_failed(result.error().message);
    // Logged on the first failures and then every 10th, not on every retry of a long outage.
    if (attempt < 3 || attempt % 10 == 0) {
      spdlog::error("ingest: storing {} readings failed (attempt {}): {}", rs.size(), attempt + 1,
                    result.error().message);
    }
    if (!queue.wait_before_retry(attempt)) {
      spdlog::error("ingest: giving up on {} readings at shutdown{}", rs.size(),
                    journal ? "; the journal keeps them for the next start" : "");
      return;
    }
  }
}

void IngestService::Impl::apply_result(std::vector<ReadingItem>& batch, const storage::AppendResult& r) {
  std::vector<bool> skip(batch.size(), false);
  for (std::size_t i : r.duplicate_indices) skip[i] = true;
  for (const auto& refused : r.refused) {
    skip[refused.index] = true;
    reject(batch[refused.index].reading.meter_id, refused.reason, refused.detail);
  }
  {
    std::lock_guard lk(health_mu);
    health.readings_stored += r.stored;
    health.readings_duplicate += r.duplicates;
    health.readings_late += r.late;
    health.events_stored += r.events.size();
    ++health.batches_written;
  }
  {
    std::lock_guard lk(live_mu);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (skip[i]) continue;
      const protocol::Reading& rd = batch[i].reading;
      MeterLive& m = live[rd.meter_id];
      m.meter_id = rd.meter_id;
      m.last_seen_ms = std::max(m.last_seen_ms, batch[i].received_ms);
      if (!m.last_reading || rd.time_ms > m.last_reading->time_ms ||
          (rd.time_ms == m.last_reading->time_ms && rd.seq > m.last_reading->seq)) {
        m.last_reading = rd;
        m.relay = (rd.flags & protocol::kFlagRelayOpen) ? protocol::RelayState::kOff : protocol::RelayState::kOn;
      }
    }
  }
  const int64_t t = now();
  std::vector<LivenessChange> came_online;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (skip[i]) continue;
    if (auto c = liveness->on_reading(batch[i].reading.meter_id, batch[i].received_ms, t)) {
      came_online.push_back(std::move(*c));
    }
  }
  std::sort(came_online.begin(), came_online.end(),
            [](const LivenessChange& a, const LivenessChange& b) { return a.meter_id < b.meter_id; });
  for (const LivenessChange& c : came_online) apply(c);
  for (const storage::StoredEvent& e : r.events) notify([&](IngestObserver& o) { o.on_event(e); });
  notify([&](IngestObserver& o) {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (!skip[i]) o.on_reading(batch[i].reading);
    }
  });
}

void IngestService::Impl::writer_loop() {
  WriterTake take;
  while (queue.take(take)) {
    // Liveness ticks after the readings that arrived before them: a tick judged first would call a meter
    // silent whose readings were only waiting for the writer (after a slow or failed write).
    bool tick = false;
    for (WorkItem& item : take.work) {
      if (std::holds_alternative<TickItem>(item)) {
        tick = true;
        continue;
      }
      std::visit([&](auto& x) { handle(x); }, item);
    }
    if (!take.batch.empty()) write_batch(take.batch);
    if (tick) {
      TickItem t;
      handle(t);
    }
    // health() counts the backlog live from the queue (IngestQueue::pending_readings).
    queue.done();
  }
}

void IngestService::Impl::timer_loop() {
  std::unique_lock lk(timer_mu);
  while (running) {
    timer_cv.wait_for(lk, std::chrono::milliseconds(config.liveness_check_ms));
    if (!running) break;
    queue.push_work(TickItem{});
  }
}

}  // namespace wattguard::ingest
