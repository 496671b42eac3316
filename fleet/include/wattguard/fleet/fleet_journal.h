// The fleet's store-and-forward state on disk: one append-only journal file per fleet.
//
// Every reading a meter makes is appended (and fsync'd, in batches) before it may be published, so
// a reading the broker acknowledged can never be re-made with the same sequence number after a
// crash. Acknowledgements, drops (queue full) and settings (relay, report period) are appended
// too. Opening the journal replays it: each meter's next sequence number, registers, relay, period,
// last reading time, and the readings the broker never acknowledged, which are sent again. When the
// file grows past a threshold it is compacted into a snapshot of that state (temp file, fsync,
// rename). The format is in docs/fleet.md.
//
// Thread safety: the append_* methods and durable_lsn() may be called from any thread; a writer
// thread does the I/O.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "wattguard/base/expected.h"
#include "wattguard/fleet/queued_reading.h"
#include "wattguard/fleet/virtual_meter.h"

namespace wattguard::fleet {

struct JournalOptions {
  std::filesystem::path dir;                    // created if missing
  int commit_interval_ms = 50;                  // longest a record waits for its fsync
  uint64_t compact_bytes = 64ull << 20;         // compact when the file grows past this
  bool fsync = true;                            // false only for tests on slow disks
  std::size_t max_unacked_per_meter = 120'960;  // 7 days of 5 s readings; oldest dropped beyond
};

// One meter's state as the journal knows it.
struct PersistedMeter {
  bool known = false;  // the journal had this meter
  ResumeState state;
  uint64_t dropped = 0;               // readings dropped (queue full) over the fleet's life
  std::deque<QueuedReading> unacked;  // oldest first
};

class FleetJournal {
 public:
  static constexpr const char* kFileName = "fleet.journal";

  // Opens (creating) <dir>/fleet.journal for the meters named, in fleet order, loads their state,
  // rewrites the file compacted (meters not named are forgotten) and starts the writer thread.
  // Fails if the directory is unusable, the file is not a fleet journal, or another process holds it.
  static Expected<std::unique_ptr<FleetJournal>> open(const JournalOptions& options,
                                                      const std::vector<std::string>& meter_ids);
  ~FleetJournal();
  FleetJournal(const FleetJournal&) = delete;
  FleetJournal& operator=(const FleetJournal&) = delete;

  // State loaded at open(), by fleet index.
  const PersistedMeter& loaded(uint32_t meter) const { return loaded_[meter]; }
  std::size_t forgotten_meters() const { return forgotten_; }
  uint64_t discarded_tail_bytes() const { return discarded_tail_; }

  // Appends; returns the record's log sequence number. A reading may be sent once durable_lsn() >= it.
  uint64_t append_reading(uint32_t meter, const QueuedReading& reading);
  void append_ack(uint32_t meter, uint64_t seq);
  void append_drop(uint32_t meter, uint64_t seq);
  void append_settings(uint32_t meter, bool relay_closed, uint32_t period_ms);

  uint64_t durable_lsn() const { return durable_lsn_.load(std::memory_order_acquire); }
  // Called on the writer thread after each batch is on disk (must be quick: e.g. wake a loop).
  void add_durable_listener(std::function<void()> listener);

  // Writes everything appended so far, compacts, and stops the writer. Idempotent.
  void close();

  struct Stats {
    uint64_t commits = 0;
    uint64_t records = 0;
    uint64_t bytes = 0;
    uint64_t compactions = 0;
    std::string last_error;  // empty while every write has succeeded
  };
  Stats stats() const;

 private:
  enum class OpType : uint8_t { kMeter = 1, kReading = 2, kAck = 3, kDrop = 4, kSettings = 5 };
  struct Op {
    Op(OpType t, uint32_t m) : type(t), meter(m) {}
    OpType type;
    uint32_t meter;
    uint64_t seq = 0;          // ack/drop
    QueuedReading reading;     // reading
    bool relay_closed = true;  // settings
    uint32_t period_ms = 0;
  };

  explicit FleetJournal(const JournalOptions& options);
  uint64_t push(const Op& op);
  void writer_loop();
  Expected<void> commit(std::vector<Op>& ops);
  void apply(const Op& op);
  Expected<void> compact();
  void encode(const Op& op, std::string* out) const;

  JournalOptions options_;
  std::vector<std::string> ids_;
  std::vector<PersistedMeter> loaded_;
  std::vector<PersistedMeter> mirror_;  // writer thread only: the state to snapshot
  std::size_t forgotten_ = 0;
  uint64_t discarded_tail_ = 0;
  int fd_ = -1;
  int lock_fd_ = -1;
  uint64_t file_bytes_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Op> pending_;
  uint64_t next_lsn_ = 1;
  bool stopping_ = false;
  std::atomic<uint64_t> durable_lsn_{0};
  std::vector<std::function<void()>> listeners_;
  Stats stats_;
  std::thread writer_;
};

}  // namespace wattguard::fleet
