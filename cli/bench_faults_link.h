// A loopback TCP relay between some virtual meters and the broker that `wattguard bench faults` can cut, so
// those meters lose their network (connections reset, new ones refused) while everything else keeps running.
// Thread safety: cut(), restore() and the accessors may be called from any thread; one relay thread does the I/O.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>

#include "wattguard/base/expected.h"

namespace wattguard::cli {

class FaultLink {
 public:
  // Listens on a free 127.0.0.1 port and relays each connection to 127.0.0.1:upstream_port.
  static Expected<std::unique_ptr<FaultLink>> open(uint16_t upstream_port);
  ~FaultLink();  // stops the thread, closes every socket
  FaultLink(const FaultLink&) = delete;
  FaultLink& operator=(const FaultLink&) = delete;

  uint16_t port() const { return port_; }
  // The network goes down: open connections are reset, new ones are closed at once. Idempotent.
  void cut() { set_cut(true); }
  // The network is back: new connections are relayed again.
  void restore() { set_cut(false); }
  uint64_t connections_relayed() const { return relayed_.load(); }

 private:
  FaultLink() = default;
  void set_cut(bool cut);
  void run();

  int listen_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: tells the relay thread to look at cut_ / stop_
  uint16_t port_ = 0;
  uint16_t upstream_port_ = 0;
  std::atomic<bool> cut_{false};
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> relayed_{0};
  std::thread thread_;
};

}  // namespace wattguard::cli
