// Every setting of `wattguard serve`, with its default, and loading it from one TOML file.
// The key reference is docs/configuration.md; keep the two in step.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "wattguard/accounts/accounts_config.h"
#include "wattguard/alerts/alerts_config.h"
#include "wattguard/api/api_config.h"
#include "wattguard/base/error.h"
#include "wattguard/base/expected.h"
#include "wattguard/blynk/blynk_config.h"
#include "wattguard/grid/theft_options.h"
#include "wattguard/storage/sql_connection.h"

namespace wattguard::serve {

struct MqttConfig {
  std::string host = "localhost";
  uint16_t port = 1883;
  std::string username = "wattguard-server";  // the broker user `meters provision` writes an ACL for
  std::string password;
  std::string password_file;  // read the password from this file instead (first line)
  // Stable across restarts: the broker keeps this persistent session's QoS 1 messages while down.
  std::string client_id = "wattguard-server-1";
  std::string shared_group;  // "" = plain subscriptions; a group ($share/<group>/...) only for several servers:
                             // Mosquitto 2.0.11 forgets shared subscriptions on restart (docs/protocol.md)
  int keepalive_s = 30;
  // MQTT over TLS to the broker's TLS listener (port is then that listener's, usually 8883), verifying the broker's
  // certificate against ca_file; tls_insecure skips only the host-name check. docs/security.md.
  bool tls = false;
  std::string ca_file;
  bool tls_insecure = false;
  // Sign every command with the meter's key (derived from <data_dir>/command.key, made on first start), so
  // that meters holding their key refuse forged and replayed commands. docs/protocol.md "Signed commands".
  bool sign_commands = true;
  // The broker's password and ACL files, when this server manages its users (meters added from the API),
  // and its pid file, to make it re-read them (SIGHUP). Empty: meters are provisioned with the CLI.
  std::string broker_password_file;
  std::string broker_acl_file;
  std::string broker_pid_file;
};

struct RetentionConfig {
  // Days to keep per resolution; 0 keeps forever.
  int raw_days = 90;
  int min1_days = 365;
  int min15_days = 3 * 365;
  int hour1_days = 0;
  int day1_days = 0;
};

struct StorageConfig {
  std::string data_dir = "./data";
  std::string database = "wattguard.db";  // relative paths are under data_dir
  // Where the readings (meters, rollups, events, commands, audit) live: "sqlite" (database in data_dir) or
  // "postgresql" (the server at `postgresql`). Users, alerts, grid and accounts stay in the SQLite database.
  std::string backend = "sqlite";
  std::string postgresql;         // libpq connection string, e.g. "host=db dbname=wattguard user=wg"
  int reader_connections = 4;     // concurrent readers for the API (connections of either backend)
  int cache_mib = 64;             // SQLite page cache of the writer
  bool synchronous_full = false;  // true: fsync every commit (survives power loss; slower)
  RetentionConfig retention;
};

struct IngestConfig {
  int period_s = 5;                            // report period assumed until a meter announces its own
  int offline_after_periods = 3;               // missed periods before a silent meter is offline
  int command_timeout_s = 30;                  // unacknowledged commands become timed_out
  int flush_interval_ms = 0;                   // 0: group commit; > 0: longest a reading waits for its batch
  std::size_t flush_max_readings = 2000;       // readings per storage batch
  std::size_t max_pending_readings = 200'000;  // back-pressure bound on readings not yet stored
};

struct MetricsConfig {
  bool per_meter = false;  // GET /metrics adds each meter's power, energy, voltage and last-seen (label meter)
  std::string listen;      // "host:port" of a second listener serving only /metrics; "" = the API's port only
};

struct HomeAssistantConfig {
  bool enabled = false;                            // publish MQTT discovery and state for Home Assistant
  std::string discovery_prefix = "homeassistant";  // Home Assistant's discovery prefix
  std::string state_prefix = "wattguard/ha";       // the server's state, availability and relay/set topics
};

struct LogConfig {
  std::string level = "info";  // trace, debug, info, warn, error, off
};

struct ServerConfig {
  api::HttpConfig http;
  MqttConfig mqtt;
  StorageConfig storage;
  IngestConfig ingest;
  api::AuthConfig auth;
  LogConfig log;
  alerts::AlertsConfig alerts;        // [alerts], [alerts.sms], [[alerts.areas]] (docs/alerts.md)
  grid::TheftOptions theft;           // [theft]: the grid-side theft analysis (docs/grid.md)
  accounts::BillingConfig billing;    // [[tariff]], [billing], [[billing.areas]] (docs/billing.md)
  accounts::PrepaidConfig prepaid;    // [prepaid] (docs/billing.md)
  api::EmoncmsConfig emoncms;         // [emoncms], [[emoncms.inputs]] (docs/bring-your-own-meter.md)
  blynk::BlynkConfig blynk;           // [blynk]: Blynk devices (docs/bring-your-own-meter.md)
  MetricsConfig metrics;              // [metrics] (docs/api.md "Operations")
  HomeAssistantConfig homeassistant;  // [homeassistant] (docs/bring-your-own-meter.md)

  // data_dir/database unless database is absolute.
  std::string database_path() const;
  // Where users and sessions live: the PostgreSQL database when storage.backend is "postgresql" (shared by every
  // server on it), else database_path().
  storage::SqlTarget tables_target() const;
  // http.static_dir, or <source dir>/web/dist when empty.
  std::string resolved_static_dir() const;
};

// Where the web UI's built assets are when none is configured.
std::string default_static_dir();

// Parses TOML text on top of the defaults. `origin` names the source in messages (a file name).
// Unknown keys are errors (they are usually typos). The Error names the key (field), the value as written
// (value), the file (source) and the line.
Expected<ServerConfig> parse_config(const std::string& toml_text, const std::string& origin);
Expected<ServerConfig> load_config_file(const std::string& path);
// The file at `path`, or the defaults when `path` is empty (no --config).
Expected<ServerConfig> load_config_or_defaults(const std::string& path);

// The one-line text `serve` prints for an Error about settings, "<source>:<line>: <key> = <value>: <message>",
// leaving out the parts that are not known ("cfg.toml:3: http.port = 70000: must be between 0 and 65535").
std::string config_error_text(const Error& error);

// Every settable key, dotted ("http.port"), in file order (for docs checks).
std::vector<std::string> config_keys();

// http.trusted_proxies split at commas, blanks trimmed, empty items dropped.
std::vector<std::string> split_proxy_list(const std::string& list);

// metrics.listen split into host and port (0 = any free port), or nullopt when it is not "host:port".
std::optional<std::pair<std::string, uint16_t>> split_listen(const std::string& listen);

// Checks cross-field rules and ranges of an already-built config (e.g. after CLI overrides).
Expected<void> validate_config(const ServerConfig& config);

}  // namespace wattguard::serve
