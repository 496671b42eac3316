// Blynk devices as the Blynk library would be on many ESP32s, written from the wire format (not from the
// server's codec, so each checks the other): each connection logs in (command 29, or 2 as library 0.6.0 and
// older do), sends its info message, asks syncVirtual(V10) on connect, writes V0..V5 every period like the seed
// sketch, pings, echoes a server write of the relay pin back (as a sketch's BLYNK_WRITE(V10) that reports its
// relay), and reconnects when the connection drops. Used by `wattguard bench blynk` and the end-to-end test.
// Thread safety: start()/stop() from one thread; stats() from any; callbacks run on the I/O threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace wattguard::demo {

struct BlynkDevice {
  std::string meter_id;
  std::string token;
};

enum class BlynkLogin : uint8_t { kCurrent, kLegacy, kMixed };  // 29; 2; alternate per device

struct BlynkDevicesOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8442;
  std::vector<BlynkDevice> devices;
  int period_ms = 5000;
  int threads = 2;
  BlynkLogin login = BlynkLogin::kCurrent;
  int heartbeat_s = 10;       // announced as h-beat; a ping goes every heartbeat
  int connect_spread_ms = 0;  // first connections spread over this (0: all at once)
  int reconnect_delay_ms = 1000;
  bool sync_on_connect = true;  // Blynk.syncVirtual(V10) in BLYNK_CONNECTED()
  bool echo_relay = true;       // BLYNK_WRITE(V10) { relay = param; Blynk.virtualWrite(V10, relay); }
  // Called when a device wrote the last pin of a period (steady clock, ns): the server should store a reading.
  std::function<void(std::size_t device, int64_t steady_ns)> on_period_written;
};

struct BlynkDevicesStats {
  uint64_t connects = 0;
  uint64_t logins_ok = 0;
  uint64_t logins_refused = 0;  // any status but 200/4
  uint64_t disconnects = 0;
  uint64_t periods_written = 0;
  uint64_t pings_sent = 0;
  uint64_t ping_answers = 0;
  uint64_t sync_values = 0;     // vw frames received in answer to a sync
  uint64_t relay_writes = 0;    // server writes of V10 received
  uint64_t error_statuses = 0;  // responses other than 200 to our frames
  uint64_t devices_online = 0;  // logged in right now
};

class BlynkDevices {
 public:
  explicit BlynkDevices(BlynkDevicesOptions options);
  ~BlynkDevices();  // stop()
  BlynkDevices(const BlynkDevices&) = delete;
  BlynkDevices& operator=(const BlynkDevices&) = delete;

  void start();
  // Stops writing and closes every connection. Idempotent.
  void stop();
  BlynkDevicesStats stats() const;
  // The relay value (0/1) each device last received from the server; -1 when none.
  std::vector<int> relay_values() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace wattguard::demo
