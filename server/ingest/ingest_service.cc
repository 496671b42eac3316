// IngestService: libmosquitto client thread -> decode/validate -> IngestQueue -> writer thread (batched store
// appends, live state, observers); a timer thread ticks liveness and command timeouts. The rules live in
// Liveness (connectivity) and CommandTracker (command states); this file wires them to the broker and store.
#include "wattguard/ingest/ingest_service.h"

#include <mosquitto.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "server/ingest/command_tracker.h"
#include "server/ingest/ingest_queue.h"
#include "server/ingest/liveness.h"
#include "wattguard/base/clock.h"
#include "wattguard/base/sodium.h"
#include "wattguard/protocol/codec.h"
#include "wattguard/protocol/command_signature.h"
#include "wattguard/protocol/topics.h"

namespace wattguard::ingest {
namespace {

using protocol::Rejection;
using protocol::TopicKind;

constexpr int64_t kUnknownRecheckMs = 10'000;         // an unknown meter id is looked up again at most this often
constexpr std::size_t kMaxLoggedRejections = 10'000;  // (meter, reason) pairs remembered for log-once
constexpr std::size_t kMaxNegativeCache = 100'000;

void init_libraries() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
  ensure_sodium();
}

// The configuration problems start() refuses, in the order it checks them.
Expected<void> check_config(const IngestConfig& c) {
  if (c.port <= 0 || c.port > 65535) {
    return Error::invalid("port", std::to_string(c.port), "mqtt port " + std::to_string(c.port) + " is not 1..65535");
  }
  if (c.client_id.empty() || c.client_id.size() > 128) {
    return Error::invalid("client_id", c.client_id, "mqtt client_id must be 1..128 characters");
  }
  if (c.share_group.find_first_of("/+#") != std::string::npos) {
    return Error::invalid("share_group", c.share_group, "share_group '" + c.share_group + "' must not contain / + #");
  }
  if (c.flush_interval_ms < 1 || c.flush_max_readings < 1) {
    return Error::invalid("flush_interval_ms", std::to_string(c.flush_interval_ms),
                          "flush interval and size must be positive");
  }
  if (c.default_period_s < 1 || c.missed_periods < 1) {
    return Error::invalid("missed_periods", std::to_string(c.missed_periods),
                          "default_period_s and missed_periods must be >= 1");
  }
  if (c.command_timeout_ms < 1 || c.liveness_check_ms < 1) {
    return Error::invalid("command_timeout_ms", std::to_string(c.command_timeout_ms), "timeouts must be positive");
  }
  return {};
}

}  // namespace

struct IngestService::Impl {
  IngestConfig config;
  storage::ReadingStore& store;
  mosquitto* mosq = nullptr;

  std::atomic<bool> running{false};
  std::atomic<bool> connected{false};

  IngestQueue queue;
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
  mutable std::mutex known_mu;
  std::unordered_set<std::string> known;                   // guarded by known_mu
  std::unordered_map<std::string, int64_t> unknown_until;  // guarded by known_mu: negative cache

  // --- live state (written by the writer thread only; read by anyone under live_mu)
  mutable std::mutex live_mu;
  std::map<std::string, MeterLive> live;  // guarded by live_mu
  // Connectivity rules; the writer thread only (set up by start() before the threads run). Meters enter it
  // when first heard from: until then they are unknown, which is also what `live` says of them.
  std::optional<Liveness> liveness;

  CommandTracker commands;

  // --- meters on other protocols
  std::mutex links_mu;
  std::unordered_map<std::string, IngestService::CommandLink> links;  // guarded by links_mu
  int next_link_mid = -1;                                             // guarded by links_mu; MQTT's ids are > 0
  uint64_t last_nonce = 0;  // of the last signed command; guarded by the CommandTracker's lock (publish_command)
  std::mutex seq_mu;
  std::unordered_map<std::string, uint64_t> last_seq;  // guarded by seq_mu: numbers handed out by submit_reading

  // --- observers
  std::mutex obs_mu;
  std::vector<IngestObserver*> observers;  // guarded by obs_mu

  Impl(IngestConfig c, storage::ReadingStore& s)
      : config(std::move(c)),
        store(s),
        queue(config.flush_interval_ms, config.flush_max_readings, config.max_pending_readings) {
    config.now_ms = or_system_clock(std::move(config.now_ms));
  }

  int64_t now() const { return config.now_ms(); }

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
    // Provisioned since we loaded the registry? A retired meter counts as unknown.
    const auto info = store.get_meter(meter_id);
    const bool has = info.ok() && info->retired_ms == 0;
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

