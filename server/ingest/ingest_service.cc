// IngestService: libmosquitto client thread -> decode/validate -> work queue -> writer thread
// (batched store appends, live state, commands, observers); a timer thread for offline detection
// and command timeouts.
#include "wattguard/ingest/ingest_service.h"

#include <mosquitto.h>
#include <sodium.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <variant>

#include "wattguard/protocol/codec.h"
#include "wattguard/protocol/topics.h"

namespace wattguard::ingest {
namespace {

using protocol::Rejection;
using protocol::TopicKind;

constexpr int64_t kUnknownRecheckMs = 10'000;     // an unknown meter id is looked up again at most this often
constexpr std::size_t kMaxLoggedRejections = 10'000;  // (meter, reason) pairs remembered for log-once
constexpr std::size_t kMaxNegativeCache = 100'000;

int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void init_libraries() {
  static std::once_flag once;
  std::call_once(once, [] {
    mosquitto_lib_init();
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  });
}

std::string new_command_id(int64_t now_ms) {
  unsigned char bytes[8];
  randombytes_buf(bytes, sizeof bytes);
  static const char* hex = "0123456789abcdef";
  // Appended piecewise: GCC 12 at -O3 reports a false -Wrestrict for "literal" + std::string.
  std::string id = "c";
  id += std::to_string(now_ms);
  id += '-';
  for (unsigned char b : bytes) {
    id += hex[b >> 4];
    id += hex[b & 15];
  }
  return id;
}

// Work handed from the MQTT and timer threads to the writer thread.
struct ReadingItem {
  protocol::Reading reading;
  int64_t received_ms;
};
struct StatusItem {
  protocol::StatusMessage status;
  int64_t received_ms;
};
struct EventItem {
  protocol::MeterEvent event;
  int64_t received_ms;
};
struct AckItem {
  protocol::CommandAck ack;
  int64_t received_ms;
};
struct PublishedItem {  // the broker has our command (QoS 1 PUBACK)
  int mid;
};
struct ConnectedItem {};  // (re)connected: resend unsent commands
struct TickItem {};       // timer: offline detection and command timeouts
using WorkItem = std::variant<StatusItem, EventItem, AckItem, PublishedItem, ConnectedItem, TickItem>;

}  // namespace

struct IngestService::Impl {
  IngestConfig config;
  storage::ReadingStore& store;
  mosquitto* mosq = nullptr;

  std::atomic<bool> running{false};
  std::atomic<bool> connected{false};

  // --- queue (MQTT/timer threads -> writer thread)
  std::mutex queue_mu;
  std::condition_variable queue_cv;       // writer waits for work
  std::condition_variable space_cv;       // MQTT thread waits for room (back-pressure)
  std::condition_variable idle_cv;        // flush() waits for an empty queue
  std::vector<ReadingItem> readings;      // guarded by queue_mu
  int64_t oldest_reading_steady_ms = 0;   // guarded by queue_mu
  std::deque<WorkItem> work;              // guarded by queue_mu
  bool writer_busy = false;               // guarded by queue_mu
  bool stopping = false;                  // guarded by queue_mu

  std::thread writer_thread;
  std::thread timer_thread;
  std::mutex timer_mu;
  std::condition_variable timer_cv;

  // --- counters
  mutable std::mutex health_mu;
  IngestHealth health;  // guarded by health_mu

  // --- rejections logged once per (meter, reason)
  std::mutex log_mu;
  std::set<std::pair<std::string, Rejection>> logged;  // guarded by log_mu

  // --- meter registry cache (MQTT thread and writer)
  std::mutex known_mu;
  std::unordered_set<std::string> known;                  // guarded by known_mu
  std::unordered_map<std::string, int64_t> unknown_until;  // guarded by known_mu: negative cache

  // --- live state (written by the writer thread only; read by anyone under live_mu)
  mutable std::mutex live_mu;
  std::map<std::string, MeterLive> live;  // guarded by live_mu
  std::map<std::string, bool> offline_by_status;  // writer thread only
  int64_t started_ms = 0;

  // --- commands (writer thread, except send_command which takes cmd_mu)
  std::mutex cmd_mu;
  struct Tracked {
    storage::CommandRecord record;
    protocol::Command command;
    int timeout_ms = 0;
    bool published = false;  // handed to libmosquitto
  };
  std::map<std::string, Tracked> commands;  // guarded by cmd_mu; open commands by id
  std::map<int, std::string> mid_to_command;  // guarded by cmd_mu

