// Batching and back-pressure between the ingest service's threads (see ingest_queue.h).
#include "server/ingest/ingest_queue.h"

#include <algorithm>
#include <chrono>

namespace wattguard::ingest {
namespace {

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

IngestQueue::IngestQueue(int flush_interval_ms, std::size_t flush_max_readings, std::size_t max_pending_readings)
    : flush_interval_ms_(flush_interval_ms),
      flush_max_readings_(flush_max_readings),
      max_pending_readings_(max_pending_readings) {}

void IngestQueue::push_reading(ReadingItem item) {
  std::unique_lock lk(mu_);
  space_cv_.wait(lk, [&] { return stopping_ || readings_.size() < max_pending_readings_; });
  if (readings_.empty()) oldest_reading_steady_ms_ = steady_ms();
  readings_.push_back(std::move(item));
  // Group commit wakes the writer for the first reading; it takes the rest when it comes back free.
  const bool full = readings_.size() >= flush_max_readings_ || (flush_interval_ms_ == 0 && readings_.size() == 1);
  lk.unlock();
  if (full) work_cv_.notify_one();
}

void IngestQueue::push_work(WorkItem item) {
  {
    std::lock_guard lk(mu_);
    work_.push_back(std::move(item));
  }
  work_cv_.notify_one();
}

bool IngestQueue::flush_due_locked() const {
  return !readings_.empty() && (flush_interval_ms_ == 0 || readings_.size() >= flush_max_readings_ ||
                                steady_ms() - oldest_reading_steady_ms_ >= flush_interval_ms_ || stopping_);
}

bool IngestQueue::take(WriterTake& out) {
  out.batch.clear();
  out.work.clear();
  {
    std::unique_lock lk(mu_);
    for (;;) {
      if (flush_due_locked() || !work_.empty()) break;
      if (stopping_) {
        idle_cv_.notify_all();
        return false;
      }
      if (readings_.empty()) {
        idle_cv_.notify_all();
        work_cv_.wait(lk);
      } else {
        work_cv_.wait_for(lk, std::chrono::milliseconds(std::max<int64_t>(
                                  1, flush_interval_ms_ - (steady_ms() - oldest_reading_steady_ms_))));
      }
    }
    if (flush_due_locked()) out.batch.swap(readings_);
    out.work.swap(work_);
    writer_busy_ = true;
    in_writer_ = out.batch.size();
  }
  space_cv_.notify_all();
  return true;
}

std::size_t IngestQueue::done() {
  std::size_t pending = 0;
  {
    std::lock_guard lk(mu_);
    writer_busy_ = false;
    in_writer_ = 0;
    pending = readings_.size();
  }
  idle_cv_.notify_all();
  return pending;
}

std::size_t IngestQueue::pending_readings() {
  std::lock_guard lk(mu_);
  return readings_.size() + in_writer_;
}

bool IngestQueue::wait_before_retry(int attempt) {
  std::unique_lock lk(mu_);
  if (stopping_ && attempt >= 3) return false;
  work_cv_.wait_for(lk, std::chrono::milliseconds(std::min(5000, 100 << std::min(attempt, 6))));
  return true;
}

bool IngestQueue::flush(int timeout_ms) {
  std::unique_lock lk(mu_);
  if (!readings_.empty()) oldest_reading_steady_ms_ = 0;  // due now
  work_cv_.notify_one();
  return idle_cv_.wait_for(lk, std::chrono::milliseconds(timeout_ms),
                           [&] { return readings_.empty() && work_.empty() && !writer_busy_; });
}

void IngestQueue::stop() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  space_cv_.notify_all();
}

}  // namespace wattguard::ingest