  void count(uint64_t IngestHealth::*counter) {
    std::lock_guard lk(health_mu);
    ++(health.*counter);
  }

  // ------------------------------------------------------------ MQTT thread

  void on_message(const mosquitto_message* msg) {
    const int64_t received = now();
    count(&IngestHealth::messages_received);
    const std::string topic = msg->topic ? msg->topic : "";
    auto parsed = protocol::parse_topic(topic);
    if (!parsed) {
      reject("?", Rejection::kUnknownTopic, "topic '" + topic.substr(0, 128) + "' is outside wattguard/v1/<meter>/...");
      return;
    }
    const std::string_view payload(static_cast<const char*>(msg->payload), static_cast<std::size_t>(msg->payloadlen));
    const protocol::DecodeContext ctx{received, parsed->meter_id};
    // Decoded and from a provisioned meter, or refused (counted, logged once).
    auto admit = [&](const auto& decoded) {
      if (!decoded.ok()) {
        reject(parsed->meter_id, protocol::rejection_of(decoded.error()), protocol::describe(decoded.error()));
        return false;
      }
      if (!is_known(parsed->meter_id)) {
        reject(parsed->meter_id, Rejection::kUnknownMeter, "meter " + parsed->meter_id + " is not provisioned");
        return false;
      }
      return true;
    };
    switch (parsed->kind) {
      case TopicKind::kReading: {
        count(&IngestHealth::readings_received);
        auto d = protocol::decode_reading(payload, ctx);
        if (admit(d)) queue.push_reading(ReadingItem{std::move(d.value()), received});
        return;
      }
      case TopicKind::kStatus: {
        if (payload.empty()) return;  // a cleared retained message
        count(&IngestHealth::statuses_received);
        auto d = protocol::decode_status(payload, ctx);
        if (admit(d)) queue.push_work(StatusItem{std::move(d.value()), received});
        return;
      }
      case TopicKind::kEvent: {
        auto d = protocol::decode_event(payload, ctx);
        if (admit(d)) queue.push_work(EventItem{std::move(d.value()), received});
        return;
      }
      case TopicKind::kCmdAck: {
        count(&IngestHealth::acks_received);
        auto d = protocol::decode_ack(payload, ctx);
        if (admit(d)) queue.push_work(AckItem{std::move(d.value()), received});
        return;
      }
      case TopicKind::kCmd: return;  // our own commands are not subscribed to; ignore if a broker echoes one
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
      const std::string t =
          share ? protocol::shared_subscription(config.share_group, kind) : protocol::wildcard_topic(kind);
      const int r = mosquitto_subscribe(mosq, nullptr, t.c_str(), 1);
      if (r != MOSQ_ERR_SUCCESS) spdlog::warn("ingest: subscribe {} failed: {}", t, mosquitto_strerror(r));
    };
    sub(TopicKind::kReading, shared);
    sub(TopicKind::kEvent, shared);
    sub(TopicKind::kCmdAck, shared);
    sub(TopicKind::kStatus, false);
    spdlog::info("ingest: connected to {}:{} as {}", config.host, config.port, config.username);
    queue.push_work(ConnectedItem{});
  }

