// The outbox sender.
#include "wattguard/alerts/delivery_worker.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>

#include "wattguard/alerts/alert_json.h"

namespace wattguard::alerts {

notify::Message make_message(const Alert& alert, const Delivery& delivery, const std::string& public_url) {
  notify::Message m;
  m.delivery_id = delivery.id;
  m.alert = alert_to_json(alert);
  // The receiver does not need the outbox bookkeeping of every recipient.
  m.alert.erase("deliveries");
  char score[32];
  std::snprintf(score, sizeof score, "%.2f", alert.score);
  std::string url;
  if (!public_url.empty()) {
    url = public_url;
    if (url.back() == '/') url.pop_back();
    url += "/alerts/" + std::to_string(alert.id);
  }
  m.fields = {{"id", std::to_string(alert.id)},       {"kind", alert.kind}, {"meter", alert.meter_id},
              {"transformer", alert.transformer_id},  {"area", alert.area}, {"score", score},
              {"time", iso8601_utc(alert.raised_ms)}, {"url", url},         {"reader", delivery.recipient}};
  return m;
}

DeliveryWorker::DeliveryWorker(AlertService& service,
                               std::map<std::string, std::shared_ptr<notify::Notifier>> notifiers,
                               DeliveryOptions options)
    : service_(service), notifiers_(std::move(notifiers)), options_(std::move(options)) {}

DeliveryWorker::~DeliveryWorker() { stop(); }

void DeliveryWorker::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { loop(); });
}

void DeliveryWorker::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DeliveryWorker::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  cv_.notify_all();
}

int64_t DeliveryWorker::backoff_ms(int attempts_done) const {
  int64_t delay = options_.retry_base_ms;
  for (int i = 1; i < attempts_done && delay < options_.retry_max_ms; ++i) delay *= 2;
  return std::min(delay, options_.retry_max_ms);
}

std::size_t DeliveryWorker::run_once() {
  std::size_t handled = 0;
  for (const Delivery& d : service_.due_deliveries(service_.now_ms())) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_ && thread_.joinable()) break;
    }
    ++handled;
    const int attempts_done = d.attempts + 1;
    const bool last = attempts_done >= options_.max_attempts;
    const auto alert = service_.get(d.alert_id);
    const auto it = notifiers_.find(d.notifier);
    std::string error;
    if (!alert) {
      error = "alert not found";
    } else if (it == notifiers_.end()) {
      error = "notifier \"" + d.notifier + "\" is not configured";
    } else {
      const auto outcome = it->second->send(d.address, make_message(*alert, d, options_.public_url));
      if (outcome.ok()) {
        if (service_.mark_delivered(d.id, service_.now_ms()))
          spdlog::info("alert {}: delivered via {} to {}", d.alert_id, d.notifier, d.recipient);
        continue;
      }
      error = outcome.describe();
    }
    service_.mark_failed(d.id, error, service_.now_ms() + backoff_ms(attempts_done), last);
    if (last) {
      spdlog::error("alert {}: UNDELIVERED via {} to {} ({}) after {} attempts: {}", d.alert_id, d.notifier,
                    d.recipient, d.address, attempts_done, error);
    } else {
      spdlog::warn("alert {}: delivery via {} to {} failed (attempt {} of {}): {}", d.alert_id, d.notifier, d.recipient,
                   attempts_done, options_.max_attempts, error);
    }
  }
  return handled;
}

void DeliveryWorker::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    woken_ = false;
    lock.unlock();
    try {
      run_once();
    } catch (const std::exception& e) {
      spdlog::error("alerts: delivery pass failed: {}", e.what());
    }
    lock.lock();
    cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_ms), [this] { return stopping_ || woken_; });
  }
}

}  // namespace wattguard::alerts
