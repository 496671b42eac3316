// The sender of an outbox: a thread that takes due rows from a store, sends each through its notifier, and
// marks it delivered or failed with exponential backoff, giving up as "undelivered". Alerts to meter readers
// and notices to consumers are the two outboxes; each store implements Outbox.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "wattguard/notify/notifier.h"

namespace wattguard::notify {

// One pending row of an outbox.
struct OutboxItem {
  int64_t id = 0;
  std::string subject;    // what it is about, for the log: "alert 12", "notice 7"
  std::string notifier;   // "webhook" or "sms"
  std::string recipient;  // who, for the log
  std::string address;    // URL or phone number
  int attempts = 0;       // failed attempts so far
};

class Outbox {
 public:
  virtual ~Outbox() = default;
  virtual std::vector<OutboxItem> due(int64_t now_ms, std::size_t limit) = 0;
  // What to send for the row; nullopt when its subject is gone (the row then fails with that reason).
  virtual std::optional<Message> message(const OutboxItem& item) = 0;
  // Only a pending row becomes delivered: false when it was not pending (never delivered twice).
  virtual bool mark_delivered(int64_t id, int64_t t_ms) = 0;
  virtual void mark_failed(int64_t id, const std::string& error, int64_t next_attempt_ms, bool give_up) = 0;
  virtual int64_t now_ms() const = 0;
};

struct OutboxOptions {
  int max_attempts = 8;
  int64_t retry_base_ms = 30'000;  // delay after the first failure; doubles per attempt
  int64_t retry_max_ms = 3'600'000;
  int poll_ms = 1000;  // how often to look for due rows when not woken
};

// One thread. Exactly one worker per outbox should run (rows are not leased): it sends a row, then marks it
// delivered only if it is still pending, so a row is sent once unless the process dies between the receiver's
// answer and that commit (then once more after restart; the Idempotency-Key header lets a receiver drop that
// repeat).
class OutboxWorker {
 public:
  OutboxWorker(Outbox& outbox, std::map<std::string, std::shared_ptr<Notifier>> notifiers, OutboxOptions options);
  ~OutboxWorker();  // stop()
  OutboxWorker(const OutboxWorker&) = delete;
  OutboxWorker& operator=(const OutboxWorker&) = delete;

  void start();
  void stop();
  // Look for due rows now (after a new one was added).
  void wake();
  // One pass over the due rows (the thread calls this; tests may too when not started).
  std::size_t run_once();
  // Delay before the attempt that follows `attempts_done` failed attempts.
  int64_t backoff_ms(int attempts_done) const;

 private:
  void loop();

  Outbox& outbox_;
  std::map<std::string, std::shared_ptr<Notifier>> notifiers_;
  OutboxOptions options_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace wattguard::notify