  // --- observers
  std::mutex obs_mu;
  std::vector<IngestObserver*> observers;  // guarded by obs_mu

  Impl(IngestConfig c, storage::ReadingStore& s) : config(std::move(c)), store(s) {
    if (!config.now_ms) config.now_ms = &system_now_ms;
  }

  int64_t now() const { return config.now_ms(); }
  static int64_t steady_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  // ------------------------------------------------------------ rejections

  void reject(const std::string& meter, Rejection reason, const std::string& detail) {
    {
      std::lock_guard lk(health_mu);
      ++health.rejected_total;
      ++health.rejected[std::string(protocol::rejection_name(reason))];
    }
    bool log = false;
    {
      std::lock_guard lk(log_mu);
      if (logged.size() < kMaxLoggedRejections) log = logged.emplace(meter, reason).second;
    }
    if (log) {
      spdlog::warn("ingest: refused message from meter '{}': {} (further {} from this meter are counted, not logged)",
                   meter, detail, protocol::rejection_name(reason));
    }
  }

  bool is_known(const std::string& meter_id) {
    const int64_t t = now();
    {
      std::lock_guard lk(known_mu);
      if (known.count(meter_id)) return true;
      auto it = unknown_until.find(meter_id);
      if (it != unknown_until.end() && it->second > t) return false;
    }
    const bool has = store.has_meter(meter_id);  // provisioned since we loaded the registry?
    std::lock_guard lk(known_mu);
    if (has) {
      known.insert(meter_id);
      unknown_until.erase(meter_id);
    } else {
      if (unknown_until.size() >= kMaxNegativeCache) unknown_until.clear();
      unknown_until[meter_id] = t + kUnknownRecheckMs;
    }
    return has;
  }

  // ------------------------------------------------------------ MQTT thread

  void push_work(WorkItem item) {
    {
      std::lock_guard lk(queue_mu);
      work.push_back(std::move(item));
    }
    queue_cv.notify_one();
  }

  void on_message(const mosquitto_message* msg) {
    const int64_t received = now();
    {
      std::lock_guard lk(health_mu);
      ++health.messages_received;
    }
    const std::string topic = msg->topic ? msg->topic : "";
    auto parsed = protocol::parse_topic(topic);
    if (!parsed) {
      reject("?", Rejection::kUnknownTopic, "topic '" + topic.substr(0, 128) + "' is outside wattguard/v1/<meter>/...");
      return;
    }
    const std::string_view payload(static_cast<const char*>(msg->payload), static_cast<std::size_t>(msg->payloadlen));
    const protocol::DecodeContext ctx{received, parsed->meter_id};
    auto refuse = [&](const protocol::DecodeError& e) { reject(parsed->meter_id, e.reason, e.describe()); };
    auto unknown = [&] {
      reject(parsed->meter_id, Rejection::kUnknownMeter, "meter " + parsed->meter_id + " is not provisioned");
    };
    switch (parsed->kind) {
      case TopicKind::kReading: {
        {
          std::lock_guard lk(health_mu);
          ++health.readings_received;
        }
        auto d = protocol::decode_reading(payload, ctx);
        if (!d.ok()) return refuse(d.error());
        if (!is_known(parsed->meter_id)) return unknown();
        std::unique_lock lk(queue_mu);
        // Back-pressure: with QoS 1 the broker keeps what we cannot take yet.
        space_cv.wait(lk, [&] { return stopping || readings.size() < config.max_pending_readings; });
        if (readings.empty()) oldest_reading_steady_ms = steady_ms();
        readings.push_back(ReadingItem{std::move(d.value()), received});
        const bool full = readings.size() >= config.flush_max_readings;
        lk.unlock();
        if (full) queue_cv.notify_one();
        return;
      }
      case TopicKind::kStatus: {
        if (payload.empty()) return;  // a cleared retained message
        {
          std::lock_guard lk(health_mu);
          ++health.statuses_received;
        }
        auto d = protocol::decode_status(payload, ctx);
        if (!d.ok()) return refuse(d.error());
        if (!is_known(parsed->meter_id)) return unknown();
        return push_work(StatusItem{std::move(d.value()), received});
      }
      case TopicKind::kEvent: {
        auto d = protocol::decode_event(payload, ctx);
        if (!d.ok()) return refuse(d.error());
        if (!is_known(parsed->meter_id)) return unknown();
        return push_work(EventItem{std::move(d.value()), received});
      }
      case TopicKind::kCmdAck: {
        {
          std::lock_guard lk(health_mu);
          ++health.acks_received;
        }
        auto d = protocol::decode_ack(payload, ctx);
        if (!d.ok()) return refuse(d.error());
        if (!is_known(parsed->meter_id)) return unknown();
        return push_work(AckItem{std::move(d.value()), received});
      }
      case TopicKind::kCmd:
        return;  // our own commands are not subscribed to; ignore if a broker echoes one
    }
  }

