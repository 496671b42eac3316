// Fan-out of live messages (new readings, meter status, command results) to WebSocket
// clients. Publishing never blocks on a client: each client has a bounded queue, and a
// client whose queue is full is dropped. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace wattguard::api {

enum class OfferResult { kQueued, kClosed, kOverflow };

// One live client's receiving end (a WebSocket session, or a test double).
class LiveSink {
 public:
  virtual ~LiveSink() = default;
  // Queues one JSON message. Called from any thread; must not block. kClosed: the client is
  // gone; kOverflow: its queue was full and it is closing itself. The hub then forgets it.
  virtual OfferResult offer(const std::shared_ptr<const std::string>& message) = 0;
  // A session ended, a password changed, a user or token was removed, meters changed owner: the client should
  // check soon whether it may still watch. Called from any thread; must not block.
  virtual void access_changed() {}
};

class LiveHub {
 public:
  using MeterSet = std::unordered_set<std::string>;

  // `meters`: only messages about these meters; nullopt = every meter.
  uint64_t subscribe(std::weak_ptr<LiveSink> sink, std::optional<MeterSet> meters);
  void unsubscribe(uint64_t id);

  // Offers `message` (one JSON object) to every client interested in `meter_id`.
  void publish(std::string_view meter_id, const std::shared_ptr<const std::string>& message);

  // Tells every client that access may have changed (LiveSink::access_changed), so those who lost it stop now
  // instead of at their next periodic check.
  void access_changed();

  struct Stats {
    uint64_t clients = 0;
    uint64_t published = 0;        // messages published
    uint64_t delivered = 0;        // message x client hand-overs
    uint64_t dropped_clients = 0;  // clients dropped for a full queue
  };
  Stats stats();

 private:
  struct Subscriber {
    std::weak_ptr<LiveSink> sink;
    std::optional<MeterSet> meters;
  };
  std::mutex mutex_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, Subscriber> subscribers_;
  uint64_t published_ = 0;
  uint64_t delivered_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace wattguard::api
