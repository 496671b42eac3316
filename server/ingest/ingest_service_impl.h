// The state and threads behind IngestService, private to server/ingest. Three files share it:
// ingest_service.cc (the public calls, start and stop), ingest_mqtt.cc (libmosquitto's thread: decode and
// validate, admit provisioned meters, publish commands) and ingest_writer.cc (the writer thread: batches into
// the store, live state, liveness, command states, observers).
// Thread safety: each member says which thread owns it or which mutex guards it.
#pragma once

#include <mosquitto.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "server/ingest/command_tracker.h"
#include "server/ingest/ingest_journal.h"
#include "server/ingest/ingest_queue.h"
#include "server/ingest/liveness.h"
#include "wattguard/base/clock.h"
#include "wattguard/ingest/ingest_service.h"
#include "wattguard/protocol/rejection.h"

namespace wattguard::ingest {

struct IngestService::Impl {
  IngestConfig config;
  storage::ReadingStore& store;
  mosquitto* mosq = nullptr;

  std::atomic<bool> running{false};
  std::atomic<bool> connected{false};  // subscribed: the broker acknowledged every subscription
  int last_subscribe_mid = 0;          // MQTT loop thread only: the SUBACK that makes us connected

  IngestQueue queue;
  std::unique_ptr<IngestJournal> journal;  // null without config.journal_dir
  std::thread writer_thread;
  std::thread timer_thread;
  std::mutex timer_mu;
  std::condition_variable timer_cv;

  // --- counters
  mutable std::mutex health_mu;
  IngestHealth health;  // guarded by health_mu

  // --- rejections logged once per (meter, reason)
  std::mutex log_mu;
  std::set<std::pair<std::string, protocol::Rejection>> logged;  // guarded by log_mu

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

  void reject(const std::string& meter, protocol::Rejection reason, const std::string& detail);

  bool is_known(const std::string& meter_id);

  void count(uint64_t IngestHealth::*counter) {
    std::lock_guard lk(health_mu);
    ++(health.*counter);
  }

  // ------------------------------------------------------------ MQTT thread

  void on_message(const mosquitto_message* msg);
  // A message from the broker, or (replayed_from set) one an earlier run journaled: decoded, admitted,
  // journaled and queued for the writer, or refused. Also on the starting thread, for the replay.
  void accept(const std::string& topic, std::string_view payload, int64_t received, bool retained,
              std::optional<uint64_t> replayed_from);

  void on_connect(int rc);

  void on_disconnect(int rc);
  void on_subscribe(int mid);

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
  void apply(const LivenessChange& c);

  // The store failed / worked: health's storage_failing (and the store error count).
  bool storage_failed(const std::string& error);  // true at the onset of a failure
  void storage_worked();
  // False when the store failed (logged, counted).
  bool store_event(const protocol::MeterEvent& e, storage::EventSource source, int64_t received);

  void handle(StatusItem& s);

  void handle(EventItem& e);

  // Stores a command's new state and tells the observers.
  void command_changed(const storage::CommandRecord& c);

  void handle(AckItem& a);

  // REQUIRES: called under the CommandTracker's lock (it is the tracker's PublishFn).
  std::optional<int> publish_command(const TrackedCommand& t);
  PublishFn publisher() {
    return [this](const TrackedCommand& t) { return publish_command(t); };
  }

  void handle(PublishedItem& p);

  void handle(ConnectedItem& c) {
    liveness->listening_since(c.at_ms);
    commands.publish_unsent(publisher());
  }

  void handle(TickItem&);

  // Stores a batch; retries on store errors (the readings stay queued in `batch`).
  void write_batch(std::vector<ReadingItem>& batch);

  void apply_result(std::vector<ReadingItem>& batch, const storage::AppendResult& r);

  void writer_loop();

  // libmosquitto callbacks (run on its network thread).
  static void cb_connect(mosquitto*, void* obj, int rc) { static_cast<Impl*>(obj)->on_connect(rc); }
  static void cb_disconnect(mosquitto*, void* obj, int rc) { static_cast<Impl*>(obj)->on_disconnect(rc); }
  static void cb_subscribe(mosquitto*, void* obj, int mid, int /*qos_count*/, const int* /*granted*/) {
    static_cast<Impl*>(obj)->on_subscribe(mid);
  }
  static void cb_message(mosquitto*, void* obj, const mosquitto_message* msg) {
    static_cast<Impl*>(obj)->on_message(msg);
  }
  static void cb_publish(mosquitto*, void* obj, int mid) {
    static_cast<Impl*>(obj)->queue.push_work(PublishedItem{mid});
  }

  void timer_loop();
};

}  // namespace wattguard::ingest
