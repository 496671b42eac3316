// A fleet of virtual meters publishing over MQTT: `wattguard fleet`, and the meters of
// `wattguard demo`, `wattguard bench ingest` and the end-to-end tests.
//
// Meters are split over a few shard threads. Each shard runs one event loop (epoll) that advances
// its meters in virtual time and drives their MQTT clients with libmosquitto's non-threaded calls
// (mosquitto_loop_read/write/misc on each client's socket), so thousands of connections need no
// thread each. Two transports:
//  - per-meter (default): every meter is its own MQTT client with its own credentials, ACL,
//    retained "online" status and "offline" last will, like real meters;
//  - gateway: the fleet publishes for all its meters through a few connections logged in as one
//    gateway user (for load tests beyond the process's file-descriptor limit: this machine allows
//    20,000 descriptors per process, and the broker needs one per connection too). Status is
//    published per meter by the gateway, but there is no per-meter last will.
// Readings are queued per meter (store-and-forward) and, with a state directory, journaled before
// they are sent; they leave the queue only when the broker's PUBACK arrives.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wattguard/base/expected.h"
#include "wattguard/fleet/credentials.h"
#include "wattguard/fleet/meter_model.h"
#include "wattguard/fleet/theft_plan.h"
#include "wattguard/tls/mqtt_client_tls.h"