  void on_connect(int rc) {
    if (rc != 0) {
      spdlog::warn("ingest: broker {}:{} refused the connection: {}", config.host, config.port,
                   mosquitto_connack_string(rc));
      return;
    }
    connected = true;
    {
      std::lock_guard lk(health_mu);
      ++health.connects;
      health.connected = true;
    }
    // Status is subscribed to without sharing: every server needs every meter's state, and
    // retained messages are not delivered on shared subscriptions.
    const bool shared = !config.share_group.empty();
    auto sub = [&](TopicKind kind, bool share) {
      const std::string t = share ? protocol::shared_subscription(config.share_group, kind) : protocol::wildcard_topic(kind);
      const int r = mosquitto_subscribe(mosq, nullptr, t.c_str(), 1);
      if (r != MOSQ_ERR_SUCCESS) spdlog::warn("ingest: subscribe {} failed: {}", t, mosquitto_strerror(r));
    };
    sub(TopicKind::kReading, shared);
    sub(TopicKind::kEvent, shared);
    sub(TopicKind::kCmdAck, shared);
    sub(TopicKind::kStatus, false);
    spdlog::info("ingest: connected to {}:{} as {}", config.host, config.port, config.username);
    push_work(ConnectedItem{});
  }

  void on_disconnect(int rc) {
    connected = false;
    {
      std::lock_guard lk(health_mu);
      health.connected = false;
    }
    if (rc != 0 && running) spdlog::warn("ingest: lost the broker connection ({}); reconnecting", mosquitto_strerror(rc));
  }

  // ------------------------------------------------------------ writer thread

  void notify(const auto& fn) {
    std::lock_guard lk(obs_mu);
    for (IngestObserver* o : observers) {
      try {
        fn(*o);
      } catch (const std::exception& e) {
        spdlog::error("ingest: observer threw: {}", e.what());
      } catch (...) {
        spdlog::error("ingest: observer threw");
      }
    }
  }

  // REQUIRES: writer thread. `t` is when the change happened (for comm_loss, the estimated onset).
  void set_connectivity(const std::string& meter, Connectivity c, const std::string& reason, int64_t t) {
    MeterLive copy;
    Connectivity before;
    {
      std::lock_guard lk(live_mu);
      MeterLive& m = live[meter];
      m.meter_id = meter;
      if (m.connectivity == c) return;
      before = m.connectivity;
      copy = m;
    }
    copy.connectivity = c;
    copy.since_ms = t;
    copy.offline_reason = c == Connectivity::kOffline ? reason : "";
    // Communication loss is a tamper indication (issue 6): a server event with onset and clear.
    // First sight after a start is not a recovery; a meter never heard from has no onset.
    const bool event = c == Connectivity::kOffline ? copy.last_seen_ms > 0 : before == Connectivity::kOffline;
    if (event) {
      protocol::MeterEvent e{meter, protocol::EventKind::kCommLoss,
                             c == Connectivity::kOffline ? protocol::EventEdge::kOnset : protocol::EventEdge::kClear, t,
                             c == Connectivity::kOffline ? "offline (" + reason + ")" : "back online"};
      store_event(e, storage::EventSource::kServer, now());
    }
    {
      // Only now visible: whoever sees the meter offline also finds its comm_loss event.
      std::lock_guard lk(live_mu);
      MeterLive& m = live[meter];
      m.connectivity = copy.connectivity;
      m.since_ms = copy.since_ms;
      m.offline_reason = copy.offline_reason;
    }
    notify([&](IngestObserver& o) { o.on_status(copy); });
  }

  void store_event(const protocol::MeterEvent& e, storage::EventSource source, int64_t received) {
    auto r = store.add_event(e, source, received);
    if (!r.ok()) {
      spdlog::error("ingest: storing event {} of {} failed: {}", protocol::event_kind_name(e.kind), e.meter_id,
                    r.error().message);
      std::lock_guard lk(health_mu);
      ++health.store_errors;
      return;
    }
    {
      std::lock_guard lk(health_mu);
      ++health.events_stored;
    }
    const storage::StoredEvent stored{r.value(), e, source, received};
    notify([&](IngestObserver& o) { o.on_event(stored); });
  }

