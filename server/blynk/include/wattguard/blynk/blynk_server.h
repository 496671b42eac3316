// The Blynk hardware-protocol endpoint of `wattguard serve`: TCP (and TLS) listeners for unmodified Blynk
// sketches, whose pin writes become readings in ingest's pipeline and to which relay commands go as pin writes.
// Thread safety: start() and stop() from one thread; stats() and port() from any.
//
// Per connection: a Session (session.h) driven on its own strand; the token is looked up in DeviceKeys; at
// login the meter is announced online (IngestService::submit_status) and its command link attached, so a relay
// command for it becomes a `vw` to the device; when the connection ends the link is detached and the meter
// announced offline. A second login of the same meter replaces the first connection.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "wattguard/base/clock.h"
#include "wattguard/base/expected.h"
#include "wattguard/blynk/blynk_config.h"
#include "wattguard/blynk/http_api.h"
#include "wattguard/ingest/device_keys.h"
#include "wattguard/ingest/ingest_service.h"

namespace wattguard::blynk {

// Counters since start (for /metrics and the health route). A copy.
struct BlynkStats {
  uint64_t connections_open = 0;
  uint64_t connections_total = 0;
  uint64_t logins_ok = 0;
  uint64_t logins_failed = 0;  // wrong tokens
  uint64_t frames_in = 0;
  uint64_t frames_out = 0;
  uint64_t readings = 0;  // readings handed to ingest
  uint64_t acks = 0;      // command acknowledgements handed to ingest
  // Refusals by reason (blynk::refusal_name, plus "too_many_connections"); every reason present, 0 when none.
  std::map<std::string, uint64_t> refused;
};

class BlynkServer {
 public:
  // `ingest` and `keys` must outlive the server. `now_ms` stamps readings and drives the session timers.
  BlynkServer(BlynkConfig config, ingest::IngestService& ingest, ingest::DeviceKeys& keys, Clock now_ms = {});
  ~BlynkServer();  // stop()
  BlynkServer(const BlynkServer&) = delete;
  BlynkServer& operator=(const BlynkServer&) = delete;

  // Binds the listeners and starts the I/O threads. Raises this process's open-file limit to its hard limit
  // (a socket per device). Errors name the setting: kInvalidInput (blynk.pin_map, blynk.tls_cert_file...),
  // kUnavailable (a port that cannot be bound).
  Expected<void> start();
  // Closes the listeners and every connection (each meter announced offline, its pending period stored), then
  // joins the threads. Idempotent.
  void stop();

  uint16_t port() const;      // the plain listener's port; 0 when off
  uint16_t tls_port() const;  // 0 when off
  BlynkStats stats() const;
  // The Blynk HTTP API (http_api.h) for the server's HTTP port; nullopt when the path is not one of its routes.
  std::optional<HttpApiAnswer> http(const HttpApiRequest& request);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace wattguard::blynk
