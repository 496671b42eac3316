// One event-loop thread driving a share of the fleet: advancing its meters in virtual time and
// moving their readings, events and acknowledgements through libmosquitto clients on one epoll.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "wattguard/fleet/credentials.h"
#include "wattguard/fleet/fleet.h"
#include "wattguard/fleet/queued_reading.h"
#include "wattguard/fleet/virtual_meter.h"
#include "wattguard/protocol/command_signature.h"
#include "wattguard/protocol/topics.h"

struct mosquitto;
struct mosquitto_message;

namespace wattguard::fleet {

class FleetJournal;
class VirtualClock;
class Shard;

// A reading in a meter's store-and-forward queue.
struct PendingReading {
  QueuedReading reading;
  uint64_t lsn = 0;    // journal record; sendable once durable
  int mid = 0;         // MQTT message id while in flight; 0 = not sent (or to be re-sent)
  bool acked = false;  // PUBACK came while an older reading is still in flight
  bool late = false;   // made while disconnected, re-sent, or from the previous run: kFlagReplayed
};

// An event or command acknowledgement waiting for its PUBACK.
struct PendingControl {
  protocol::TopicKind kind = protocol::TopicKind::kEvent;
  std::string payload;
  int mid = 0;
};

struct Link;

// One meter and its queues.
struct Slot {
  std::unique_ptr<VirtualMeter> meter;
  Link* link = nullptr;
  std::deque<PendingReading> queue;
  std::size_t inflight = 0;
  std::deque<PendingControl> control;
  std::string topic_reading, topic_event, topic_ack, topic_status;
  int64_t due_ms = 0;
  bool stopped = false;    // powered off (stop_meter)
  bool comms_cut = false;  // offline theft: never connects again
  bool in_send_list = false;
  // Verifies the server's signed commands when set (from the credentials); the last nonce it accepted guards
  // against replays while the meter runs, the commands' expiry across its restarts.
  std::optional<protocol::CommandKey> command_key;
  uint64_t last_nonce = 0;
};

// One MQTT client connection (a meter's own, or a gateway's).
struct Link {
  enum class State : uint8_t { kIdle, kConnecting, kConnected, kDead };
  Shard* shard = nullptr;
  mosquitto* mosq = nullptr;
  State state = State::kIdle;
  bool per_meter = true;
  std::string client_id;
  BrokerLogin login;
  std::vector<Slot*> slots;
  std::unordered_map<std::string, Slot*> by_id;  // gateway: which meter a cmd topic names
  struct MidRef {
    Slot* slot = nullptr;
    bool reading = false;
  };
  std::unordered_map<int, MidRef> mids;
  int fd = -1;
  uint32_t mask = 0;
  int64_t retry_at_ms = 0;  // steady ms
  int backoff_ms = 0;
  int64_t connect_started_ms = 0;
  // Index into the fleet's broker nodes (FleetShared::nodes) this link tries next; moves on after each loss.
  std::size_t node = 0;
  // Steady ms until which nothing is published: the broker said no subscriber would get it (the server's
  // session is gone, e.g. a broker restarted before it had saved it), so what comes back waits for the server.
  int64_t unrouted_until_ms = 0;
  bool lost = false;     // the connection failed inside a libmosquitto call
  bool refused = false;  // the broker refused the login (logged once)
  bool touched = false;
};

struct FleetShared;

// Steady-clock milliseconds: the shards' timers (back-off, holds, timeouts).
int64_t steady_ms();
// Deterministic jitter in [0.7, 1.3) from a link's address and attempt, so reconnections and retries spread.
double jitter(const void* p, int attempt);

class Shard {
 public:
  Shard(FleetShared& fleet, int index);
  ~Shard();

  // Set up before start().
  Slot* add_slot(std::unique_ptr<Slot> slot);
  Link* add_link(std::unique_ptr<Link> link);

