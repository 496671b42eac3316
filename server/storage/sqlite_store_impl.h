// SqliteStore's state and the writer-side machinery shared by its source files: connection pool, meter
// keys, staging and compaction, chunk writing. Private to server/storage.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "server/storage/raw_chunks.h"
#include "server/storage/rollup.h"
#include "wattguard/storage/sqlite_db.h"
#include "wattguard/storage/sqlite_store.h"

namespace wattguard::storage {

// The newest reading of a meter as the writer knows it (rollback detection, late detection).
struct Tail {
  bool has = false;
  int64_t time_ms = 0;
  uint64_t seq = 0;
  double imp = 0, exp = 0;
};

// What the writer caches about one meter's chunks. Dropped when another connection commits.
struct ChunkFacts {
  bool has_chunks = false;
  uint64_t max_seq = 0;     // over all chunks
  bool has_newest = false;  // the chunk with the greatest t_first, which in-order readings extend
  int64_t newest_id = 0, newest_n = 0, newest_t_first = 0, newest_t_last = 0;
  uint64_t newest_seq_first = 0, newest_seq_last = 0;
  Tail tail;  // newest reading in chunks
};

// A register_rollback event waiting to be inserted with the batch.
struct PendingEvent {
  int64_t meter_key;
  protocol::MeterEvent event;
};

// One append_readings call while its readings are checked, before they are written.
struct AppendBatch {
  AppendResult result;
  std::vector<Row> accepted;                             // new readings, by key, time, seq
  std::vector<PendingEvent> events;                      // register rollbacks found
  std::vector<std::pair<int64_t, uint64_t>> added_seqs;  // (key, seq) added to staged_seqs (undone on failure)
  std::unordered_set<uint64_t> batch_seqs;               // direct mode: seqs of batch_key seen in this batch
  int64_t batch_key = -1;
};

struct SqliteStore::Impl {
  SqliteOptions options;
  int lock_fd = -1;      // holds the writer lock when >= 0
  bool primary = false;  // stages appends (holds the writer lock)

  std::mutex write_mu;
  std::unique_ptr<Db> writer;        // guarded by write_mu
  int64_t writer_data_version = -1;  // guarded by write_mu
  // Set once another connection has committed since open (or while recovering staged batches of
  // an earlier run): compaction must then re-check staged rows against chunks for duplicates.
  bool foreign_writes = true;                     // guarded by write_mu
  std::unordered_map<int64_t, ChunkFacts> facts;  // guarded by write_mu; dropped on foreign commits
  std::unordered_map<int64_t, Tail> tails;        // guarded by write_mu; newest over chunks + staged
  std::unordered_map<int64_t, std::unordered_set<uint64_t>> staged_seqs;  // guarded by write_mu
  std::unordered_map<int64_t, uint64_t> staged_max_seq;                   // guarded by write_mu
  struct StagedBatch {
    int64_t id;
    std::size_t n;
    std::chrono::steady_clock::time_point at;
  };
  std::deque<StagedBatch> staged_batches;  // guarded by write_mu
  std::size_t staged_count = 0;            // guarded by write_mu
  struct Cycle {
    bool active = false;
    int64_t upto_id = 0;        // staging batches up to this id are being compacted
    std::vector<int64_t> keys;  // meters with such readings, ascending
    std::size_t pos = 0;        // keys[0, pos) are done
  };
  Cycle cycle;                      // guarded by write_mu
  std::vector<Row> compact_buffer;  // guarded by write_mu

  // Staged rows by meter, ascending staging id; readers merge them with what the database holds.
  // A reader holds mem_mu shared across its database read and its copy of these, and compaction
  // holds it exclusively across its commit and their removal, so no reading is seen twice or missed.
  std::shared_mutex mem_mu;
  std::unordered_map<int64_t, std::vector<Row>> staged;  // guarded by mem_mu (written under write_mu too)

  std::mutex pool_mu;
  std::condition_variable pool_cv;
  std::vector<std::unique_ptr<Db>> idle_readers;  // guarded by pool_mu

  // Meter id <-> key. Meters are never deleted, so entries never go stale; a miss is looked up
  // in the database (another process may have provisioned the meter).
  std::shared_mutex keys_mu;
  std::unordered_map<std::string, int64_t> keys;  // guarded by keys_mu

