// The HTTP server's small pool for slow request work (argon2id password checks), so that work never runs on the
// I/O threads. Its queue is bounded: a caller whose task does not fit is told at once and answers 503.
// Thread-safe.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace wattguard::api {

class HttpWorkerPool {
 public:
  // REQUIRES: threads >= 1, queue_max >= 1.
  HttpWorkerPool(int threads, std::size_t queue_max);
  ~HttpWorkerPool();  // stops
  HttpWorkerPool(const HttpWorkerPool&) = delete;
  HttpWorkerPool& operator=(const HttpWorkerPool&) = delete;

  // Queues `task`; false (and `task` dropped) when queue_max tasks already wait or the pool is stopped.
  bool try_post(std::function<void()> task);
  // Lets the running tasks finish, drops the queued ones and joins the threads. Idempotent.
  void stop();

 private:
  void work();

  const std::size_t queue_max_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace wattguard::api