  void handle(StatusItem& s) {
    const std::string& id = s.status.meter_id;
    {
      std::lock_guard lk(live_mu);
      MeterLive& m = live[id];
      m.meter_id = id;
      m.last_seen_ms = std::max(m.last_seen_ms, s.received_ms);
      if (s.status.period_s != 0) m.period_s = s.status.period_s;
    }
    offline_by_status[id] = !s.status.online;
    set_connectivity(id, s.status.online ? Connectivity::kOnline : Connectivity::kOffline, "status", s.received_ms);
  }

  void handle(EventItem& e) {
    store_event(e.event, storage::EventSource::kMeter, e.received_ms);
    if (e.event.kind == protocol::EventKind::kRelayOpened || e.event.kind == protocol::EventKind::kRelayClosed) {
      std::lock_guard lk(live_mu);
      live[e.event.meter_id].relay =
          e.event.kind == protocol::EventKind::kRelayOpened ? protocol::RelayState::kOff : protocol::RelayState::kOn;
    }
  }

  // Records a command's new state; the caller notifies observers after releasing cmd_mu.
  storage::CommandRecord finish_command(Tracked& t, storage::CommandState state, const std::string& message,
                                        protocol::RelayState relay, int64_t time_ms) {
    t.record.state = state;
    t.record.message = message;
    t.record.relay = relay;
    t.record.updated_ms = time_ms;
    if (state == storage::CommandState::kSent) t.record.sent_ms = time_ms;
    auto st = store.update_command(t.record.id, state, message, relay, time_ms);
    if (!st.ok()) spdlog::error("ingest: updating command {} failed: {}", t.record.id, st.error().message);
    return t.record;
  }

  void notify_commands(const std::vector<storage::CommandRecord>& changed) {
    for (const auto& c : changed) notify([&](IngestObserver& o) { o.on_ack(c); });
  }

  void handle(AckItem& a) {
    const protocol::CommandAck& ack = a.ack;
    const storage::CommandState state = ack.ok ? storage::CommandState::kAcked : storage::CommandState::kFailed;
    {
      std::lock_guard lk(live_mu);
      MeterLive& m = live[ack.meter_id];
      if (ack.relay != protocol::RelayState::kUnknown) m.relay = ack.relay;
      if (ack.period_s != 0) m.period_s = ack.period_s;
    }
    std::vector<storage::CommandRecord> changed;
    {
      std::lock_guard lk(cmd_mu);
      auto it = commands.find(ack.id);
      if (it != commands.end()) {
        if (it->second.record.meter_id != ack.meter_id) {
          reject(ack.meter_id, Rejection::kMeterIdMismatch, "ack for command " + ack.id + " of another meter");
          return;
        }
        changed.push_back(finish_command(it->second, state, ack.message, ack.relay, a.received_ms));
        commands.erase(it);
      }
    }
    if (changed.empty()) {
      // Not ours (another server sent it, or it already timed out): record the truth anyway.
      auto rec = store.get_command(ack.id);
      if (!rec.ok() || rec->meter_id != ack.meter_id) return;
      Tracked t{rec.value(), {}, 0, true};
      changed.push_back(finish_command(t, state, ack.message, ack.relay, a.received_ms));
    }
    notify_commands(changed);
  }

  void publish_command(Tracked& t) {
    const std::string topic = protocol::make_topic(t.record.meter_id, TopicKind::kCmd);
    const std::string payload = protocol::encode(t.command);
    int mid = 0;
    const int rc = mosquitto_publish(mosq, &mid, topic.c_str(), static_cast<int>(payload.size()), payload.data(), 1, false);
    if (rc == MOSQ_ERR_SUCCESS) {
      t.published = true;
      mid_to_command[mid] = t.record.id;
      std::lock_guard lk(health_mu);
      ++health.commands_sent;
    } else {
      spdlog::warn("ingest: publishing command {} deferred: {}", t.record.id, mosquitto_strerror(rc));
    }
  }

  void handle(PublishedItem& p) {
    std::vector<storage::CommandRecord> changed;
    {
      std::lock_guard lk(cmd_mu);
      auto m = mid_to_command.find(p.mid);
      if (m == mid_to_command.end()) return;
      auto it = commands.find(m->second);
      mid_to_command.erase(m);
      if (it == commands.end() || it->second.record.state != storage::CommandState::kPending) return;
      changed.push_back(finish_command(it->second, storage::CommandState::kSent, "", protocol::RelayState::kUnknown, now()));
    }
    notify_commands(changed);
  }

