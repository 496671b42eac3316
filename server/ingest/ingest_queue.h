// The hand-over from the MQTT and timer threads to the ingest writer thread: readings gathered into
// batches (by size or age) with back-pressure, and other work in arrival order.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <variant>
#include <vector>

#include "wattguard/protocol/messages.h"

namespace wattguard::ingest {

// journal_segment: where the message is journaled (ingest_journal.h), 0 when it is not; handed back to the
// journal once the item is handled for good.
struct ReadingItem {
  protocol::Reading reading;
  int64_t received_ms;
  uint64_t journal_segment;
};
struct StatusItem {
  protocol::StatusMessage status;
  int64_t received_ms;
  bool retained;  // from the broker's store: said before we listened
};
struct EventItem {
  protocol::MeterEvent event;
  int64_t received_ms;
  uint64_t journal_segment;
};
struct AckItem {
  protocol::CommandAck ack;
  int64_t received_ms;
  uint64_t journal_segment;
};
struct PublishedItem {  // the broker has our command (QoS 1 PUBACK)
  int mid;
};
struct ConnectedItem {  // (re)connected: resend unsent commands; silence counts from here
  int64_t at_ms;
};
struct TickItem {};  // timer: liveness and command timeouts
using WorkItem = std::variant<StatusItem, EventItem, AckItem, PublishedItem, ConnectedItem, TickItem>;

// What the writer takes in one go: the work queued so far and, when one is due, a batch of readings.
struct WriterTake {
  std::vector<ReadingItem> batch;
  std::deque<WorkItem> work;
};

// Thread-safe. Ages are measured on the steady clock (batching is about waiting, not about wall time).
class IngestQueue {
 public:
  // flush_interval_ms 0: group commit (a batch is due as soon as it holds a reading; it is taken when the
  // writer is free). REQUIRES: flush_interval_ms >= 0, flush_max_readings >= 1.
  IngestQueue(int flush_interval_ms, std::size_t flush_max_readings, std::size_t max_pending_readings);

  // Queues a reading; waits while max_pending_readings are queued (back-pressure: with QoS 1 the broker
  // keeps what we cannot take yet), except once stopping.
  void push_reading(ReadingItem item);
  void push_work(WorkItem item);

  // Writer thread: waits for work or a due batch. False when stopping and nothing is left (exit).
  // Every true return must be followed by done().
  bool take(WriterTake& out);
  // Writer thread: the last take is handled. Returns the readings still queued.
  std::size_t done();
  // Readings accepted and not yet handled by the writer: queued, plus the batch it is writing (however long
  // the store keeps failing it).
  std::size_t pending_readings();

  // Waits on the writer's retry back-off (store errors): false when stopping and `attempt` >= 3 (give up).
  bool wait_before_retry(int attempt);

  // Makes queued readings due now and waits until everything is handled; false on timeout.
  bool flush(int timeout_ms);
  // From now on take() drains what is left and then returns false.
  void stop();

 private:
  bool flush_due_locked() const;

  const int flush_interval_ms_;
  const std::size_t flush_max_readings_;
  const std::size_t max_pending_readings_;

  std::mutex mu_;
  std::condition_variable work_cv_;       // the writer waits for work
  std::condition_variable space_cv_;      // the MQTT thread waits for room
  std::condition_variable idle_cv_;       // flush() waits for an empty queue
  std::vector<ReadingItem> readings_;     // guarded by mu_
  int64_t oldest_reading_steady_ms_ = 0;  // guarded by mu_
  std::deque<WorkItem> work_;             // guarded by mu_
  bool writer_busy_ = false;              // guarded by mu_
  std::size_t in_writer_ = 0;             // guarded by mu_: readings of the batch the writer holds
  bool stopping_ = false;                 // guarded by mu_
};

}  // namespace wattguard::ingest