  void on_disconnect(int rc) {
    connected = false;
    {
      std::lock_guard lk(health_mu);
      health.connected = false;
    }
    if (rc != 0 && running)
      spdlog::warn("ingest: lost the broker connection ({}); reconnecting", mosquitto_strerror(rc));
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

  // REQUIRES: writer thread. Stores the comm_loss event first, then makes the change visible: whoever sees
  // the meter offline also finds its event.
  void apply(const LivenessChange& c) {
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

  void store_event(const protocol::MeterEvent& e, storage::EventSource source, int64_t received) {
    auto r = store.add_event(e, source, received);
    if (!r.ok()) {
      spdlog::error("ingest: storing event {} of {} failed: {}", protocol::event_kind_name(e.kind), e.meter_id,
                    r.error().message);
      count(&IngestHealth::store_errors);
      return;
    }
    count(&IngestHealth::events_stored);
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
    if (auto c = liveness->on_status(id, s.status.online, s.status.period_s, s.received_ms)) apply(*c);
  }

  void handle(EventItem& e) {
    store_event(e.event, storage::EventSource::kMeter, e.received_ms);
    if (e.event.kind == protocol::EventKind::kRelayOpened || e.event.kind == protocol::EventKind::kRelayClosed) {
      std::lock_guard lk(live_mu);
      live[e.event.meter_id].relay =
          e.event.kind == protocol::EventKind::kRelayOpened ? protocol::RelayState::kOff : protocol::RelayState::kOn;
    }
  }

  // Stores a command's new state and tells the observers.
  void command_changed(const storage::CommandRecord& c) {
    auto st = store.update_command(c.id, c.state, c.message, c.relay, c.updated_ms);
    if (!st.ok()) spdlog::error("ingest: updating command {} failed: {}", c.id, st.error().message);
    notify([&](IngestObserver& o) { o.on_ack(c); });
  }

  void handle(AckItem& a) {
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

  // REQUIRES: called under the CommandTracker's lock (it is the tracker's PublishFn).
  std::optional<int> publish_command(const TrackedCommand& t) {
    {
      std::lock_guard lk(links_mu);
      auto link = links.find(t.record.meter_id);
      if (link != links.end()) {
        if (!link->second(t.command)) return std::nullopt;
        const int mid = next_link_mid--;
        count(&IngestHealth::commands_sent);
        // Handed to the device's connection: as good as the broker's PUBACK.
        queue.push_work(PublishedItem{mid});
        return mid;
      }
    }
    if (!connected) return std::nullopt;
    const std::string topic = protocol::make_topic(t.record.meter_id, TopicKind::kCmd);
    std::string payload;
    if (config.command_master_key) {
      // Signed afresh on every publish: a nonce above every earlier one, also across restarts (it starts
      // from the clock in microseconds), so the meter can refuse anything it has seen.
      protocol::Command signed_command = t.command;
      last_nonce = std::max(last_nonce + 1, static_cast<uint64_t>(std::max<int64_t>(now(), 0)) * 1000);
      protocol::sign_command(signed_command,
                             protocol::derive_command_key(*config.command_master_key, t.record.meter_id), last_nonce);
      payload = protocol::encode(signed_command);
    } else {
      payload = protocol::encode(t.command);
    }
    int mid = 0;
    const int rc =
        mosquitto_publish(mosq, &mid, topic.c_str(), static_cast<int>(payload.size()), payload.data(), 1, false);
    if (rc != MOSQ_ERR_SUCCESS) {
      spdlog::warn("ingest: publishing command {} deferred: {}", t.record.id, mosquitto_strerror(rc));
      return std::nullopt;
    }
    count(&IngestHealth::commands_sent);
    return mid;
  }
  PublishFn publisher() {
    return [this](const TrackedCommand& t) { return publish_command(t); };
  }

  void handle(PublishedItem& p) {
    if (auto c = commands.on_published(p.mid, now())) command_changed(*c);
  }

  void handle(ConnectedItem&) { commands.publish_unsent(publisher()); }

  void handle(TickItem&) {
    const int64_t t = now();
    for (const LivenessChange& c : liveness->on_tick(t)) apply(c);
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
      count(&IngestHealth::store_errors);
      spdlog::error("ingest: storing {} readings failed (attempt {}): {}", rs.size(), attempt + 1,
                    result.error().message);
      if (!queue.wait_before_retry(attempt)) {
        spdlog::error("ingest: giving up on {} readings at shutdown", rs.size());
        return;
      }
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

  void writer_loop() {
    WriterTake take;
    while (queue.take(take)) {
      {
        std::lock_guard hk(health_mu);
        health.pending_readings = take.pending_readings;
      }
      for (WorkItem& item : take.work) std::visit([&](auto& x) { handle(x); }, item);
      if (!take.batch.empty()) write_batch(take.batch);
      const std::size_t pending = queue.done();
      std::lock_guard hk(health_mu);
      health.pending_readings = pending;
    }
  }

  // libmosquitto callbacks (run on its network thread).
  static void cb_connect(mosquitto*, void* obj, int rc) { static_cast<Impl*>(obj)->on_connect(rc); }
  static void cb_disconnect(mosquitto*, void* obj, int rc) { static_cast<Impl*>(obj)->on_disconnect(rc); }
  static void cb_message(mosquitto*, void* obj, const mosquitto_message* msg) {
    static_cast<Impl*>(obj)->on_message(msg);
  }
  static void cb_publish(mosquitto*, void* obj, int mid) {
    static_cast<Impl*>(obj)->queue.push_work(PublishedItem{mid});
  }

  void timer_loop() {
    std::unique_lock lk(timer_mu);
    while (running) {
      timer_cv.wait_for(lk, std::chrono::milliseconds(config.liveness_check_ms));
      if (!running) break;
      queue.push_work(TickItem{});
    }
  }
};

IngestService::IngestService(IngestConfig config, storage::ReadingStore& store)
    : impl_(std::make_unique<Impl>(std::move(config), store)) {}

IngestService::~IngestService() { stop(); }

Expected<void> IngestService::start() {
  Impl& m = *impl_;
  if (m.running) return {};
  const IngestConfig& c = m.config;
  if (auto ok = check_config(c); !ok.ok()) return ok;
  init_libraries();

  // Registry, latest states and open commands from the store.
  auto meters = m.store.list_meters();
  if (!meters.ok()) return Error::io("cannot read the meter registry: " + meters.error().message);
  auto latest = m.store.latest_all();
  if (!latest.ok()) return Error::io("cannot read latest readings: " + latest.error().message);
  m.liveness.emplace(c.default_period_s, c.missed_periods, m.now());
  {
    std::lock_guard lk(m.known_mu);
    for (const auto& meter : meters.value()) {
      if (meter.retired_ms == 0) m.known.insert(meter.id);
    }
  }
  {
    std::lock_guard lk(m.live_mu);
    for (const auto& meter : meters.value()) m.live[meter.id].meter_id = meter.id;
    for (const auto& l : latest.value()) {
      MeterLive& live = m.live[l.reading.meter_id];
      live.last_reading = l.reading;
      // An imported reading is not a sign of life over MQTT: such a meter stays never heard from.
      if ((l.reading.flags & protocol::kFlagImported) == 0) {
        live.last_seen_ms = l.received_ms;
        m.liveness->restore_last_seen(l.reading.meter_id, l.received_ms);
      }
      live.relay =
          (l.reading.flags & protocol::kFlagRelayOpen) ? protocol::RelayState::kOff : protocol::RelayState::kOn;
    }
  }
  {
    std::lock_guard lk(m.health_mu);
    m.health.meters_known = meters.value().size();
    for (protocol::Rejection r : protocol::all_rejections())
      m.health.rejected[std::string(protocol::rejection_name(r))] = 0;
  }
  auto open = m.store.open_commands();
  if (!open.ok()) return Error::io("cannot read open commands: " + open.error().message);

  m.mosq = mosquitto_new(c.client_id.c_str(), c.clean_session, &m);
  if (!m.mosq) return Error::internal("cannot create the MQTT client");
  mosquitto_connect_callback_set(m.mosq, &Impl::cb_connect);
  mosquitto_disconnect_callback_set(m.mosq, &Impl::cb_disconnect);
  mosquitto_message_callback_set(m.mosq, &Impl::cb_message);
  mosquitto_publish_callback_set(m.mosq, &Impl::cb_publish);
  mosquitto_reconnect_delay_set(m.mosq, static_cast<unsigned>(std::max(1, c.reconnect_min_s)),
                                static_cast<unsigned>(std::max(c.reconnect_min_s, c.reconnect_max_s)), true);
  if (!c.username.empty()) {
    mosquitto_username_pw_set(m.mosq, c.username.c_str(), c.password.empty() ? nullptr : c.password.c_str());
  }
  for (const auto& rec : open.value()) {
    protocol::Command cmd;
    cmd.id = rec.id;
    cmd.meter_id = rec.meter_id;
    cmd.kind = rec.kind;
    cmd.time_ms = rec.created_ms;
    cmd.expires_ms = rec.created_ms + c.command_timeout_ms;
    if (rec.kind == protocol::CommandKind::kSetPeriod) {
      const auto pos = rec.args_json.find("\"period_s\":");
      if (pos != std::string::npos) cmd.period_s = static_cast<uint32_t>(std::atoi(rec.args_json.c_str() + pos + 11));
    }
    // Commands sent before a restart keep their deadline; ones never sent are sent on connect.
    m.commands.add(TrackedCommand{rec, cmd, c.command_timeout_ms, rec.state == storage::CommandState::kSent}, nullptr);
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
    return Error::unavailable(std::string("cannot start the MQTT thread: ") + mosquitto_strerror(lrc));
  }
  return {};
}

void IngestService::stop() {
  Impl& m = *impl_;
  if (!m.running.exchange(false)) return;
  if (m.mosq) {
    mosquitto_disconnect(m.mosq);
    // Not forced: the MQTT thread may be waiting for queue room, which the writer still frees.
    mosquitto_loop_stop(m.mosq, false);
  }
  { std::lock_guard lk(m.timer_mu); }
  m.timer_cv.notify_all();
  if (m.timer_thread.joinable()) m.timer_thread.join();
  m.queue.stop();
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
      if (m.retired_ms != 0) {
        impl_->known.erase(m.id);
        continue;
      }
      impl_->known.insert(m.id);
      impl_->unknown_until.erase(m.id);
    }
  }
  std::lock_guard lk(impl_->live_mu);
  for (const auto& m : meters.value()) impl_->live[m.id].meter_id = m.id;
}

Expected<storage::CommandRecord> IngestService::send_command(const CommandRequest& request) {
  Impl& m = *impl_;
  if (!protocol::is_valid_meter_id(request.meter_id) || !m.is_known(request.meter_id)) {
    Error e = Error::not_found("unknown meter '" + request.meter_id + "'");
    e.field = "meter";
    e.value = request.meter_id;
    return e;
  }
  auto made = new_command(request, m.now(), m.config.command_timeout_ms);
  if (!made.ok()) return std::move(made).error();
  TrackedCommand& tracked = made.value();
  const storage::CommandRecord& rec = tracked.record;
  if (auto st = m.store.add_command(rec); !st.ok()) {
    return Error::io("cannot store the command: " + st.error().message);
  }
  storage::AuditEntry audit;
  audit.time_ms = rec.created_ms;
  audit.actor = request.requested_by.empty() ? "unknown" : request.requested_by;
  audit.action = "command." + std::string(protocol::command_kind_name(request.kind));
  audit.target = request.meter_id;
  audit.details = request.reason.empty() ? rec.id : rec.id + ": " + request.reason;
  if (auto a = m.store.append_audit(audit); !a.ok()) spdlog::error("ingest: audit failed: {}", a.error().message);
  // Published now when connected (or linked), else on (re)connect or attach.
  return m.commands.add(std::move(tracked), m.publisher());
}

Expected<void> IngestService::submit_reading(protocol::Reading reading, int64_t received_ms) {
  Impl& m = *impl_;
  m.count(&IngestHealth::readings_received);
  auto refuse = [&](Error e) -> Expected<void> {
    m.reject(reading.meter_id, protocol::rejection_of(e), protocol::describe(e));
    return e;
  };
  if (!protocol::is_valid_meter_id(reading.meter_id) || !m.is_known(reading.meter_id)) {
    m.reject(reading.meter_id, Rejection::kUnknownMeter, "meter " + reading.meter_id + " is not provisioned");
    Error e = Error::not_found("meter '" + reading.meter_id + "' is not provisioned (or retired)");
    e.field = "meter";
    e.value = reading.meter_id;
    return e;
  }
  if (reading.seq == 0) {
    std::lock_guard lk(m.seq_mu);
    uint64_t& last = m.last_seq[reading.meter_id];
    if (last == 0) {
      std::lock_guard lk2(m.live_mu);
      auto it = m.live.find(reading.meter_id);
      if (it != m.live.end() && it->second.last_reading) last = it->second.last_reading->seq;
    }
    reading.seq = ++last;
  }
  if (auto ok = protocol::validate(reading, protocol::DecodeContext{received_ms, reading.meter_id}); !ok.ok()) {
    return refuse(std::move(ok).error());
  }
  m.queue.push_reading(ReadingItem{std::move(reading), received_ms});
  return {};
}

void IngestService::submit_status(protocol::StatusMessage status, int64_t received_ms) {
  Impl& m = *impl_;
  m.count(&IngestHealth::statuses_received);
  if (!m.is_known(status.meter_id)) return;
  m.queue.push_work(StatusItem{std::move(status), received_ms});
}

void IngestService::submit_ack(protocol::CommandAck ack, int64_t received_ms) {
  Impl& m = *impl_;
  m.count(&IngestHealth::acks_received);
  if (!m.is_known(ack.meter_id)) return;
  m.queue.push_work(AckItem{std::move(ack), received_ms});
}

void IngestService::attach_link(const std::string& meter_id, CommandLink link) {
  {
    std::lock_guard lk(impl_->links_mu);
    impl_->links[meter_id] = std::move(link);
  }
  // Commands that waited for the device go now (publish_unsent skips the ones already handed over).
  impl_->commands.publish_unsent(impl_->publisher());
}

void IngestService::detach_link(const std::string& meter_id) {
  std::lock_guard lk(impl_->links_mu);
  impl_->links.erase(meter_id);
}

bool IngestService::flush(int timeout_ms) { return impl_->queue.flush(timeout_ms); }

}  // namespace wattguard::ingest
