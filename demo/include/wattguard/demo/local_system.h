// The whole system on one machine, in one process (plus a Mosquitto child): a private broker with
// generated credentials and ACL, the head-end server (SQLite under a data directory, HTTP API and
// web UI), and a fleet of virtual meters. Used by `wattguard demo`, `wattguard bench ingest` and the
// end-to-end tests.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "wattguard/base/expected.h"
#include "wattguard/broker/broker_process.h"
#include "wattguard/fleet/fleet.h"
#include "wattguard/serve/server.h"

namespace wattguard::demo {

// Where the demo's MQTT goes over TLS (docs/security.md).
enum class MqttTlsUse {
  kNone,      // one plain listener (tests, `bench ingest`)
  kListener,  // a TLS listener beside the plain one; the server and the fleet stay plain (`demo --mqtt-plain`)
  kClients,   // the TLS listener, and the server and the fleet connect to it, verifying it (`wattguard demo`)
};

struct LocalSystemOptions {
  std::filesystem::path data_dir = "data";  // SQLite, broker files, fleet state
  uint16_t http_port = 8080;                // 0: a free port
  uint16_t mqtt_port = 0;                   // 0: a free port
  // A TLS listener with a self-signed certificate made once in <data>/tls (mqtt-cert.pem, mqtt-key.pem) and kept,
  // so that meters which pinned it keep trusting it.
  MqttTlsUse mqtt_tls = MqttTlsUse::kNone;
  uint16_t mqtt_tls_port = 0;  // 0: a free port
  std::string http_bind = "127.0.0.1";
  // HTTPS (and wss://) on http_port with a self-signed certificate made once in <data>/tls (http-cert.pem,
  // http-key.pem) and kept, so that a browser's exception for it lasts (`wattguard demo`; --http-plain turns it off).
  bool https = false;
  // The fleet: meters, period, seed, thieves, fidelity, speed, transport... Broker address and
  // credentials are filled in here; state_dir defaults to <data>/fleet-state.
  fleet::FleetConfig fleet;
  bool fleet_state = true;  // false: no journal (queues in memory)
  // A demo operator user "operator" with a fresh random password (printed by the demo).
  bool create_operator = true;
  std::string operator_name = "operator";
  std::optional<std::string> api_token;       // added as an admin API token
  std::string password_cost = "interactive";  // argon2id cost of the operator's password ("min" in tests)
  // Tweaks of the server's configuration before it starts (flush interval, log level...).
  std::function<void(serve::ServerConfig&)> configure_server;
  bool start_fleet = true;    // false: create it but let the caller start() it
  bool demo_accounts = true;  // the demo tariff (unless configure_server sets tariffs) and a prepaid meter
};

class LocalSystem {
 public:
  // Broker, then server, then fleet. Fails with a message naming what did not start.
  static Expected<std::unique_ptr<LocalSystem>> start(const LocalSystemOptions& options);
  ~LocalSystem();  // stop()
  LocalSystem(const LocalSystem&) = delete;
  LocalSystem& operator=(const LocalSystem&) = delete;

  // Server (flushes ingest), then fleet (clean: offline statuses, kept by the broker), then broker.
  // Idempotent. A caller that needs every reading stored stops fleet() first.
  void stop(int fleet_drain_ms = 3000);

  std::string url() const;
  const std::string& operator_password() const { return operator_password_; }
  serve::Server& server() { return *server_; }
  fleet::Fleet& fleet() { return *fleet_; }
  broker::BrokerProcess& broker() { return *broker_; }
  // With a TLS listener: its certificate (the CA file a meter trusts) and its SHA-256 fingerprint; else empty.
  const std::filesystem::path& mqtt_certificate_file() const { return mqtt_certificate_file_; }
  const std::string& mqtt_certificate_fingerprint() const { return mqtt_certificate_fingerprint_; }
  // With https: the web server's certificate and its SHA-256 fingerprint (what the browser shows); else empty.
  const std::filesystem::path& http_certificate_file() const { return http_certificate_file_; }
  const std::string& http_certificate_fingerprint() const { return http_certificate_fingerprint_; }
  const LocalSystemOptions& options() const { return options_; }

  struct RouteTarget;  // what the demo's extra API route acts on

 private:
  LocalSystem() = default;
  LocalSystemOptions options_;
  std::unique_ptr<broker::BrokerProcess> broker_;
  std::unique_ptr<serve::Server> server_;
  std::unique_ptr<fleet::Fleet> fleet_;
  std::shared_ptr<RouteTarget> route_fleet_;
  std::string operator_password_;
  std::filesystem::path mqtt_certificate_file_;
  std::string mqtt_certificate_fingerprint_;
  std::filesystem::path http_certificate_file_;
  std::string http_certificate_fingerprint_;
  bool stopped_ = false;
};

}  // namespace wattguard::demo
