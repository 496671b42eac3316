// `wattguard serve` as a library: opens the store and the auth tables, starts MQTT ingest and
// the HTTP/WebSocket API, and stops them in order. `wattguard demo` embeds it in-process.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>

#include "wattguard/accounts/account_service.h"
#include "wattguard/alerts/alert_service.h"
#include "wattguard/api/api_handler.h"
#include "wattguard/api/auth_store.h"
#include "wattguard/api/live_hub.h"
#include "wattguard/base/clock.h"
#include "wattguard/base/expected.h"
#include "wattguard/blynk/blynk_server.h"
#include "wattguard/grid/grid_store.h"
#include "wattguard/grid/theft_analysis_service.h"
#include "wattguard/ingest/device_keys.h"
#include "wattguard/ingest/ingest_service.h"
#include "wattguard/serve/server_config.h"
#include "wattguard/storage/reading_store.h"

namespace wattguard::serve {

struct ServerOptions {
  api::ExtraRoute extra_route;     // extra /api/v1/... routes (the demo's), optional
  Clock now_ms;                    // wall clock for the API and ingest; default: system clock
  bool caller_adds_users = false;  // the caller creates users right after start (the demo): no first-admin hint
  // Makes the broker re-read its password and ACL files (an in-process broker, the demo's); default: SIGHUP to
  // the pid in mqtt.broker_pid_file, when set.
  std::function<Expected<void>()> broker_reload;
};

// Thread-safe accessors; start() and stop() from one thread.
class Server {
 public:
  // Starts everything, or the Error naming the setting or file at fault (print it with config_error_text).
  // A broker that is not reachable is not a failure: ingest keeps reconnecting.
  static Expected<std::unique_ptr<Server>> start(const ServerConfig& config, ServerOptions options = {});
  ~Server();  // stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Stops accepting HTTP, flushes and stops ingest, closes the stores. Idempotent.
  void stop();

  uint16_t http_port() const;     // the bound port (useful with http.port = 0)
  uint16_t metrics_port() const;  // the bound port of [metrics] listen; 0 when it is not set
  std::string url() const;        // "http://127.0.0.1:8080"
  const ServerConfig& config() const;
  storage::ReadingStore& store();
  ingest::IngestService& ingest();
  api::AuthStore& auth();
  api::LiveHub& hub();
  // Meters were added to the store in-process (not through the API): ingest and the API reload the registry
  // now instead of at their next refresh.
  void meters_changed();
  // Alerts: detectors raise here (docs/alerts.md); notification and the disconnect policy follow.
  alerts::AlertService& alerts();
  // The grid model and the periodic theft analysis (docs/grid.md).
  grid::GridStore& grid();
  accounts::AccountService& accounts();
  grid::TheftAnalysisService& theft_analysis();
  // Blynk tokens and emoncms API keys (docs/bring-your-own-meter.md).
  ingest::DeviceKeys& device_keys();
  // The Blynk listener; nullptr when [blynk] is not enabled.
  blynk::BlynkServer* blynk();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Starts the server and blocks until `stop` is requested, then stops it. Returns 0, or 1 after
// logging why it could not start.
int run_server(const ServerConfig& config, std::stop_token stop, ServerOptions options = {});

// Sets spdlog's level from log.level.
void apply_log_level(const ServerConfig& config);

}  // namespace wattguard::serve