  void handle(ConnectedItem&) {
    std::lock_guard lk(cmd_mu);
    for (auto& [id, t] : commands) {
      if (t.record.state == storage::CommandState::kPending && !t.published) publish_command(t);
    }
  }

  void handle(TickItem&) {
    const int64_t t = now();
    // Offline after missed periods; the onset is put where the next reading was last due, so a
    // restart of the server does not invent a new onset time.
    std::vector<std::pair<std::string, int64_t>> silent;
    {
      std::lock_guard lk(live_mu);
      for (auto& [id, m] : live) {
        if (m.connectivity == Connectivity::kOffline) continue;
        // Never heard from (provisioned, not installed yet; or read only through imports): it stays unknown,
        // "never seen" to the UI; offline would claim a connection that was lost.
        if (m.last_seen_ms <= 0) continue;
        const int64_t period_ms = 1000LL * (m.period_s != 0 ? m.period_s : static_cast<uint32_t>(config.default_period_s));
        const int64_t heard = std::max(m.last_seen_ms, started_ms);
        if (t - heard > config.missed_periods * period_ms) {
          silent.emplace_back(id, m.last_seen_ms > 0 ? m.last_seen_ms + config.missed_periods * period_ms : t);
        }
      }
    }
    for (const auto& [id, onset] : silent) set_connectivity(id, Connectivity::kOffline, "missed_periods", onset);
    {
      std::lock_guard lk(live_mu);
      std::size_t on = 0, off = 0;
      for (const auto& [id, m] : live) {
        on += m.connectivity == Connectivity::kOnline;
        off += m.connectivity == Connectivity::kOffline;
      }
      std::lock_guard hk(health_mu);
      health.meters_online = on;
      health.meters_offline = off;
    }
    // Command timeouts.
    std::vector<storage::CommandRecord> changed;
    {
      std::lock_guard lk(cmd_mu);
      for (auto it = commands.begin(); it != commands.end();) {
        Tracked& c = it->second;
        if (t - c.record.created_ms > c.timeout_ms) {
          changed.push_back(finish_command(c, storage::CommandState::kTimedOut,
                                           "no acknowledgement within " + std::to_string(c.timeout_ms / 1000) + " s",
                                           c.record.relay, t));
          {
            std::lock_guard hk(health_mu);
            ++health.commands_timed_out;
          }
          it = commands.erase(it);
        } else {
          ++it;
        }
      }
    }
    notify_commands(changed);
  }

  // Stores a batch; retries on store errors (the readings stay queued in `batch`).
  void write_batch(std::vector<ReadingItem>& batch) {
    std::vector<protocol::Reading> rs;
    rs.reserve(batch.size());
    for (ReadingItem& it : batch) rs.push_back(it.reading);
    const int64_t t = now();
    for (int attempt = 0;; ++attempt) {
      auto result = store.append_readings(rs, t);
      if (result.ok()) {
        apply_result(batch, result.value());
        return;
      }
      {
        std::lock_guard lk(health_mu);
        ++health.store_errors;
      }
      spdlog::error("ingest: storing {} readings failed (attempt {}): {}", rs.size(), attempt + 1, result.error().message);
      std::unique_lock lk(queue_mu);
      if (stopping && attempt >= 3) {
        spdlog::error("ingest: giving up on {} readings at shutdown", rs.size());
        return;
      }
      queue_cv.wait_for(lk, std::chrono::milliseconds(std::min(5000, 100 << std::min(attempt, 6))));
    }
  }

