// The Home Assistant bridge of `wattguard serve`: its own broker session that announces every meter through MQTT
// discovery, publishes each meter's state and availability as ingest sees them (any ingest protocol), and turns
// Home Assistant's relay switch commands into wattguard's audited commands through a callback.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "wattguard/base/expected.h"
#include "wattguard/homeassistant/discovery.h"
#include "wattguard/ingest/ingest_observer.h"
#include "wattguard/ingest/meter_live.h"
#include "wattguard/storage/reading_store.h"
#include "wattguard/tls/mqtt_client_tls.h"

namespace wattguard::homeassistant {

// Switches a meter's relay (on = close it); the id of the stored command, or why not. serve points it at
// ingest::IngestService::send_command with requested_by "homeassistant".
using RelaySwitch = std::function<Expected<std::string>(const std::string& meter_id, bool on)>;

struct BridgeOptions {
  std::string host = "127.0.0.1";
  int port = 1883;
  std::string username;  // the server's broker user (its ACL allows both prefixes)
  std::string password;
  tls::MqttClientTls tls{};  // the same TLS settings as ingest's session (mqtt.tls, mqtt.ca_file)
  std::string client_id = "wattguard-server-1-ha";
  int keepalive_s = 30;
  Topics topics;
  std::string sw_version;  // wattguard's version, in every device and origin
  RelaySwitch relay;       // required
  // Every meter's live state (connectivity, newest reading), for availability and state at (re)connect.
  std::function<std::vector<ingest::MeterLive>()> live_states;  // required
};

struct BridgeStats {
  bool connected = false;
  uint64_t discovery_published = 0;  // config messages published (every meter x entity, each announcement)
  uint64_t states_published = 0;
  uint64_t commands_received = 0;  // relay/set messages
  uint64_t commands_refused = 0;   // not ON/OFF, or the command path refused them
};

// Life cycle: construct, start(), add as an ingest observer, ..., remove the observer, stop() (or destroy).
// Threads: libmosquitto's thread connects, announces and takes commands; observer callbacks come from ingest's
// threads and only queue publishes (a store lookup once for a meter first seen in a reading).
// Every public method is thread-safe.
class Bridge : public ingest::IngestObserver {
 public:
  // `store` must outlive the bridge.
  Bridge(BridgeOptions options, storage::ReadingStore& store);
  ~Bridge() override;  // stop()
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;

  // Starts connecting (a broker that is down is not an error: it keeps trying). kInvalidInput when the options
  // lack the relay callback or live states; kUnavailable when the MQTT thread cannot start.
  Expected<void> start();
  // Publishes the server's "offline", disconnects, joins the thread. Idempotent.
  void stop();

  BridgeStats stats() const;

  void on_reading(const protocol::Reading& reading) override;
  void on_status(const ingest::MeterLive& state) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wattguard::homeassistant
