// Settings of the HTTP/WebSocket API and of sign-in, as `wattguard serve` reads them from [http] and [auth]
// (docs/configuration.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace wattguard::api {

enum class CookieSecure { kAuto, kAlways, kNever };

struct HttpConfig {
  std::string bind = "127.0.0.1";
  uint16_t port = 8080;  // 0 picks a free port (tests, demo)
  // HTTPS on `port` (then no plain HTTP): PEM certificate chain and private key, both or neither.
  std::string tls_cert_file;
  std::string tls_key_file;
  int threads = 2;  // I/O threads serving HTTP and WebSocket
  // Web UI assets; empty means <source dir>/web/dist (see default_static_dir()).
  std::string static_dir;
  std::size_t max_body_bytes = 64 * 1024;
  std::size_t max_import_bytes = 64 << 20;  // topology and readings imports (whole files)
  std::size_t max_header_bytes = 8 * 1024;
  int header_timeout_s = 10;             // to read a request's header (and a new connection's first byte)
  int request_timeout_s = 30;            // to read a request's body or write a whole response
  int idle_timeout_s = 30;               // keep-alive connection with no request
  int max_connections = 2048;            // beyond this, new connections are closed at once
  int max_connections_per_address = 64;  // the same for one client address (trusted proxies: only the total)
  std::string trusted_proxies;           // comma-separated proxy addresses whose X-Forwarded-For is believed
  int password_workers = 2;              // threads checking sign-in passwords (argon2id), off the I/O threads
  int password_queue_max = 64;           // sign-ins waiting for them beyond this get 503 + Retry-After
  int ws_recheck_s = 5;                  // a live client's session or token is checked again this often
  std::size_t ws_queue_max = 4096;       // live readings queued for one client before it is dropped
  int ws_ping_s = 30;                    // WebSocket keep-alive ping interval
};

struct AuthConfig {
  int session_ttl_s = 12 * 3600;
  CookieSecure cookie_secure = CookieSecure::kAuto;
  int login_delay_base_ms = 500;  // delay after the first failed sign-in; doubles per failure
  int login_delay_max_ms = 30000;
  // libsodium argon2id cost for new passwords: "interactive", "moderate", "sensitive" or "min" (tests only).
  std::string password_cost = "interactive";
};

// The emoncms input API for uploaders that already run (emonESP, emonTx/emonPi, IoTaWatt): [emoncms].
struct EmoncmsInput {
  std::string meter;  // "" = every meter
  std::string input;  // the uploader's input name, any case
  std::string field;  // emoncms::reading_field_name: voltage, current, power, apparent_power, ...
};
struct EmoncmsConfig {
  bool enabled = true;
  std::string prefix = "/emoncms";   // where the uploader's "path" setting points; "" = at the root
  std::vector<EmoncmsInput> inputs;  // [[emoncms.inputs]]: names beyond the default map
};

}  // namespace wattguard::api