  void apply_result(std::vector<ReadingItem>& batch, const storage::AppendResult& r) {
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
    std::vector<std::string> came_online;
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
        if (m.connectivity != Connectivity::kOnline && !offline_by_status[rd.meter_id]) came_online.push_back(rd.meter_id);
      }
    }
    std::sort(came_online.begin(), came_online.end());
    came_online.erase(std::unique(came_online.begin(), came_online.end()), came_online.end());
    for (const std::string& id : came_online) set_connectivity(id, Connectivity::kOnline, "", now());
    for (const storage::StoredEvent& e : r.events) notify([&](IngestObserver& o) { o.on_event(e); });
    notify([&](IngestObserver& o) {
      for (std::size_t i = 0; i < batch.size(); ++i) {
        if (!skip[i]) o.on_reading(batch[i].reading);
      }
    });
  }

  void writer_loop() {
    for (;;) {
      std::vector<ReadingItem> batch;
      std::deque<WorkItem> items;
      bool exit_after = false;
      {
        std::unique_lock lk(queue_mu);
        for (;;) {
          const bool flush_due =
              !readings.empty() && (readings.size() >= config.flush_max_readings ||
                                    steady_ms() - oldest_reading_steady_ms >= config.flush_interval_ms || stopping);
          if (flush_due || !work.empty()) break;
          if (stopping) {
            exit_after = true;
            break;
          }
          if (readings.empty()) {
            idle_cv.notify_all();
            queue_cv.wait(lk);
          } else {
            queue_cv.wait_for(lk, std::chrono::milliseconds(std::max<int64_t>(
                                      1, config.flush_interval_ms - (steady_ms() - oldest_reading_steady_ms))));
          }
        }
        if (exit_after) {
          idle_cv.notify_all();
          return;
        }
        const bool flush_due =
            !readings.empty() && (readings.size() >= config.flush_max_readings ||
                                  steady_ms() - oldest_reading_steady_ms >= config.flush_interval_ms || stopping);
        if (flush_due) batch.swap(readings);
        items.swap(work);
        writer_busy = true;
        {
          std::lock_guard hk(health_mu);
          health.pending_readings = readings.size() + batch.size();
        }
      }
      space_cv.notify_all();
      for (WorkItem& item : items) std::visit([&](auto& x) { handle(x); }, item);
      if (!batch.empty()) write_batch(batch);
      {
        std::lock_guard lk(queue_mu);
        writer_busy = false;
        std::lock_guard hk(health_mu);
        health.pending_readings = readings.size();
      }
      idle_cv.notify_all();
    }
  }

  // libmosquitto callbacks (run on its network thread).
  static void cb_connect(mosquitto*, void* obj, int rc) { static_cast<Impl*>(obj)->on_connect(rc); }
  static void cb_disconnect(mosquitto*, void* obj, int rc) { static_cast<Impl*>(obj)->on_disconnect(rc); }
  static void cb_message(mosquitto*, void* obj, const mosquitto_message* msg) { static_cast<Impl*>(obj)->on_message(msg); }
  static void cb_publish(mosquitto*, void* obj, int mid) { static_cast<Impl*>(obj)->push_work(PublishedItem{mid}); }

  void timer_loop() {
    std::unique_lock lk(timer_mu);
    while (running) {
      timer_cv.wait_for(lk, std::chrono::milliseconds(config.liveness_check_ms));
      if (!running) break;
      push_work(TickItem{});
    }
  }
};

IngestService::IngestService(IngestConfig config, storage::ReadingStore& store)
    : impl_(std::make_unique<Impl>(std::move(config), store)) {}

IngestService::~IngestService() { stop(); }

