// IngestService: libmosquitto client thread -> decode/validate -> IngestQueue -> writer thread (batched store
// appends, live state, observers); a timer thread ticks liveness and command timeouts. The rules live in
// Liveness (connectivity) and CommandTracker (command states). This file holds the public calls, start and
// stop; the MQTT side is in ingest_mqtt.cc, the writer side in ingest_writer.cc (ingest_service_impl.h).
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

#include "server/ingest/ingest_service_impl.h"
#include "wattguard/base/clock.h"
#include "wattguard/base/sodium.h"
#include "wattguard/protocol/codec.h"
#include "wattguard/protocol/command_signature.h"
#include "wattguard/protocol/topics.h"
#include "wattguard/tls/mqtt_client_tls.h"

namespace wattguard::ingest {
namespace {

using protocol::Rejection;

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
  if (c.flush_interval_ms < 0 || c.flush_max_readings < 1) {
    return Error::invalid("flush_interval_ms", std::to_string(c.flush_interval_ms),
                          "flush interval must be >= 0 and batch size positive");
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

  if (!c.journal_dir.empty()) {
    auto journal = IngestJournal::open(c.journal_dir);
    if (!journal.ok()) return journal.error();
    m.journal = std::move(journal).value();
  }

  m.mosq = mosquitto_new(c.client_id.c_str(), c.clean_session, &m);
  if (!m.mosq) return Error::internal("cannot create the MQTT client");
  mosquitto_connect_callback_set(m.mosq, &Impl::cb_connect);
  mosquitto_disconnect_callback_set(m.mosq, &Impl::cb_disconnect);
  mosquitto_subscribe_callback_set(m.mosq, &Impl::cb_subscribe);
  mosquitto_message_callback_set(m.mosq, &Impl::cb_message);
  mosquitto_publish_callback_set(m.mosq, &Impl::cb_publish);
  mosquitto_reconnect_delay_set(m.mosq, static_cast<unsigned>(std::max(1, c.reconnect_min_s)),
                                static_cast<unsigned>(std::max(c.reconnect_min_s, c.reconnect_max_s)), true);
  if (!c.username.empty()) {
    mosquitto_username_pw_set(m.mosq, c.username.c_str(), c.password.empty() ? nullptr : c.password.c_str());
  }
  // MQTT over TLS: set before the first CONNECT, so the password never leaves in the clear.
  auto secured = tls::check_mqtt_client_tls(c.tls, "mqtt.ca_file");
  if (secured.ok()) secured = tls::apply_mqtt_client_tls(m.mosq, c.tls);
  if (!secured.ok()) {
    mosquitto_destroy(m.mosq);
    m.mosq = nullptr;
    return std::move(secured).error();
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
  // Before the broker's backlog, so the replay comes first in the writer's queue.
  if (m.journal) {
    m.journal->replay([&m](uint64_t segment, const JournalRecord& r) {
      m.accept(r.topic, r.payload, r.received_ms, false, segment);
    });
  }
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
  h.pending_readings = impl_->queue.pending_readings();
  if (impl_->journal) {
    const JournalStats j = impl_->journal->stats();
    h.journal_append_errors = j.append_errors;
    h.journal_replayed = j.replayed;
  }
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
  m.queue.push_reading(ReadingItem{std::move(reading), received_ms, 0});
  return {};
}

void IngestService::submit_status(protocol::StatusMessage status, int64_t received_ms) {
  Impl& m = *impl_;
  m.count(&IngestHealth::statuses_received);
  if (!m.is_known(status.meter_id)) return;
  m.queue.push_work(StatusItem{std::move(status), received_ms, false});
}

void IngestService::submit_ack(protocol::CommandAck ack, int64_t received_ms) {
  Impl& m = *impl_;
  m.count(&IngestHealth::acks_received);
  if (!m.is_known(ack.meter_id)) return;
  m.queue.push_work(AckItem{std::move(ack), received_ms, 0});
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
