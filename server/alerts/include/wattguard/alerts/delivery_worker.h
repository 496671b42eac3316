// Sends the alerts' outbox rows through the notifiers (notify::OutboxWorker over the alert service's outbox).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wattguard/alerts/alert_service.h"
#include "wattguard/notify/notifier.h"
#include "wattguard/notify/outbox_worker.h"

namespace wattguard::alerts {

struct DeliveryOptions {
  int max_attempts = 8;
  int64_t retry_base_ms = 30'000;  // delay after the first failure; doubles per attempt
  int64_t retry_max_ms = 3'600'000;
  int poll_ms = 1000;      // how often to look for due rows when not woken
  std::string public_url;  // base of {url}: <public_url>/alerts/<id>
};

// The alert service's deliveries as an outbox.
class AlertOutbox : public notify::Outbox {
 public:
  AlertOutbox(AlertService& service, std::string public_url) : service_(service), public_url_(std::move(public_url)) {}
  std::vector<notify::OutboxItem> due(int64_t now_ms, std::size_t limit) override;
  std::optional<notify::Message> message(const notify::OutboxItem& item) override;
  bool mark_delivered(int64_t id, int64_t t_ms) override { return service_.mark_delivered(id, t_ms); }
  void mark_failed(int64_t id, const std::string& error, int64_t next_attempt_ms, bool give_up) override {
    service_.mark_failed(id, error, next_attempt_ms, give_up);
  }
  int64_t now_ms() const override { return service_.now_ms(); }

 private:
  AlertService& service_;
  std::string public_url_;
  std::map<int64_t, Delivery> pending_;  // the rows of the last due(), for message()
};

// One thread; see notify::OutboxWorker for the delivery guarantee.
class DeliveryWorker {
 public:
  DeliveryWorker(AlertService& service, std::map<std::string, std::shared_ptr<notify::Notifier>> notifiers,
                 const DeliveryOptions& options);
  DeliveryWorker(const DeliveryWorker&) = delete;
  DeliveryWorker& operator=(const DeliveryWorker&) = delete;

  void start() { worker_.start(); }
  void stop() { worker_.stop(); }
  // Look for due rows now (after a new alert).
  void wake() { worker_.wake(); }
  // One pass over the due rows (the thread calls this; tests may too when not started).
  std::size_t run_once() { return worker_.run_once(); }
  // Delay before the attempt that follows `attempts_done` failed attempts.
  int64_t backoff_ms(int attempts_done) const { return worker_.backoff_ms(attempts_done); }

 private:
  AlertOutbox outbox_;
  notify::OutboxWorker worker_;  // after outbox_: stopped before it goes
};

// Message fields and body for one delivery of an alert.
notify::Message make_message(const Alert& alert, const Delivery& delivery, const std::string& public_url);

}  // namespace wattguard::alerts