bool IngestService::start(std::string* error) {
  Impl& m = *impl_;
  if (m.running) return true;
  auto fail = [&](const std::string& msg) {
    if (error) *error = msg;
    return false;
  };
  const IngestConfig& c = m.config;
  if (c.port <= 0 || c.port > 65535) return fail("mqtt port " + std::to_string(c.port) + " is not 1..65535");
  if (c.client_id.empty() || c.client_id.size() > 128) return fail("mqtt client_id must be 1..128 characters");
  if (c.share_group.find_first_of("/+#") != std::string::npos) {
    return fail("share_group '" + c.share_group + "' must not contain / + #");
  }
  if (c.flush_interval_ms < 1 || c.flush_max_readings < 1) return fail("flush interval and size must be positive");
  if (c.default_period_s < 1 || c.missed_periods < 1) return fail("default_period_s and missed_periods must be >= 1");
  if (c.command_timeout_ms < 1 || c.liveness_check_ms < 1) return fail("timeouts must be positive");
  init_libraries();

  // Registry, latest states and open commands from the store.
  auto meters = m.store.list_meters();
  if (!meters.ok()) return fail("cannot read the meter registry: " + meters.error().message);
  auto latest = m.store.latest_all();
  if (!latest.ok()) return fail("cannot read latest readings: " + latest.error().message);
  m.started_ms = m.now();
  {
    std::lock_guard lk(m.known_mu);
    for (const auto& meter : meters.value()) m.known.insert(meter.id);
  }
  {
    std::lock_guard lk(m.live_mu);
    for (const auto& meter : meters.value()) m.live[meter.id].meter_id = meter.id;
    for (const auto& l : latest.value()) {
      MeterLive& live = m.live[l.reading.meter_id];
      live.last_reading = l.reading;
      // An imported reading is not a sign of life over MQTT: such a meter stays never heard from.
      if ((l.reading.flags & protocol::kFlagImported) == 0) live.last_seen_ms = l.received_ms;
      live.relay = (l.reading.flags & protocol::kFlagRelayOpen) ? protocol::RelayState::kOff : protocol::RelayState::kOn;
    }
  }
  {
    std::lock_guard lk(m.health_mu);
    m.health.meters_known = meters.value().size();
    for (protocol::Rejection r : protocol::all_rejections()) m.health.rejected[std::string(protocol::rejection_name(r))] = 0;
  }
  auto open = m.store.open_commands();
  if (!open.ok()) return fail("cannot read open commands: " + open.error().message);

  m.mosq = mosquitto_new(c.client_id.c_str(), c.clean_session, &m);
  if (!m.mosq) return fail("cannot create the MQTT client");
  mosquitto_connect_callback_set(m.mosq, &Impl::cb_connect);
  mosquitto_disconnect_callback_set(m.mosq, &Impl::cb_disconnect);
  mosquitto_message_callback_set(m.mosq, &Impl::cb_message);
  mosquitto_publish_callback_set(m.mosq, &Impl::cb_publish);
  mosquitto_reconnect_delay_set(m.mosq, static_cast<unsigned>(std::max(1, c.reconnect_min_s)),
                                static_cast<unsigned>(std::max(c.reconnect_min_s, c.reconnect_max_s)), true);
  if (!c.username.empty()) {
    mosquitto_username_pw_set(m.mosq, c.username.c_str(), c.password.empty() ? nullptr : c.password.c_str());
  }
  {
    std::lock_guard lk(m.cmd_mu);
    for (const auto& rec : open.value()) {
      protocol::Command cmd{rec.id, rec.meter_id, rec.kind, std::nullopt, rec.created_ms,
                            rec.created_ms + c.command_timeout_ms};
      if (rec.kind == protocol::CommandKind::kSetPeriod) {
        const auto pos = rec.args_json.find("\"period_s\":");
        if (pos != std::string::npos) cmd.period_s = static_cast<uint32_t>(std::atoi(rec.args_json.c_str() + pos + 11));
      }
      // Commands sent before a restart keep their deadline; ones never sent are sent on connect.
      m.commands[rec.id] = Impl::Tracked{rec, cmd, c.command_timeout_ms, rec.state == storage::CommandState::kSent};
    }
  }

  m.running = true;
  m.writer_thread = std::thread([&m] { m.writer_loop(); });
  m.timer_thread = std::thread([&m] { m.timer_loop(); });
  const int rc = mosquitto_connect_async(m.mosq, c.host.c_str(), c.port, c.keepalive_s);
  if (rc != MOSQ_ERR_SUCCESS) {
    // The broker may simply not be up yet; the loop below keeps trying.
    spdlog::warn("ingest: cannot reach broker {}:{} yet: {}", c.host, c.port, mosquitto_strerror(rc));
  }
  const int lrc = mosquitto_loop_start(m.mosq);
  if (lrc != MOSQ_ERR_SUCCESS) {
    stop();
    return fail(std::string("cannot start the MQTT thread: ") + mosquitto_strerror(lrc));
  }
  return true;
}

void IngestService::stop() {
  Impl& m = *impl_;
  if (!m.running.exchange(false)) return;
  if (m.mosq) {
    mosquitto_disconnect(m.mosq);
    // Not forced: the MQTT thread may be waiting for queue room, which the writer still frees.
    mosquitto_loop_stop(m.mosq, false);
  }
  {
    std::lock_guard lk(m.timer_mu);
  }
  m.timer_cv.notify_all();
  if (m.timer_thread.joinable()) m.timer_thread.join();
  {
    std::lock_guard lk(m.queue_mu);
    m.stopping = true;
  }
  m.queue_cv.notify_all();
  m.space_cv.notify_all();
  if (m.writer_thread.joinable()) m.writer_thread.join();  // flushes what is queued first
  if (m.mosq) {
    mosquitto_destroy(m.mosq);
    m.mosq = nullptr;
  }
  m.connected = false;
  std::lock_guard lk(m.health_mu);
  m.health.connected = false;
}

void IngestService::add_observer(IngestObserver* observer) {
  std::lock_guard lk(impl_->obs_mu);
  impl_->observers.push_back(observer);
}

void IngestService::remove_observer(IngestObserver* observer) {
  std::lock_guard lk(impl_->obs_mu);
  std::erase(impl_->observers, observer);
}

IngestHealth IngestService::health() const {
  std::lock_guard lk(impl_->health_mu);
  IngestHealth h = impl_->health;
  std::lock_guard lk2(impl_->known_mu);
  h.meters_known = std::max(h.meters_known, impl_->known.size());
  return h;
}