  void start();
  // Stops measuring, drains queues for up to drain_ms, says offline, disconnects; joins.
  void stop(int drain_ms);
  bool running() const { return running_.load(); }

  // Runs `task` on the shard thread (or at once if the thread is not running).
  void post(std::function<void()> task);
  void wake();
  // Shard thread: the meter stops measuring and its connection drops as if its power failed.
  void power_off(Slot* slot);

  // Called back by libmosquitto (trampolines in shard.cc).
  void on_connect(Link* link, int rc);
  void on_disconnect(Link* link, int rc);
  void on_publish(Link* link, int mid, int reason_code);
  void on_message(Link* link, const mosquitto_message* message);
  // Acks command `id` with ok = false and `why`, so the server need not wait for its timeout.
  void refuse_command(Slot* slot, Link* link, const std::string& id, const std::string& why);

  const std::vector<std::unique_ptr<Slot>>& slots() const { return slots_; }

 private:
  void run();
  void tick(int64_t now_ms);
  void take_outputs(Slot* slot, std::vector<QueuedReading>& readings, std::vector<protocol::MeterEvent>& events);
  void enqueue_reading(Slot* slot, const QueuedReading& reading, uint64_t lsn, bool late);
  void enqueue_control(Slot* slot, protocol::TopicKind kind, std::string payload);
  void mark_send(Slot* slot);
  void try_send(Slot* slot);
  void hold_unrouted(Link* link);
  void log_refused(const Slot* slot, const char* what, int reason_code);
  void publish_status(Link* link, Slot* slot, bool online);
  void connect(Link* link, int64_t now_steady_ms);
  void drop_connection(Link* link, bool abrupt);
  void handle_lost(Link* link, int64_t now_steady_ms);
  void cut_comms(Slot* slot);
  void touch(Link* link);
  void update_masks();
  void run_posted();
  void drain_and_disconnect(int64_t deadline_steady_ms);
  bool all_queues_empty() const;

  FleetShared& fleet_;
  int index_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<std::unique_ptr<Link>> links_;
  std::vector<Slot*> send_list_;
  std::vector<Link*> touched_;
  std::vector<Slot*> awaiting_durable_;
  std::vector<Link*> unrouted_links_;  // links holding back until unrouted_until_ms
  using Due = std::pair<int64_t, Slot*>;
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> due_;
  uint64_t seen_durable_ = 0;
  double connect_budget_ = 0;
  int64_t last_budget_ms_ = 0;
  int64_t last_misc_ms_ = 0;
  std::size_t losses_since_log_ = 0;
  int64_t last_loss_log_ms_ = 0;
  int64_t last_unrouted_log_ms_ = 0;
  int64_t last_refused_log_ms_ = 0;

  std::thread thread_;
  std::atomic<bool> running_{false};
  std::atomic<bool> stop_requested_{false};
  std::atomic<int> drain_ms_{0};
  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
  std::vector<QueuedReading> scratch_readings_;
  std::vector<protocol::MeterEvent> scratch_events_;
};

// What the shards share: configuration, clock, journal, counters.
struct FleetShared {
  FleetConfig config;
  std::vector<BrokerNode> nodes;  // config.broker_nodes, or the one broker_host:broker_port; never empty
  std::unique_ptr<VirtualClock> clock;
  FleetJournal* journal = nullptr;
  FleetObserver* observer = nullptr;
  std::size_t queue_capacity = 0;
  std::atomic<bool> paused{false};
  struct Counters {
    std::atomic<uint64_t> readings_made{0}, readings_published{0}, readings_acked{0}, readings_replayed{0},
        readings_dropped{0}, readings_unrouted{0}, readings_refused{0}, readings_queued{0}, readings_resumed{0},
        events_published{0}, commands_received{0}, commands_rejected{0}, connects{0}, connection_losses{0}, links{0},
        links_connected{0}, meters_stopped{0};
  } counters;
};

}  // namespace wattguard::fleet
