// The `[blynk]` settings of `wattguard serve`: where the Blynk-protocol listener runs and its limits.
// docs/configuration.md lists every key; server/serve/server_config.cc reads them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace wattguard::blynk {

// One meter's own pin map (`[[blynk.pin_maps]]`), for a sketch that writes its values to other pins.
struct MeterPinMap {
  std::string meter;
  std::string map;  // as blynk.pin_map
};

struct BlynkConfig {
  bool enabled = false;  // the listeners run only when true
  std::string bind = "0.0.0.0";
  uint16_t port = 8442;       // plain TCP; 0 = no plain listener (8442: the archived blynk-server's hardware port)
  uint16_t tls_port = 0;      // TLS; 0 = none. Needs tls_cert_file and tls_key_file
  std::string tls_cert_file;  // PEM certificate chain
  std::string tls_key_file;   // PEM private key
  int threads = 2;            // I/O threads
  int max_connections = 50'000;
  int login_timeout_s = 10;  // a connection that has not logged in by then is closed
  int heartbeat_s = 40;      // a device's heartbeat until its info message says (the 1.x library's default)
  double heartbeat_factor = 2.5;
  int max_messages_per_s = 100;  // per device
  int quiet_ms = 1000;           // a period's pin writes end after this much quiet
  // Virtual pins -> reading fields ("V0=vrms,...", see blynk::PinMap::parse); empty = the standard map.
  std::string pin_map;
  std::vector<MeterPinMap> pin_maps;  // per meter; a meter not listed uses pin_map
  // Growing delay before answering a login from an address that sent wrong tokens: base x 2^(failures-1).
  int token_delay_base_ms = 500;
  int token_delay_max_ms = 30'000;
};

}  // namespace wattguard::blynk