bool IngestService::connected() const { return impl_->connected; }

std::vector<MeterLive> IngestService::live_states() const {
  std::lock_guard lk(impl_->live_mu);
  std::vector<MeterLive> out;
  out.reserve(impl_->live.size());
  for (const auto& [id, m] : impl_->live) out.push_back(m);
  return out;
}

std::optional<MeterLive> IngestService::live_state(const std::string& meter_id) const {
  std::lock_guard lk(impl_->live_mu);
  auto it = impl_->live.find(meter_id);
  if (it == impl_->live.end()) return std::nullopt;
  return it->second;
}

void IngestService::reload_meters() {
  auto meters = impl_->store.list_meters();
  if (!meters.ok()) {
    spdlog::error("ingest: reloading meters failed: {}", meters.error().message);
    return;
  }
  {
    std::lock_guard lk(impl_->known_mu);
    for (const auto& m : meters.value()) {
      impl_->known.insert(m.id);
      impl_->unknown_until.erase(m.id);
    }
  }
  std::lock_guard lk(impl_->live_mu);
  for (const auto& m : meters.value()) impl_->live[m.id].meter_id = m.id;
}

Expected<storage::CommandRecord, SendCommandError> IngestService::send_command(const CommandRequest& request) {
  Impl& m = *impl_;
  using protocol::CommandKind;
  if (!protocol::is_valid_meter_id(request.meter_id) || !m.is_known(request.meter_id)) {
    return SendCommandError{CommandError::kUnknownMeter, "meter", "unknown meter '" + request.meter_id + "'"};
  }
  if (request.kind == CommandKind::kSetPeriod) {
    if (!request.period_s || *request.period_s < 1 || *request.period_s > 3600) {
      return SendCommandError{CommandError::kInvalidArgument, "period_s",
                              "set_period needs period_s from 1 to 3600, got " +
                                  (request.period_s ? std::to_string(*request.period_s) : std::string("none"))};
    }
  } else if (request.period_s) {
    return SendCommandError{CommandError::kInvalidArgument, "period_s",
                            "period_s is only for set_period, not " + std::string(protocol::command_kind_name(request.kind))};
  }
  if (request.timeout_ms < 0) {
    return SendCommandError{CommandError::kInvalidArgument, "timeout_ms", "timeout_ms must not be negative"};
  }
  const int64_t t = m.now();
  const int timeout = request.timeout_ms > 0 ? request.timeout_ms : m.config.command_timeout_ms;
  Impl::Tracked tracked;
  tracked.timeout_ms = timeout;
  storage::CommandRecord& rec = tracked.record;
  rec.id = new_command_id(t);
  rec.meter_id = request.meter_id;
  rec.kind = request.kind;
  rec.args_json = request.period_s ? "{\"period_s\":" + std::to_string(*request.period_s) + "}" : "{}";
  rec.requested_by = request.requested_by;
  rec.state = storage::CommandState::kPending;
  rec.created_ms = t;
  rec.updated_ms = t;
  tracked.command = protocol::Command{rec.id, rec.meter_id, rec.kind, request.period_s, t, t + timeout};
  if (auto st = m.store.add_command(rec); !st.ok()) {
    return SendCommandError{CommandError::kStorageFailed, "", "cannot store the command: " + st.error().message};
  }
  storage::AuditEntry audit;
  audit.time_ms = t;
  audit.actor = request.requested_by.empty() ? "unknown" : request.requested_by;
  audit.action = "command." + std::string(protocol::command_kind_name(request.kind));
  audit.target = request.meter_id;
  audit.details = request.reason.empty() ? rec.id : rec.id + ": " + request.reason;
  if (auto a = m.store.append_audit(audit); !a.ok()) spdlog::error("ingest: audit failed: {}", a.error().message);
  std::lock_guard lk(m.cmd_mu);
  auto [it, inserted] = m.commands.emplace(rec.id, std::move(tracked));
  if (m.connected) m.publish_command(it->second);  // else sent on (re)connect
  return it->second.record;
}

bool IngestService::flush(int timeout_ms) {
  Impl& m = *impl_;
  std::unique_lock lk(m.queue_mu);
  if (!m.readings.empty()) m.oldest_reading_steady_ms = 0;  // due now
  m.queue_cv.notify_one();
  return m.idle_cv.wait_for(lk, std::chrono::milliseconds(timeout_ms),
                            [&] { return m.readings.empty() && m.work.empty() && !m.writer_busy; });
}

}  // namespace wattguard::ingest
