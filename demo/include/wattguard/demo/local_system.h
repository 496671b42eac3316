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

struct LocalSystemOptions {
  std::filesystem::path data_dir = "data";  // SQLite, broker files, fleet state
  uint16_t http_port = 8080;                // 0: a free port
  uint16_t mqtt_port = 0;                   // 0: a free port
  std::string http_bind = "127.0.0.1";
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
  bool stopped_ = false;
};

}  // namespace wattguard::demo
