// The outbox sender.
#include "wattguard/notify/outbox_worker.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

namespace wattguard::notify {

OutboxWorker::OutboxWorker(Outbox& outbox, std::map<std::string, std::shared_ptr<Notifier>> notifiers,
                           OutboxOptions options)
    : outbox_(outbox), notifiers_(std::move(notifiers)), options_(options) {}

OutboxWorker::~OutboxWorker() { stop(); }

void OutboxWorker::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { loop(); });
}

void OutboxWorker::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void OutboxWorker::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  cv_.notify_all();
}

int64_t OutboxWorker::backoff_ms(int attempts_done) const {
  int64_t delay = options_.retry_base_ms;
  for (int i = 1; i < attempts_done && delay < options_.retry_max_ms; ++i) delay *= 2;
  return std::min(delay, options_.retry_max_ms);
}

std::size_t OutboxWorker::run_once() {
  constexpr std::size_t kBatch = 50;
  std::size_t handled = 0;
  for (const OutboxItem& item : outbox_.due(outbox_.now_ms(), kBatch)) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_ && thread_.joinable()) break;
    }
    ++handled;
    const int attempts_done = item.attempts + 1;
    const bool last = attempts_done >= options_.max_attempts;
    const auto it = notifiers_.find(item.notifier);
    std::string error;
    if (it == notifiers_.end()) {
      error = "notifier \"" + item.notifier + "\" is not configured";
    } else if (auto message = outbox_.message(item)) {
      message->delivery_id = item.id;
      const auto outcome = it->second->send(item.address, *message);
      if (outcome.ok()) {
        if (outbox_.mark_delivered(item.id, outbox_.now_ms()))
          spdlog::info("{}: delivered via {} to {}", item.subject, item.notifier, item.recipient);
        continue;
      }
      error = outcome.describe();
    } else {
      error = item.subject + " not found";
    }
    outbox_.mark_failed(item.id, error, outbox_.now_ms() + backoff_ms(attempts_done), last);
    if (last) {
      spdlog::error("{}: UNDELIVERED via {} to {} ({}) after {} attempts: {}", item.subject, item.notifier,
                    item.recipient, item.address, attempts_done, error);
    } else {
      spdlog::warn("{}: delivery via {} to {} failed (attempt {} of {}): {}", item.subject, item.notifier,
                   item.recipient, attempts_done, options_.max_attempts, error);
    }
  }
  return handled;
}

void OutboxWorker::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    woken_ = false;
    lock.unlock();
    try {
      run_once();
    } catch (const std::exception& e) {
      // A thread edge: a bug in a store or notifier must not end every later delivery.
      spdlog::error("outbox: delivery pass failed: {}", e.what());
    }
    lock.lock();
    cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_ms), [this] { return stopping_ || woken_; });
  }
}

}  // namespace wattguard::notify