namespace wattguard::fleet {

enum class Transport : uint8_t { kPerMeter, kGateway };
const char* transport_name(Transport t);  // "per-meter", "gateway"

// The MQTT version the meters speak. 5 (the default) for its PUBACK reason codes: a reading nobody subscribed to
// is answered 0x10 and kept. 3.1.1 for brokers that speak nothing else (NATS 2.9's MQTT listener): such a PUBACK
// then looks like any other (docs/scale-out.md says what that costs).
enum class MqttVersion : uint8_t { kV311, kV5 };
const char* mqtt_version_name(MqttVersion v);                                // "3.1.1", "5"
std::optional<MqttVersion> mqtt_version_from_name(const std::string& name);  // "3.1.1" or "5"; nullopt otherwise

// One node of the broker (a cluster has several).
struct BrokerNode {
  std::string host = "127.0.0.1";
  int port = 1883;
};

struct FleetConfig {
  std::size_t meters = 10;
  std::string id_prefix = "m";  // ids are prefix + zero-padded number: m00001 ...
  std::size_t id_width = 5;
  std::size_t first_number = 1;
  uint32_t period_ms = 5000;
  std::string broker_host = "127.0.0.1";
  int broker_port = 1883;
  // MQTT over TLS, as a real meter should: the broker's certificate must chain to tls.ca_file, or the meter
  // never sends its CONNECT (and with it its password). broker_port is then the TLS listener's.
  tls::MqttClientTls tls{};
  // A clustered broker's nodes. Empty: the one broker at broker_host:broker_port. Otherwise meter (or gateway
  // connection) i connects first to node i mod N, and after a lost or failed connection to the next node, so a
  // node's death moves its meters to the others and the fleet spreads over the cluster.
  std::vector<BrokerNode> broker_nodes;
  MqttVersion mqtt_version = MqttVersion::kV5;
  CredentialSet credentials;  // per-meter logins (and the gateway's)
  Transport transport = Transport::kPerMeter;
  int gateway_connections = 8;
  std::filesystem::path state_dir;  // empty: queues in memory only (lost when the fleet stops)
  bool journal_fsync = true;
  uint64_t seed = 1;
  bool solar = true;         // some houses have rooftop PV (they export by day); false: none does
  TheftPlanOptions thieves;  // .seed is taken from `seed` when 0
  Fidelity fidelity = Fidelity::kSamples;
  uint32_t sample_rate_hz = 4000;  // kSamples only
  double speed = 1.0;              // virtual seconds per real second
  int64_t start_ms = 0;            // virtual clock at start (0: now)
  int threads = 2;                 // shard threads
  int keepalive_s = 60;
  // Readings kept per meter while the broker is unreachable (0: 7 days' worth of periods).
  std::size_t queue_capacity = 0;
  int inflight_per_meter = 8;      // QoS 1 readings awaiting PUBACK, per meter
  int connects_per_second = 4000;  // pace of (re)connections, so a broker restart is no storm
};

// Counters since start (atomics read without locking).
struct FleetStats {
  uint64_t readings_made = 0;
  uint64_t readings_published = 0;  // handed to the broker (including re-sends)
  uint64_t readings_acked = 0;      // PUBACK received: left the queue
  uint64_t readings_replayed = 0;   // published late (store-and-forward)
  uint64_t readings_dropped = 0;    // queue full: oldest dropped
  // The broker took the reading but had no subscriber for it (MQTT 5 reason 0x10): kept and sent again.
  uint64_t readings_unrouted = 0;
  uint64_t readings_refused = 0;  // the broker refused the publish (reason >= 0x80, e.g. not authorised): dropped
  uint64_t readings_queued = 0;   // in the queues now (unsent or in flight)
  uint64_t readings_resumed = 0;  // unacknowledged readings loaded from the state directory
  uint64_t events_published = 0;
  uint64_t commands_received = 0;
  uint64_t commands_rejected = 0;  // undecodable commands (logged)
  uint64_t connects = 0;
  uint64_t connection_losses = 0;
  uint64_t links = 0;  // MQTT connections the fleet wants
  uint64_t links_connected = 0;
  uint64_t meters_stopped = 0;
};

// Told about every reading as it moves (for `bench ingest`'s latency). Called on shard threads,
// concurrently from different shards; must be quick and thread-safe.
class FleetObserver {
 public:
  virtual ~FleetObserver() = default;
  virtual void on_reading_published(uint32_t meter, uint64_t seq, bool replayed) {
    (void)meter;
    (void)seq;
    (void)replayed;
  }
  virtual void on_reading_acked(uint32_t meter, uint64_t seq) {
    (void)meter;
    (void)seq;
  }
};

// What one meter looks like right now (for tests and the demo).
struct MeterSnapshot {
  std::string id;
  bool relay_closed = true;
  uint32_t period_ms = 0;
  uint64_t next_seq = 0;
  uint64_t import_uwh = 0;
  uint64_t export_uwh = 0;
  double true_import_wh = 0;
  std::size_t queued = 0;
  bool connected = false;
  bool stopped = false;
  TheftPlan theft;
  bool theft_active = false;
  std::string household;
};

class Fleet {
 public:
  // Checks the configuration, builds the meters (and loads the state directory); does not connect.
  static Expected<std::unique_ptr<Fleet>> create(const FleetConfig& config);
  ~Fleet();  // stop()
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  // Observer must be set before start() and outlive the fleet.
  void set_observer(FleetObserver* observer);
  void start();
  // Clean stop: stops measuring, tries for up to `drain_ms` to get queued readings acknowledged,
  // publishes each meter's "offline" status, disconnects, and closes the journal. Idempotent.
  void stop(int drain_ms = 2000);

  // Stops (true) or resumes (false) making readings; queued ones are still sent (bench drain).
  void pause_measuring(bool paused);
  // Powers one meter off: it stops measuring and its connection drops without a DISCONNECT, so
  // the broker publishes its last will (per-meter transport). False for an unknown id.
  bool stop_meter(const std::string& meter_id);

  FleetStats stats() const;
  const std::vector<std::string>& meter_ids() const { return ids_; }
  const FleetConfig& config() const { return config_; }
  std::optional<MeterSnapshot> snapshot(const std::string& meter_id) const;
  // Every meter's next sequence number, by fleet index (one round trip per shard).
  std::vector<uint64_t> next_seqs() const;
  // The virtual clock now (Unix ms).
  int64_t now_ms() const;

  struct Impl;

 private:
  Fleet() = default;
  FleetConfig config_;
  std::vector<std::string> ids_;
  std::unique_ptr<Impl> impl_;
};

// "m00001"-style ids for a configuration.
std::vector<std::string> fleet_meter_ids(const FleetConfig& config);

// Checks ranges and combinations: an error (kInvalidInput) names the setting and its value, and its
// message reads "<setting>: <value> is not ...".
Expected<void> validate(const FleetConfig& config);

}  // namespace wattguard::fleet
