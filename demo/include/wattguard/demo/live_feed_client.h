// A client of the server's live WebSocket (/api/v1/live) for measurements from another process: it reports
// every stored reading the feed pushes, and reconnects when the feed drops (a server restart). Used by
// `wattguard bench blynk` to time write-to-stored. Thread safety: start()/stop() from one thread; the callback
// runs on the client's own thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "wattguard/base/expected.h"

namespace wattguard::demo {

struct LiveFeedOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  std::string token;  // an API token with read scope
  std::function<void(const std::string& meter_id, uint64_t seq)> on_reading;
};

class LiveFeedClient {
 public:
  explicit LiveFeedClient(LiveFeedOptions options);
  ~LiveFeedClient();  // stop()
  LiveFeedClient(const LiveFeedClient&) = delete;
  LiveFeedClient& operator=(const LiveFeedClient&) = delete;

  // Connects (waiting up to `timeout_ms` for the first subscription) and keeps reading on a thread.
  // kUnavailable when the feed could not be opened in time.
  Expected<void> start(int timeout_ms = 10'000);
  void stop();
  uint64_t connects() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace wattguard::demo
