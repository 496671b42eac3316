// What every Blynk connection shares: the pin map and limits, the counters, the token look-up with its
// per-address delay, the meter -> connection registry, and the calls into ingest. Private to server/blynk.
// Thread-safe: counters are atomics, the registries sit behind mutexes.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "wattguard/base/clock.h"
#include "wattguard/blynk/blynk_server.h"
#include "wattguard/blynk/pin_map.h"
#include "wattguard/blynk/session.h"
#include "wattguard/blynk/token_throttle.h"

namespace wattguard::blynk {

class ConnectionBase;

class BlynkHub {
 public:
  // `meter_maps`: meters with their own pin map; every other meter uses `map`.
  BlynkHub(const BlynkConfig& config, PinMap map, std::unordered_map<std::string, PinMap> meter_maps,
           ingest::IngestService& ingest, ingest::DeviceKeys& keys, Clock now_ms);

  // The map of a connection before its login tells the meter.
  const PinMap& pin_map() const { return map_; }
  // The pin map of `meter`; it lives as long as the hub.
  const PinMap& pin_map_of(const std::string& meter) const;
  const SessionLimits& limits() const { return limits_; }
  int64_t now() const { return now_ms_(); }

  // Accounting of connections (accept and destruction) and the registry stop() closes.
  // REQUIRES: `connection` is owned by a shared_ptr.
  void connection_opened(const std::shared_ptr<ConnectionBase>& connection);
  void connection_gone(const ConnectionBase* connection);
  void refuse_connection();
  std::vector<std::shared_ptr<ConnectionBase>> open_connections();

  int64_t token_delay_ms(const std::string& remote) { return throttle_.delay_ms(remote, now()); }
  // The grant for `token`, nullopt when it is unknown (counted against `remote`), an Error when the keys could
  // not be read.
  Expected<std::optional<LoginGrant>> look_up(const std::string& token, const std::string& remote);

  // The meter logged in on `connection`: an older connection of the meter is closed, the command link attached
  // and the meter announced online.
  void logged_in(const std::string& meter, const std::shared_ptr<ConnectionBase>& connection, uint16_t login_command);
  // The connection of `meter` ended: unless a newer one took over, the link is detached and the meter offline.
  void logged_out(const std::string& meter, const ConnectionBase* connection, bool superseded);

  // Counts the session's frames and refusals.
  void count(const SessionOutput& out);
  // Hands the session's readings and acks to ingest.
  void submit(SessionOutput& out);

  BlynkStats stats() const;
  // For the HTTP API: whether a device of `meter` is connected now, and the meter's live state.
  bool is_connected(const std::string& meter);
  std::optional<ingest::MeterLive> live_state(const std::string& meter) const { return ingest_.live_state(meter); }

 private:
  PinMap map_;
  std::unordered_map<std::string, PinMap> meter_maps_;  // never changed after construction
  SessionLimits limits_;
  ingest::IngestService& ingest_;
  ingest::DeviceKeys& keys_;
  Clock now_ms_;
  TokenThrottle throttle_;

  std::mutex registry_mu_;
  std::unordered_map<std::string, std::weak_ptr<ConnectionBase>> by_meter_;       // guarded by registry_mu_
  std::unordered_map<const ConnectionBase*, std::weak_ptr<ConnectionBase>> all_;  // guarded by registry_mu_

  std::atomic<uint64_t> open_{0};
  std::atomic<uint64_t> total_{0};
  std::atomic<uint64_t> logins_ok_{0};
  std::atomic<uint64_t> logins_failed_{0};
  std::atomic<uint64_t> frames_in_{0};
  std::atomic<uint64_t> frames_out_{0};
  std::atomic<uint64_t> readings_{0};
  std::atomic<uint64_t> acks_{0};
  std::atomic<uint64_t> too_many_connections_{0};
  std::array<std::atomic<uint64_t>, kRefusalCount> refused_{};
};

}  // namespace wattguard::blynk
