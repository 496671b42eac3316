// Sends due outbox rows through the notifiers, with exponential backoff; gives up as "undelivered".
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "wattguard/alerts/alert_service.h"
#include "wattguard/notify/notifier.h"

namespace wattguard::alerts {

struct DeliveryOptions {
  int max_attempts = 8;
  int64_t retry_base_ms = 30'000;  // delay after the first failure; doubles per attempt
  int64_t retry_max_ms = 3'600'000;
  int poll_ms = 1000;      // how often to look for due rows when not woken
  std::string public_url;  // base of {url}: <public_url>/alerts/<id>
};

// One thread. Exactly one worker per database should run (the outbox is not leased): it sends a
// row, then marks it delivered only if it is still pending, so a row is sent once unless the
// process dies between the receiver's answer and that commit (then once more after restart; the
// Idempotency-Key header lets a receiver drop that repeat).
class DeliveryWorker {
 public:
  DeliveryWorker(AlertService& service, std::map<std::string, std::shared_ptr<notify::Notifier>> notifiers,
                 DeliveryOptions options);
  ~DeliveryWorker();  // stop()
  DeliveryWorker(const DeliveryWorker&) = delete;
  DeliveryWorker& operator=(const DeliveryWorker&) = delete;

  void start();
  void stop();
  // Look for due rows now (after a new alert).
  void wake();
  // One pass over the due rows (the thread calls this; tests may too when not started).
  std::size_t run_once();
  // Delay before the attempt that follows `attempts_done` failed attempts.
  int64_t backoff_ms(int attempts_done) const;

 private:
  void loop();

  AlertService& service_;
  std::map<std::string, std::shared_ptr<notify::Notifier>> notifiers_;
  DeliveryOptions options_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool woken_ = false;
  std::thread thread_;
};

// Message fields and body for one delivery of an alert.
notify::Message make_message(const Alert& alert, const Delivery& delivery, const std::string& public_url);

}  // namespace wattguard::alerts