  // The primary writer checkpoints the WAL from its own thread and connection, so the fsyncs of a
  // checkpoint never stall an append (PASSIVE: it never blocks readers or the writer).
  std::thread checkpointer;
  std::unique_ptr<Db> checkpoint_db;
  std::mutex ckpt_mu;
  std::condition_variable ckpt_cv;
  bool ckpt_stop = false;  // guarded by ckpt_mu

  ~Impl();

  // ---- connections and meter keys (sqlite_store_open.cc); thread-safe.

  // A reader connection for the duration of one call; waits while all are leased.
  class Lease {
   public:
    explicit Lease(Impl& impl) : impl_(impl) {
      std::unique_lock lk(impl_.pool_mu);
      impl_.pool_cv.wait(lk, [&] { return !impl_.idle_readers.empty(); });
      db_ = std::move(impl_.idle_readers.back());
      impl_.idle_readers.pop_back();
    }
    ~Lease() {
      {
        std::lock_guard lk(impl_.pool_mu);
        impl_.idle_readers.push_back(std::move(db_));
      }
      impl_.pool_cv.notify_one();
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Db& db() { return *db_; }

   private:
    Impl& impl_;
    std::unique_ptr<Db> db_;
  };

  void checkpoint_loop();
  void stop_checkpointer();
  std::optional<int64_t> cached_key(std::string_view id);
  void remember_key(const std::string& id, int64_t key);
  // The meter's key: kNotFound, or an I/O error.
  Expected<int64_t> key_of(Db& db, std::string_view id);
  // Copy of a meter's staged rows (readers). REQUIRES: mem_mu held (shared).
  std::vector<Row> staged_copy(int64_t key);

  // ---- writer side; every function below REQUIRES write_mu held.

  // Chunk and rollup writing (sqlite_chunk_writer.cc).
  void drop_writer_caches();
  Expected<ChunkFacts*> facts_of(int64_t key);
  Expected<Tail*> tail_of(int64_t key);
  Expected<void> insert_chunk(int64_t key, const std::vector<Row>& rows, std::size_t b, std::size_t e, ChunkFacts* f,
                              bool becomes_newest);
  Expected<void> insert_chunks(int64_t key, const std::vector<Row>& rows, std::size_t b, std::size_t e, ChunkFacts* f,
                               bool last_becomes_newest);
  Expected<std::size_t> extend_newest_chunk(const std::vector<Row>& rows, std::size_t b, std::size_t e, ChunkFacts* f);
  Expected<void> write_meter_chunks(int64_t key, const std::vector<Row>& rows, std::size_t b, std::size_t e);
  Expected<void> write_meter_rollups(int64_t key, const std::vector<Row>& rows, std::size_t b, std::size_t e);
  Expected<void> write_rows(std::vector<Row>& rows, std::vector<std::size_t>* skipped);

  // Staging and compaction (sqlite_staging.cc).
  Expected<void> refresh_writer_view();
  Expected<void> load_staging();
  void start_cycle();
  std::size_t gather_step_rows(std::size_t first, std::vector<Row>* rows) const;
  Expected<void> record_step(bool finishes, std::size_t last);
  std::size_t drop_compacted(std::size_t first, std::size_t last);
  Expected<void> compact_step();
  bool compaction_due() const;
  Expected<void> compact_all();

  // Appending (sqlite_append.cc).
  Expected<void> resolve_keys(std::span<const protocol::Reading> readings, std::vector<uint32_t>* order,
                              std::vector<int64_t>* keys, AppendResult* result);
  Expected<bool> is_duplicate(AppendBatch& batch, int64_t key, const protocol::Reading& r);
  Expected<void> find_late_rollbacks(AppendBatch& batch, int64_t key, const protocol::Reading& r);
  Expected<void> check_reading(AppendBatch& batch, int64_t key, uint32_t index, const protocol::Reading& r,
                               int64_t received_ms);
  Expected<int64_t> write_accepted(AppendBatch& batch, int64_t received_ms);
  Expected<void> insert_rollback_events(AppendBatch& batch, int64_t received_ms);
  void undo_added_seqs(const std::vector<std::pair<int64_t, uint64_t>>& added);
  Expected<void> publish_staged(std::vector<Row>& accepted, int64_t staging_id);

  // Retention (sqlite_retention.cc).
  Expected<uint64_t> trim_raw_chunks(int64_t key, int64_t cutoff_ms);
};

}  // namespace wattguard::storage
