// Every setting of `wattguard serve`, with its default, and loading it from one TOML file.
// The key reference is docs/configuration.md; keep the two in step.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace wattguard::api {

enum class CookieSecure { kAuto, kAlways, kNever };

struct HttpConfig {
  std::string bind = "127.0.0.1";
  uint16_t port = 8080;            // 0 picks a free port (tests, demo)
  int threads = 2;                 // I/O threads serving HTTP and WebSocket
  // Web UI assets; empty means <source dir>/web/dist (see default_static_dir()).
  std::string static_dir;
  std::size_t max_body_bytes = 64 * 1024;
  std::size_t max_header_bytes = 8 * 1024;
  int request_timeout_s = 30;      // to read a whole request or write a whole response
  int idle_timeout_s = 120;        // keep-alive connection with no request
  int max_connections = 2048;      // beyond this, new connections are closed at once
  std::size_t ws_queue_max = 4096; // live readings queued for one client before it is dropped
  int ws_ping_s = 30;              // WebSocket keep-alive ping interval
};

struct MqttConfig {
  std::string host = "localhost";
  uint16_t port = 1883;
  std::string username;            // empty: connect anonymously
  std::string password;
  std::string client_id = "wattguard-server";
  std::string shared_group = "wattguard";  // $share/<group>/... so servers can split the load
  int keepalive_s = 30;
};

struct RetentionConfig {
  // 0 keeps forever.
  int raw_days = 90;
  int min1_days = 365;
  int min15_days = 3 * 365;
  int hour1_days = 10 * 365;
  int day1_days = 0;
};

struct StorageConfig {
  std::string data_dir = "./data";
  std::string database = "wattguard.db";  // relative paths are under data_dir
  RetentionConfig retention;
};

struct IngestConfig {
  int period_s = 5;                 // expected meter report period
  int offline_after_periods = 3;    // missed periods before a silent meter is offline
  int command_timeout_s = 30;       // unacknowledged commands become timed_out
  std::size_t max_payload_bytes = 4096;
  int max_future_s = 86400;         // readings further ahead than this are refused
};

struct AuthConfig {
  int session_ttl_s = 12 * 3600;
  CookieSecure cookie_secure = CookieSecure::kAuto;
  int login_delay_base_ms = 500;    // delay after the first failed sign-in; doubles per failure
  int login_delay_max_ms = 30000;
  // libsodium argon2id cost for new passwords: "interactive", "moderate", "sensitive" or "min" (tests only).
  std::string password_cost = "interactive";
};

struct LogConfig {
  std::string level = "info";       // trace, debug, info, warn, error, off
};

struct ServerConfig {
  HttpConfig http;
  MqttConfig mqtt;
  StorageConfig storage;
  IngestConfig ingest;
  AuthConfig auth;
  LogConfig log;

  // data_dir/database unless database is absolute.
  std::string database_path() const;
  // http.static_dir, or <source dir>/web/dist when empty.
  std::string resolved_static_dir() const;
};

// Where the web UI's built assets are when none is configured.
std::string default_static_dir();

// Outcome of loading a config: a config or a message naming the key, value and line.
struct ConfigResult {
  std::optional<ServerConfig> config;
  std::string error;
};

// Parses TOML text on top of the defaults. `origin` names the source in messages (a file name).
// Unknown keys are errors (they are usually typos).
ConfigResult parse_config(const std::string& toml_text, const std::string& origin);
ConfigResult load_config_file(const std::string& path);

// Checks cross-field rules and ranges of an already-built config (e.g. after CLI overrides).
// Returns an empty string when valid.
std::string validate_config(const ServerConfig& config);

}  // namespace wattguard::api
