// A fixed set of threads draining a bounded task queue.
#include "server/api/http_worker_pool.h"

#include <spdlog/spdlog.h>

#include <exception>
#include <utility>

namespace wattguard::api {

HttpWorkerPool::HttpWorkerPool(int threads, std::size_t queue_max) : queue_max_(queue_max) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

HttpWorkerPool::~HttpWorkerPool() { stop(); }

bool HttpWorkerPool::try_post(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= queue_max_) return false;
    queue_.push_back(std::move(task));
  }
  wake_.notify_one();
  return true;
}

void HttpWorkerPool::stop() {
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    dropped.swap(queue_);
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  // The dropped tasks are destroyed here, outside the lock (they may own sessions).
}

void HttpWorkerPool::work() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      task();
    } catch (const std::exception& e) {
      // A bug in a task: say so and keep the thread.
      spdlog::error("http: worker task failed: {}", e.what());
    }
  }
}

}  // namespace wattguard::api
