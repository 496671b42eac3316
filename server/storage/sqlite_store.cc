// SqliteStore: the ReadingStore on SQLite. Appends go to a staging table (one row per batch, so a
// commit writes a few sequential pages however many meters the batch spans) and are compacted in
// bounded steps into per-meter raw chunks and the rollup tables. See docs/storage.md.
#include "wattguard/storage/sqlite_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "server/storage/reading_record.h"
#include "server/storage/rollup.h"
#include "wattguard/storage/sqlite_db.h"
#include "server/storage/sqlite_schema.h"
#include "wattguard/protocol/codec.h"
#include "wattguard/protocol/topics.h"

namespace wattguard::storage {
namespace {

using protocol::Reading;

// Registers are decimal Wh from integer micro-Wh on the meter; smaller steps back are float noise.
constexpr double kRollbackToleranceWh = 0.001;
constexpr int64_t kChunkMaxReadings = 128;
constexpr int64_t kChunkMaxSpanMs = 3'600'000;  // queries look back this far for chunks overlapping a range

int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string fmt_wh(double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

// Per-resolution SQL, built once; the c_str() pointers key the statement caches.
struct RollupSql {
  std::string upsert;
  std::string select_range;
  std::string select_prev;
  std::string delete_older;
};

const RollupSql& rollup_sql(Resolution res) {
  static const std::array<RollupSql, 5> all = [] {
    std::array<RollupSql, 5> a;
    for (Resolution r : kAllResolutions) {
      if (r == Resolution::kRaw) continue;
      const std::string t = rollup_table(r);
      RollupSql& s = a[static_cast<std::size_t>(r)];
      s.upsert = "INSERT INTO " + t +
                 "(meter,bucket_ms,n,p_sum,p_min,p_max,v_sum,v_min,v_max,i_sum,s_sum,q_sum,pf_sum,f_sum,"
                 "first_ms,first_imp,first_exp,last_ms,last_imp,last_exp,flags) "
                 "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(meter,bucket_ms) DO UPDATE SET "
                 "n=n+excluded.n, p_sum=p_sum+excluded.p_sum, p_min=min(p_min,excluded.p_min),"
                 " p_max=max(p_max,excluded.p_max), v_sum=v_sum+excluded.v_sum, v_min=min(v_min,excluded.v_min),"
                 " v_max=max(v_max,excluded.v_max), i_sum=i_sum+excluded.i_sum, s_sum=s_sum+excluded.s_sum,"
                 " q_sum=q_sum+excluded.q_sum, pf_sum=pf_sum+excluded.pf_sum, f_sum=f_sum+excluded.f_sum,"
                 // Every right-hand side sees the row as it was before this UPDATE.
                 " first_imp=CASE WHEN excluded.first_ms<first_ms THEN excluded.first_imp ELSE first_imp END,"
                 " first_exp=CASE WHEN excluded.first_ms<first_ms THEN excluded.first_exp ELSE first_exp END,"
                 " first_ms=min(first_ms,excluded.first_ms),"
                 " last_imp=CASE WHEN excluded.last_ms>=last_ms THEN excluded.last_imp ELSE last_imp END,"
                 " last_exp=CASE WHEN excluded.last_ms>=last_ms THEN excluded.last_exp ELSE last_exp END,"
                 " last_ms=max(last_ms,excluded.last_ms), flags=flags|excluded.flags";
      s.select_range = "SELECT bucket_ms,n,p_sum,p_min,p_max,v_sum,v_min,v_max,i_sum,s_sum,q_sum,pf_sum,f_sum,"
                       "first_ms,first_imp,first_exp,last_ms,last_imp,last_exp,flags FROM " +
                       t + " WHERE meter=? AND bucket_ms>=? AND bucket_ms<? ORDER BY bucket_ms";
      s.select_prev = "SELECT last_ms,last_imp,last_exp FROM " + t +
                      " WHERE meter=? AND bucket_ms<? ORDER BY bucket_ms DESC LIMIT 1";
      s.delete_older = "DELETE FROM " + t + " WHERE meter=? AND bucket_ms<?";
    }
    return a;
  }();
  return all[static_cast<std::size_t>(res)];
}

RollupAccumulator accumulator_from_row(const Stmt& s, int c) {
  RollupAccumulator a;
  a.n = s.int64(c++);
  a.p_sum = s.real(c++);
  a.p_min = s.real(c++);
  a.p_max = s.real(c++);
  a.v_sum = s.real(c++);
  a.v_min = s.real(c++);
  a.v_max = s.real(c++);
  a.i_sum = s.real(c++);
  a.s_sum = s.real(c++);
  a.q_sum = s.real(c++);
  a.pf_sum = s.real(c++);
  a.f_sum = s.real(c++);
  a.first_ms = s.int64(c++);
  a.first_imp = s.real(c++);
  a.first_exp = s.real(c++);
  a.last_ms = s.int64(c++);
  a.last_imp = s.real(c++);
  a.last_exp = s.real(c++);
  a.flags = static_cast<uint32_t>(s.int64(c));
  return a;
}

StoreStatus step_done(Db& db, Stmt& s, std::string_view what) {
  const int rc = s.step();
  if (rc == SQLITE_DONE || rc == SQLITE_ROW) return StoreStatus::ok_status();
  return db.error_from(rc, what);
}

CommandRecord command_from_row(const Stmt& s) {
  CommandRecord c;
  c.id = s.text(0);
  c.meter_id = s.text(1);
  c.kind = protocol::command_kind_from_name(s.text(2)).value_or(protocol::CommandKind::kPing);
  c.args_json = s.text(3);
  c.requested_by = s.text(4);
  c.state = command_state_from_name(s.text(5)).value_or(CommandState::kFailed);
  c.message = s.text(6);
  c.relay = protocol::relay_state_from_name(s.text(7)).value_or(protocol::RelayState::kUnknown);
  c.created_ms = s.int64(8);
  c.sent_ms = s.int64(9);
  c.updated_ms = s.int64(10);
  return c;
}

constexpr const char* kCommandSelect =
    "SELECT c.id,m.id,c.kind,c.args,c.requested_by,c.state,c.message,c.relay,c.created_ms,c.sent_ms,c.updated_ms "
    "FROM commands c JOIN meters m ON m.key=c.meter ";

// One reading with where it came from (meter key, arrival time, staging batch).
struct Row {
  int64_t key = 0;
  int64_t received_ms = 0;
  int64_t staging_id = 0;
  std::size_t index = 0;  // position in the caller's batch (append only)
  Reading r;  // meter_id may be empty inside the store
};

bool by_time_seq(const Row& a, const Row& b) {
  if (a.r.time_ms != b.r.time_ms) return a.r.time_ms < b.r.time_ms;
  return a.r.seq < b.r.seq;
}

bool by_key_time_seq(const Row& a, const Row& b) {
  if (a.key != b.key) return a.key < b.key;
  return by_time_seq(a, b);
}

// Decodes a chunk's records and appends them to out.
void decode_chunk(const Stmt& s, int n_col, int data_col, int64_t key, std::vector<Row>* out) {
  const auto n = static_cast<std::size_t>(s.int64(n_col));
  const auto* data = static_cast<const uint8_t*>(sqlite3_column_blob(s.handle(), data_col));
  const auto bytes = static_cast<std::size_t>(sqlite3_column_bytes(s.handle(), data_col));
  if (data == nullptr || bytes < n * kRecordBytes) return;  // a damaged chunk is skipped, never read past
  for (std::size_t i = 0; i < n; ++i) {
    Row row;
    row.key = key;
    decode_record(data + i * kRecordBytes, &row.r, &row.received_ms);
    out->push_back(std::move(row));
  }
}

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
  uint64_t max_seq = 0;       // over all chunks
  bool has_newest = false;    // the chunk with the greatest t_first, which in-order readings extend
  int64_t newest_id = 0, newest_n = 0, newest_t_first = 0, newest_t_last = 0;
  uint64_t newest_seq_first = 0, newest_seq_last = 0;
  Tail tail;                  // newest reading in chunks
};

// A register_rollback event waiting to be inserted with the batch.
struct PendingEvent {
  int64_t meter_key;
  protocol::MeterEvent event;
};

std::optional<PendingEvent> rollback_between(int64_t key, uint64_t prev_seq, double prev_imp, double prev_exp,
                                             uint64_t next_seq, double next_imp, double next_exp, int64_t time_ms,
                                             const std::string& meter_id) {
  std::string details;
  if (next_imp < prev_imp - kRollbackToleranceWh) {
    details += "e_import_wh went backwards from " + fmt_wh(prev_imp) + " Wh (seq " + std::to_string(prev_seq) +
               ") to " + fmt_wh(next_imp) + " Wh (seq " + std::to_string(next_seq) + ")";
  }
  if (next_exp < prev_exp - kRollbackToleranceWh) {
    if (!details.empty()) details += "; ";
    details += "e_export_wh went backwards from " + fmt_wh(prev_exp) + " Wh (seq " + std::to_string(prev_seq) +
               ") to " + fmt_wh(next_exp) + " Wh (seq " + std::to_string(next_seq) + ")";
  }
  if (details.empty()) return std::nullopt;
  return PendingEvent{key, protocol::MeterEvent{meter_id, protocol::EventKind::kRegisterRollback,
                                                protocol::EventEdge::kInstant, time_ms, details}};
}

// Chunks of `key` that may hold readings with from_ms <= time < to_ms, decoded, in any order.
StoreStatus chunks_in_range(Db& db, int64_t key, int64_t from_ms, int64_t to_ms, std::vector<Row>* out) {
  auto s = db.prepare("SELECT n,data FROM raw_chunks WHERE meter=? AND t_first>=? AND t_first<? AND t_last>=?");
  if (!s.ok()) return s.error();
  s->bind(1, key);
  s->bind(2, from_ms > INT64_MIN + kChunkMaxSpanMs ? from_ms - kChunkMaxSpanMs : INT64_MIN);
  s->bind(3, to_ms);
  s->bind(4, from_ms);
  int rc;
  while ((rc = s->step()) == SQLITE_ROW) decode_chunk(*s, 0, 1, key, out);
  if (rc != SQLITE_DONE) return db.error_from(rc, "reading raw chunks");
  return StoreStatus::ok_status();
}

// The newest stored reading with time < before_ms (INT64_MAX: the newest of all), from chunks.
StoreResult<std::optional<Row>> newest_chunk_reading_before(Db& db, int64_t key, int64_t before_ms) {
  auto s = db.prepare("SELECT max(t_first) FROM raw_chunks WHERE meter=? AND t_first<?");
  if (!s.ok()) return s.error();
  s->bind(1, key);
  s->bind(2, before_ms);
  if (s->step() != SQLITE_ROW) return db.last_error("finding the newest chunk");
  if (s->is_null(0)) return std::optional<Row>();
  const int64_t newest_start = s->int64(0);
  std::vector<Row> rows;
  if (auto st = chunks_in_range(db, key, newest_start, before_ms, &rows); !st.ok()) return st;
  std::optional<Row> best;
  for (Row& r : rows) {
    if (r.r.time_ms < before_ms && (!best || by_time_seq(*best, r))) best = std::move(r);
  }
  return best;
}

// The oldest stored reading with time > after_ms, from chunks.
StoreResult<std::optional<Row>> oldest_chunk_reading_after(Db& db, int64_t key, int64_t after_ms) {
  auto s = db.prepare("SELECT min(t_first) FROM raw_chunks WHERE meter=? AND t_last>? AND t_first>?");
  if (!s.ok()) return s.error();
  s->bind(1, key);
  s->bind(2, after_ms);
  s->bind(3, after_ms - kChunkMaxSpanMs);
  if (s->step() != SQLITE_ROW) return db.last_error("finding the next chunk");
  if (s->is_null(0)) return std::optional<Row>();
  const int64_t first_start = s->int64(0);
  std::vector<Row> rows;
  if (auto st = chunks_in_range(db, key, after_ms + 1, std::max(first_start, after_ms) + kChunkMaxSpanMs + 1, &rows);
      !st.ok()) {
    return st;
  }
  std::optional<Row> best;
  for (Row& r : rows) {
    if (r.r.time_ms > after_ms && (!best || by_time_seq(r, *best))) best = std::move(r);
  }
  return best;
}

// True if a chunk of `key` holds a reading with this seq. Reads only the seq field of each record.
StoreResult<bool> chunk_has_seq(Db& db, int64_t key, uint64_t seq) {
  auto s = db.prepare("SELECT n,data FROM raw_chunks WHERE meter=? AND seq_last>=? AND seq_first<=?");
  if (!s.ok()) return s.error();
  s->bind(1, key);
  s->bind(2, seq);
  s->bind(3, seq);
  int rc;
  while ((rc = s->step()) == SQLITE_ROW) {
    const auto n = static_cast<std::size_t>(s->int64(0));
    const auto* data = static_cast<const uint8_t*>(sqlite3_column_blob(s->handle(), 1));
    const auto bytes = static_cast<std::size_t>(sqlite3_column_bytes(s->handle(), 1));
    if (data == nullptr || bytes < n * kRecordBytes) continue;
    for (std::size_t i = 0; i < n; ++i) {
      uint64_t stored;
      std::memcpy(&stored, data + i * kRecordBytes, sizeof stored);  // seq is the record's first field
      if (stored == seq) return true;
    }
  }
  if (rc != SQLITE_DONE) return db.error_from(rc, "looking up a sequence number");
  return false;
}

std::string encode_records(const std::vector<Row>& rows, std::size_t begin, std::size_t end) {
  std::string blob((end - begin) * kRecordBytes, '\0');
  auto* p = reinterpret_cast<uint8_t*>(blob.data());
  for (std::size_t i = begin; i < end; ++i, p += kRecordBytes) encode_record(rows[i].r, rows[i].received_ms, p);
  return blob;
}

}  // namespace

struct SqliteStore::Impl {
  SqliteOptions options;
  int lock_fd = -1;        // holds the writer lock when >= 0
  bool primary = false;    // stages appends (holds the writer lock)

  std::mutex write_mu;
  std::unique_ptr<Db> writer;                          // guarded by write_mu
  int64_t writer_data_version = -1;                    // guarded by write_mu
  // Set once another connection has committed since open (or while recovering staged batches of
  // an earlier run): compaction must then re-check staged rows against chunks for duplicates.
  bool foreign_writes = true;                          // guarded by write_mu
  std::unordered_map<int64_t, ChunkFacts> facts;       // guarded by write_mu; dropped on foreign commits
  std::unordered_map<int64_t, Tail> tails;             // guarded by write_mu; newest over chunks + staged
  std::unordered_map<int64_t, std::unordered_set<uint64_t>> staged_seqs;  // guarded by write_mu
  std::unordered_map<int64_t, uint64_t> staged_max_seq;                   // guarded by write_mu
  struct StagedBatch {
    int64_t id;
    std::size_t n;
    std::chrono::steady_clock::time_point at;
  };
  std::deque<StagedBatch> staged_batches;              // guarded by write_mu
  std::size_t staged_count = 0;                        // guarded by write_mu
  struct Cycle {
    bool active = false;
    int64_t upto_id = 0;              // staging batches up to this id are being compacted
    std::vector<int64_t> keys;        // meters with such readings, ascending
    std::size_t pos = 0;              // keys[0, pos) are done
  };
  Cycle cycle;                                         // guarded by write_mu
  std::vector<Row> compact_buffer;                     // guarded by write_mu

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

  void checkpoint_loop() {
    std::unique_lock lk(ckpt_mu);
    int64_t wait_ms = 1000;
    while (!ckpt_cv.wait_for(lk, std::chrono::milliseconds(wait_ms), [&] { return ckpt_stop; })) {
      lk.unlock();
      int64_t wal_pages = 0;
      if (auto s = checkpoint_db->prepare("PRAGMA wal_checkpoint(PASSIVE)"); s.ok() && s->step() == SQLITE_ROW) {
        wal_pages = s->int64(1) - s->int64(2);  // frames in the WAL not yet copied back
      }
      wait_ms = wal_pages > 4000 ? 100 : 1000;  // catch up faster when ingest is heavy
      lk.lock();
    }
  }

  void stop_checkpointer() {
    if (!checkpointer.joinable()) return;
    {
      std::lock_guard lk(ckpt_mu);
      ckpt_stop = true;
    }
    ckpt_cv.notify_all();
    checkpointer.join();
    (void)checkpoint_db->exec("PRAGMA wal_checkpoint(TRUNCATE)");  // leave a small WAL behind
  }

  ~Impl() {
    stop_checkpointer();
    if (lock_fd >= 0) ::close(lock_fd);  // releases the flock
  }

  // A reader connection for the duration of one call.
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
    Db& db() { return *db_; }

   private:
    Impl& impl_;
    std::unique_ptr<Db> db_;
  };

  std::optional<int64_t> cached_key(std::string_view id) {
    std::shared_lock lk(keys_mu);
    auto it = keys.find(std::string(id));
    if (it == keys.end()) return std::nullopt;
    return it->second;
  }

  void remember_key(const std::string& id, int64_t key) {
    std::unique_lock lk(keys_mu);
    keys.emplace(id, key);
  }

  // kNotFound, or an I/O error.
  StoreResult<int64_t> key_of(Db& db, std::string_view id) {
    if (auto k = cached_key(id)) return *k;
    auto s = db.prepare("SELECT key FROM meters WHERE id=?");
    if (!s.ok()) return s.error();
    s->bind(1, id);
    const int rc = s->step();
    if (rc == SQLITE_ROW) {
      const int64_t key = s->int64(0);
      remember_key(std::string(id), key);
      return key;
    }
    if (rc == SQLITE_DONE) return StoreStatus::error(StoreCode::kNotFound, "unknown meter " + std::string(id));
    return db.error_from(rc, "meter lookup");
  }

  // Copy of a meter's staged rows (readers).
  std::vector<Row> staged_copy(int64_t key) {
    auto it = staged.find(key);
    return it == staged.end() ? std::vector<Row>() : it->second;
  }

  // ---- writer side; every function below REQUIRES write_mu held.

  void drop_writer_caches() {
    facts.clear();
    tails.clear();
  }

  StoreStatus refresh_writer_view() {
    auto s = writer->prepare("PRAGMA data_version");
    if (!s.ok()) return s.error();
    if (s->step() != SQLITE_ROW) return writer->last_error("data_version");
    const int64_t v = s->int64(0);
    if (v != writer_data_version) {
      if (writer_data_version != -1) foreign_writes = true;
      drop_writer_caches();  // another connection committed: what we know of chunks may be stale
      writer_data_version = v;
    }
    return StoreStatus::ok_status();
  }

  StoreResult<ChunkFacts*> facts_of(int64_t key) {
    auto it = facts.find(key);
    if (it != facts.end()) return &it->second;
    Db& db = *writer;
    ChunkFacts f;
    {
      auto s = db.prepare("SELECT max(seq_last) FROM raw_chunks WHERE meter=?");
      if (!s.ok()) return s.error();
      s->bind(1, key);
      if (s->step() != SQLITE_ROW) return db.last_error("reading chunk facts");
      if (!s->is_null(0)) {
        f.has_chunks = true;
        f.max_seq = static_cast<uint64_t>(s->int64(0));
      }
    }
    if (f.has_chunks) {
      auto s = db.prepare(
          "SELECT id,n,t_first,t_last,seq_first,seq_last FROM raw_chunks WHERE meter=? ORDER BY t_first DESC, id DESC "
          "LIMIT 1");
      if (!s.ok()) return s.error();
      s->bind(1, key);
      if (s->step() == SQLITE_ROW) {
        f.has_newest = true;
        f.newest_id = s->int64(0);
        f.newest_n = s->int64(1);
        f.newest_t_first = s->int64(2);
        f.newest_t_last = s->int64(3);
        f.newest_seq_first = static_cast<uint64_t>(s->int64(4));
        f.newest_seq_last = static_cast<uint64_t>(s->int64(5));
      }
      auto newest = newest_chunk_reading_before(db, key, INT64_MAX);
      if (!newest.ok()) return newest.error();
      if (newest.value()) {
        const Reading& r = newest.value()->r;
        f.tail = Tail{true, r.time_ms, r.seq, r.e_import_wh, r.e_export_wh};
      }
    }
    return &facts.emplace(key, f).first->second;
  }

  StoreResult<Tail*> tail_of(int64_t key) {
    auto it = tails.find(key);
    if (it != tails.end()) return &it->second;
    auto f = facts_of(key);
    if (!f.ok()) return f.error();
    Tail t = f.value()->tail;
    auto st = staged.find(key);  // the writer may read staged without mem_mu: only it mutates it
    if (st != staged.end()) {
      for (const Row& r : st->second) {
        if (!t.has || r.r.time_ms > t.time_ms || (r.r.time_ms == t.time_ms && r.r.seq > t.seq)) {
          t = Tail{true, r.r.time_ms, r.r.seq, r.r.e_import_wh, r.r.e_export_wh};
        }
      }
    }
    return &tails.emplace(key, t).first->second;
  }

  StoreStatus flush_rollup(Resolution res, int64_t key, int64_t bucket, const RollupAccumulator& a) {
    auto s = writer->prepare(rollup_sql(res).upsert.c_str());
    if (!s.ok()) return s.error();
    int c = 1;
    s->bind(c++, key);
    s->bind(c++, bucket);
    s->bind(c++, a.n);
    s->bind(c++, a.p_sum);
    s->bind(c++, a.p_min);
    s->bind(c++, a.p_max);
    s->bind(c++, a.v_sum);
    s->bind(c++, a.v_min);
    s->bind(c++, a.v_max);
    s->bind(c++, a.i_sum);
    s->bind(c++, a.s_sum);
    s->bind(c++, a.q_sum);
    s->bind(c++, a.pf_sum);
    s->bind(c++, a.f_sum);
    s->bind(c++, a.first_ms);
    s->bind(c++, a.first_imp);
    s->bind(c++, a.first_exp);
    s->bind(c++, a.last_ms);
    s->bind(c++, a.last_imp);
    s->bind(c++, a.last_exp);
    s->bind(c++, a.flags);
    return step_done(*writer, *s, "updating rollup");
  }

  StoreStatus insert_chunk(int64_t key, const std::vector<Row>& rows, std::size_t b, std::size_t e, ChunkFacts* f,
                           bool becomes_newest) {
    auto s = writer->prepare(
        "INSERT INTO raw_chunks(meter,t_first,t_last,seq_first,seq_last,n,data) VALUES(?,?,?,?,?,?,?)");
    if (!s.ok()) return s.error();
    uint64_t seq_first = rows[b].r.seq, seq_last = rows[b].r.seq;
    for (std::size_t i = b; i < e; ++i) {
      seq_first = std::min(seq_first, rows[i].r.seq);
      seq_last = std::max(seq_last, rows[i].r.seq);
    }
    const std::string blob = encode_records(rows, b, e);
    s->bind(1, key);
    s->bind(2, rows[b].r.time_ms);
    s->bind(3, rows[e - 1].r.time_ms);
    s->bind(4, seq_first);
    s->bind(5, seq_last);
    s->bind(6, static_cast<int64_t>(e - b));
    sqlite3_bind_blob(s->handle(), 7, blob.data(), static_cast<int>(blob.size()), SQLITE_STATIC);
    if (auto st = step_done(*writer, *s, "inserting raw chunk"); !st.ok()) return st;
    if (becomes_newest) {
      f->has_newest = true;
      f->newest_id = writer->last_insert_rowid();
      f->newest_n = static_cast<int64_t>(e - b);
      f->newest_t_first = rows[b].r.time_ms;
      f->newest_t_last = rows[e - 1].r.time_ms;
      f->newest_seq_first = seq_first;
      f->newest_seq_last = seq_last;
    }
    return StoreStatus::ok_status();
  }

  // Writes rows of one meter (sorted by time, seq; not yet stored) into chunks: in-order rows first
  // extend the meter's newest chunk, the rest become new chunks of at most 128 readings and 1 h.
  StoreStatus write_meter_chunks(int64_t key, const std::vector<Row>& rows, std::size_t b, std::size_t e) {
    auto fr = facts_of(key);
    if (!fr.ok()) return fr.error();
    ChunkFacts* f = fr.value();
    std::size_t i = b;
    // Late rows (older than the newest chunk's end) go to chunks of their own.
    std::size_t late_end = b;
    if (f->has_newest) {
      while (late_end < e && rows[late_end].r.time_ms < f->newest_t_last) ++late_end;
    }
    auto emit_chunks = [&](std::size_t from, std::size_t to, bool last_becomes_newest) -> StoreStatus {
      std::size_t start = from;
      while (start < to) {
        std::size_t end = start + 1;
        while (end < to && static_cast<int64_t>(end - start) < kChunkMaxReadings &&
               rows[end].r.time_ms - rows[start].r.time_ms <= kChunkMaxSpanMs) {
          ++end;
        }
        if (auto st = insert_chunk(key, rows, start, end, f, last_becomes_newest && end == to); !st.ok()) return st;
        start = end;
      }
      return StoreStatus::ok_status();
    };
    if (late_end > b) {
      if (auto st = emit_chunks(b, late_end, false); !st.ok()) return st;
    }
    i = late_end;
    if (i < e && f->has_newest) {
      std::size_t fit = i;
      while (fit < e && f->newest_n + static_cast<int64_t>(fit - i) < kChunkMaxReadings &&
             rows[fit].r.time_ms - f->newest_t_first <= kChunkMaxSpanMs) {
        ++fit;
      }
      if (fit > i) {
        uint64_t seq_first = f->newest_seq_first, seq_last = f->newest_seq_last;
        for (std::size_t k = i; k < fit; ++k) {
          seq_first = std::min(seq_first, rows[k].r.seq);
          seq_last = std::max(seq_last, rows[k].r.seq);
        }
        const std::string blob = encode_records(rows, i, fit);
        auto s = writer->prepare(
            "UPDATE raw_chunks SET data=data||?, n=n+?, t_last=?, seq_first=?, seq_last=? WHERE id=?");
        if (!s.ok()) return s.error();
        sqlite3_bind_blob(s->handle(), 1, blob.data(), static_cast<int>(blob.size()), SQLITE_STATIC);
        s->bind(2, static_cast<int64_t>(fit - i));
        s->bind(3, rows[fit - 1].r.time_ms);
        s->bind(4, seq_first);
        s->bind(5, seq_last);
        s->bind(6, f->newest_id);
        if (auto st = step_done(*writer, *s, "extending raw chunk"); !st.ok()) return st;
        f->newest_n += static_cast<int64_t>(fit - i);
        f->newest_t_last = rows[fit - 1].r.time_ms;
        f->newest_seq_first = seq_first;
        f->newest_seq_last = seq_last;
        i = fit;
      }
    }
    if (i < e) {
      if (auto st = emit_chunks(i, e, true); !st.ok()) return st;
    }
    f->has_chunks = true;
    for (std::size_t k = b; k < e; ++k) {
      f->max_seq = std::max(f->max_seq, rows[k].r.seq);
      const Reading& r = rows[k].r;
      if (!f->tail.has || r.time_ms > f->tail.time_ms || (r.time_ms == f->tail.time_ms && r.seq > f->tail.seq)) {
        f->tail = Tail{true, r.time_ms, r.seq, r.e_import_wh, r.e_export_wh};
      }
    }
    return StoreStatus::ok_status();
  }

  // Stores rows (sorted by key, time, seq) in chunks and rollups, skipping any whose (meter, seq) a
  // chunk already holds (another process may have stored it). Inside the caller's transaction.
  StoreStatus write_rows(std::vector<Row>& rows, std::vector<std::size_t>* skipped) {
    std::size_t b = 0;
    std::vector<Row> fresh;  // only used when some rows turn out to be stored already
    while (b < rows.size()) {
      std::size_t e = b;
      while (e < rows.size() && rows[e].key == rows[b].key) ++e;
      const int64_t key = rows[b].key;
      auto fr = facts_of(key);
      if (!fr.ok()) return fr.error();
      // In a single-writer run, staged rows were already checked against chunks when appended.
      const bool may_exist = fr.value()->has_chunks && (foreign_writes || !primary);
      const uint64_t chunk_max = fr.value()->max_seq;
      const std::vector<Row>* src = &rows;
      std::size_t sb = b, se = e;
      if (may_exist) {
        fresh.clear();
        for (std::size_t i = b; i < e; ++i) {
          if (rows[i].r.seq <= chunk_max) {
            auto has = chunk_has_seq(*writer, key, rows[i].r.seq);
            if (!has.ok()) return has.error();
            if (has.value()) {
              skipped->push_back(rows[i].index);
              continue;
            }
          }
          fresh.push_back(rows[i]);
        }
        src = &fresh;
        sb = 0;
        se = fresh.size();
      }
      if (se > sb) {
        if (auto st = write_meter_chunks(key, *src, sb, se); !st.ok()) return st;
        for (std::size_t ri = 1; ri < kAllResolutions.size(); ++ri) {
          const Resolution res = kAllResolutions[ri];
          const int64_t len = resolution_ms(res);
          RollupAccumulator acc;
          int64_t bucket = bucket_start((*src)[sb].r.time_ms, len);
          for (std::size_t k = sb; k < se; ++k) {
            const Row& row = (*src)[k];
            const int64_t bk = bucket_start(row.r.time_ms, len);
            if (bk != bucket) {
              if (auto st = flush_rollup(res, key, bucket, acc); !st.ok()) return st;
              acc = RollupAccumulator{};
              bucket = bk;
            }
            acc.add(row.r);
          }
          if (auto st = flush_rollup(res, key, bucket, acc); !st.ok()) return st;
        }
      }
      b = e;
    }
    return StoreStatus::ok_status();
  }

  // Loads the staging table into memory (at open, when this process becomes the writer): batches
  // left by an earlier run, minus the meters an interrupted compaction cycle already moved.
  StoreStatus load_staging() {
    Db& db = *writer;
    int64_t done_upto = -1, done_key = -1;
    {
      auto s = db.prepare("SELECT upto_id,done_key FROM compaction_progress WHERE id=1");
      if (!s.ok()) return s.error();
      if (s->step() == SQLITE_ROW) {
        done_upto = s->int64(0);
        done_key = s->int64(1);
      }
    }
    auto s = db.prepare("SELECT id,n,data FROM staging ORDER BY id");
    if (!s.ok()) return s.error();
    int rc;
    std::unique_lock lk(mem_mu);
    while ((rc = s->step()) == SQLITE_ROW) {
      const int64_t id = s->int64(0);
      const auto n = static_cast<std::size_t>(s->int64(1));
      const auto* data = static_cast<const uint8_t*>(sqlite3_column_blob(s->handle(), 2));
      const auto bytes = static_cast<std::size_t>(sqlite3_column_bytes(s->handle(), 2));
      if (data == nullptr || bytes < n * kStagedRecordBytes) {
        return StoreStatus::error(StoreCode::kCorruption, "staging batch " + std::to_string(id) +
                                                              " is damaged (" + std::to_string(bytes) + " bytes for " +
                                                              std::to_string(n) + " readings)");
      }
      std::size_t kept = 0;
      for (std::size_t i = 0; i < n; ++i) {
        Row row;
        std::memcpy(&row.key, data + i * kStagedRecordBytes, 8);
        if (id <= done_upto && row.key <= done_key) continue;  // compacted before the interruption
        decode_record(data + i * kStagedRecordBytes + 8, &row.r, &row.received_ms);
        row.staging_id = id;
        staged_seqs[row.key].insert(row.r.seq);
        uint64_t& mx = staged_max_seq[row.key];
        mx = std::max(mx, row.r.seq);
        staged[row.key].push_back(std::move(row));
        ++kept;
      }
      staged_batches.push_back({id, n, std::chrono::steady_clock::now()});
      staged_count += kept;
    }
    if (rc != SQLITE_DONE) return db.error_from(rc, "reading staging");
    if (done_upto >= 0) {
      // Resume the interrupted cycle with the meters it had not reached.
      cycle = Cycle{true, done_upto, {}, 0};
      for (const auto& [key, rows] : staged) {
        if (key > done_key && !rows.empty() && rows.front().staging_id <= done_upto) cycle.keys.push_back(key);
      }
      std::sort(cycle.keys.begin(), cycle.keys.end());
    }
    return StoreStatus::ok_status();
  }

  // One compaction step. A cycle moves every reading staged up to `upto_id` into chunks and
  // rollups, a range of meters per step (so no step touches more than compact_step_meters
  // meters, which is what a step's time depends on), recording its progress in the same
  // transaction; the last step deletes the cycle's staging rows.
  StoreStatus compact_step() {
    if (auto st = refresh_writer_view(); !st.ok()) return st;
    if (!cycle.active) {
      if (staged_batches.empty()) return StoreStatus::ok_status();
      cycle = Cycle{true, staged_batches.back().id, {}, 0};
      for (const auto& [key, rows] : staged) {
        if (!rows.empty()) cycle.keys.push_back(key);
      }
      std::sort(cycle.keys.begin(), cycle.keys.end());
    }
    std::vector<Row>& rows = compact_buffer;  // reused: its capacity stays mapped between steps
    rows.clear();
    const std::size_t first = cycle.pos;
    std::size_t last = first;  // meters [first, last) of cycle.keys in this step
    while (last < cycle.keys.size() && last - first < options.compact_step_meters &&
           rows.size() < options.compact_step_readings) {
      auto it = staged.find(cycle.keys[last]);
      if (it != staged.end()) {
        for (const Row& r : it->second) {
          if (r.staging_id > cycle.upto_id) break;  // staged after the cycle began
          rows.push_back(r);
        }
      }
      ++last;
    }
    const bool finishes = last == cycle.keys.size();
    std::sort(rows.begin(), rows.end(), by_key_time_seq);
    Db& db = *writer;
    Transaction txn(db);
    if (auto st = txn.begin_immediate(); !st.ok()) return st;
    std::vector<std::size_t> skipped;
    StoreStatus st = write_rows(rows, &skipped);
    if (st.ok()) {
      if (finishes) {
        auto del = db.prepare("DELETE FROM staging WHERE id<=?");
        if (!del.ok()) return del.error();
        del->bind(1, cycle.upto_id);
        st = step_done(db, *del, "deleting compacted staging");
        if (st.ok()) st = db.exec("DELETE FROM compaction_progress");
      } else {
        auto prog = db.prepare(
            "INSERT INTO compaction_progress(id,upto_id,done_key) VALUES(1,?,?) "
            "ON CONFLICT(id) DO UPDATE SET upto_id=excluded.upto_id, done_key=excluded.done_key");
        if (!prog.ok()) return prog.error();
        prog->bind(1, cycle.upto_id);
        prog->bind(2, cycle.keys[last - 1]);
        st = step_done(db, *prog, "recording compaction progress");
      }
    }
    if (!st.ok()) {
      drop_writer_caches();
      return st;
    }
    std::size_t removed = 0;
    {
      std::unique_lock lk(mem_mu);  // readers never see a row both compacted and staged
      if (st = txn.commit(); !st.ok()) {
        drop_writer_caches();
        return st;
      }
      for (std::size_t k = first; k < last; ++k) {
        auto it = staged.find(cycle.keys[k]);
        if (it == staged.end()) continue;
        auto& v = it->second;
        auto end = std::find_if(v.begin(), v.end(), [&](const Row& r) { return r.staging_id > cycle.upto_id; });
        auto seqs = staged_seqs.find(it->first);
        for (auto r = v.begin(); r != end; ++r) {
          if (seqs != staged_seqs.end()) seqs->second.erase(r->r.seq);
        }
        removed += static_cast<std::size_t>(end - v.begin());
        v.erase(v.begin(), end);
        if (seqs != staged_seqs.end() && seqs->second.empty()) {
          staged_seqs.erase(seqs);
          staged_max_seq.erase(it->first);
        }
        if (v.empty()) staged.erase(it);
      }
    }
    staged_count -= std::min(staged_count, removed);
    cycle.pos = last;
    if (finishes) {
      while (!staged_batches.empty() && staged_batches.front().id <= cycle.upto_id) staged_batches.pop_front();
      cycle = Cycle{};
    }
    return StoreStatus::ok_status();
  }

  bool compaction_due() const {
    if (cycle.active) return true;
    if (staged_batches.empty()) return false;
    if (staged_count >= options.staging_max_readings) return true;
    return std::chrono::steady_clock::now() - staged_batches.front().at >=
           std::chrono::milliseconds(options.staging_max_age_ms);
  }

  StoreStatus compact_all() {
    while (cycle.active || !staged_batches.empty()) {
      if (auto st = compact_step(); !st.ok()) return st;
    }
    return StoreStatus::ok_status();
  }
};
SqliteStore::SqliteStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SqliteStore::~SqliteStore() {
  if (impl_->primary && impl_->options.compact_on_close) {
    std::lock_guard lk(impl_->write_mu);
    (void)impl_->compact_all();  // best effort: staged batches are durable and compacted on the next open
  }
  impl_->stop_checkpointer();
}

const std::string& SqliteStore::path() const { return impl_->options.path; }
bool SqliteStore::is_primary_writer() const { return impl_->primary; }

StoreStatus SqliteStore::compact() {
  std::lock_guard lk(impl_->write_mu);
  return impl_->compact_all();
}

StoreResult<std::unique_ptr<SqliteStore>> SqliteStore::open(const SqliteOptions& options) {
  if (options.path.empty()) return StoreStatus::error(StoreCode::kInvalidArgument, "database path is empty");
  if (options.reader_connections < 1) {
    return StoreStatus::error(StoreCode::kInvalidArgument, "reader_connections must be at least 1");
  }
  if (options.compact_step_readings == 0 || options.compact_step_meters == 0) {
    return StoreStatus::error(StoreCode::kInvalidArgument, "compact_step_readings and compact_step_meters must be at least 1");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  auto writer = Db::open(options.path, options.busy_timeout_ms);
  if (!writer.ok()) return writer.error();
  impl->writer = std::move(writer.value());
  Db& w = *impl->writer;
  // journal_mode=WAL is the first real access: a file that is not a database fails here.
  if (auto s = w.exec("PRAGMA journal_mode=WAL"); !s.ok()) {
    return StoreStatus::error(StoreCode::kCorruption, options.path + " is not a usable wattguard database: " + s.message);
  }
  const std::string pragmas = std::string("PRAGMA synchronous=") + (options.synchronous_full ? "FULL" : "NORMAL") +
                              "; PRAGMA cache_size=-" + std::to_string(options.cache_mib * 1024) +
                              "; PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=8000;";
  if (auto s = w.exec(pragmas); !s.ok()) return s;
  if (auto s = migrate_schema(w, kSchemaVersion); !s.ok()) return s;
  if (auto s = w.exec("PRAGMA quick_check(1)"); !s.ok()) return s;

  // The writer lock decides who stages; the others write straight to chunks.
  const std::string lock_path = options.path + "-writer.lock";
  impl->lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (impl->lock_fd >= 0 && ::flock(impl->lock_fd, LOCK_EX | LOCK_NB) == 0) {
    impl->primary = true;
    // Batches staged by a previous run (crash or kill) are compacted now, checking for duplicates.
    impl->foreign_writes = true;
    if (auto s = impl->load_staging(); !s.ok()) return s;
    if (auto s = impl->compact_all(); !s.ok()) return s;
    impl->foreign_writes = false;
    auto ckpt = Db::open(options.path, options.busy_timeout_ms);
    if (!ckpt.ok()) return ckpt.error();
    impl->checkpoint_db = std::move(ckpt.value());
    if (auto s = w.exec("PRAGMA wal_autocheckpoint=0"); !s.ok()) return s;
    Impl* raw = impl.get();
    impl->checkpointer = std::thread([raw] { raw->checkpoint_loop(); });
  } else if (impl->lock_fd >= 0) {
    ::close(impl->lock_fd);
    impl->lock_fd = -1;
  }

  for (int i = 0; i < options.reader_connections; ++i) {
    auto r = Db::open(options.path, options.busy_timeout_ms);
    if (!r.ok()) return r.error();
    if (auto s = r.value()->exec("PRAGMA query_only=1; PRAGMA cache_size=-16384; PRAGMA mmap_size=268435456;");
        !s.ok()) {
      return s;
    }
    impl->idle_readers.push_back(std::move(r.value()));
  }
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(impl)));
}

// ---------------------------------------------------------------- readings

StoreResult<AppendResult> SqliteStore::append_readings(std::span<const Reading> readings, int64_t received_ms) {
  AppendResult result;
  std::vector<uint32_t> order;
  order.reserve(readings.size());
  const protocol::DecodeContext no_clock{};
  for (std::size_t i = 0; i < readings.size(); ++i) {
    if (auto v = protocol::validate(readings[i], no_clock); !v.ok()) {
      result.refused.push_back({i, protocol::rejection_of(v.error()), protocol::describe(v.error())});
    } else {
      order.push_back(static_cast<uint32_t>(i));
    }
  }

  Impl& m = *impl_;
  std::lock_guard lk(m.write_mu);
  Db& db = *m.writer;
  if (auto s = m.refresh_writer_view(); !s.ok()) return s;

  // Resolve meter keys; unknown meters are refused.
  std::vector<int64_t> keys(readings.size(), -1);
  {
    std::size_t kept = 0;
    const std::string* last_id = nullptr;
    int64_t last_key = -1;
    for (uint32_t i : order) {
      const std::string& id = readings[i].meter_id;
      if (last_id == nullptr || *last_id != id) {
        auto k = m.key_of(db, id);
        if (!k.ok()) {
          if (k.error().code != StoreCode::kNotFound) return k.error();
          last_key = -1;
        } else {
          last_key = k.value();
        }
        last_id = &id;
      }
      if (last_key < 0) {
        result.refused.push_back({i, protocol::Rejection::kUnknownMeter, "meter " + id + " is not provisioned"});
        continue;
      }
      keys[i] = last_key;
      order[kept++] = i;
    }
    order.resize(kept);
  }
  std::sort(result.refused.begin(), result.refused.end(),
            [](const AppendResult::Refused& a, const AppendResult::Refused& b) { return a.index < b.index; });
  if (order.empty()) return result;

  // Oldest first per meter, so in-batch order never looks like a late reading or a rollback.
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    if (keys[a] != keys[b]) return keys[a] < keys[b];
    if (readings[a].time_ms != readings[b].time_ms) return readings[a].time_ms < readings[b].time_ms;
    if (readings[a].seq != readings[b].seq) return readings[a].seq < readings[b].seq;
    return a < b;  // of two copies, the first in the batch is the one stored
  });

  Transaction txn(db);
  if (auto s = txn.begin_immediate(); !s.ok()) return s;
  // On any failure the writer-side caches are rebuilt from the database.
  std::vector<std::pair<int64_t, uint64_t>> added_seqs;
  struct Undo {
    Impl& m;
    std::vector<std::pair<int64_t, uint64_t>>& added;
    bool committed = false;
    ~Undo() {
      if (committed) return;
      for (const auto& [key, seq] : added) {
        auto it = m.staged_seqs.find(key);
        if (it != m.staged_seqs.end()) it->second.erase(seq);
      }
      m.staged_max_seq.clear();
      for (const auto& [key, set] : m.staged_seqs) {
        if (!set.empty()) m.staged_max_seq[key] = *std::max_element(set.begin(), set.end());
      }
      m.drop_writer_caches();
    }
  } undo{m, added_seqs};

  std::vector<Row> accepted;
  accepted.reserve(order.size());
  std::vector<PendingEvent> events;
  std::unordered_set<uint64_t> batch_seqs;  // direct mode: duplicates inside this batch
  int64_t batch_key = -1;
  for (uint32_t i : order) {
    const Reading& r = readings[i];
    const int64_t key = keys[i];
    if (key != batch_key) {
      batch_seqs.clear();
      batch_key = key;
    }
    auto fr = m.facts_of(key);
    if (!fr.ok()) return fr.error();
    const ChunkFacts& f = *fr.value();
    // Duplicate? New sequence numbers (above everything stored) need no lookup.
    bool duplicate = false;
    if (m.primary) {
      auto& seqs = m.staged_seqs[key];
      duplicate = seqs.count(r.seq) > 0;
    } else {
      duplicate = batch_seqs.count(r.seq) > 0;
    }
    if (!duplicate && f.has_chunks && r.seq <= f.max_seq) {
      auto has = chunk_has_seq(db, key, r.seq);
      if (!has.ok()) return has.error();
      duplicate = has.value();
    }
    if (duplicate) {
      ++result.duplicates;
      result.duplicate_indices.push_back(i);
      continue;
    }
    if (m.primary) {
      m.staged_seqs[key].insert(r.seq);
      added_seqs.emplace_back(key, r.seq);
      uint64_t& mx = m.staged_max_seq[key];
      mx = std::max(mx, r.seq);
    } else {
      batch_seqs.insert(r.seq);
    }

    auto tr = m.tail_of(key);
    if (!tr.ok()) return tr.error();
    Tail& tail = *tr.value();
    if (!tail.has || r.time_ms > tail.time_ms || (r.time_ms == tail.time_ms && r.seq > tail.seq)) {
      if (tail.has) {
        if (auto e = rollback_between(key, tail.seq, tail.imp, tail.exp, r.seq, r.e_import_wh, r.e_export_wh,
                                      r.time_ms, r.meter_id)) {
          events.push_back(std::move(*e));
        }
      }
      tail = Tail{true, r.time_ms, r.seq, r.e_import_wh, r.e_export_wh};
    } else {
      // Late (store-and-forward): compare with its neighbours by time among chunks, staged rows
      // and this batch.
      ++result.late;
      auto prev_chunk = newest_chunk_reading_before(db, key, r.time_ms);
      if (!prev_chunk.ok()) return prev_chunk.error();
      auto next_chunk = oldest_chunk_reading_after(db, key, r.time_ms);
      if (!next_chunk.ok()) return next_chunk.error();
      std::optional<Row> prev = prev_chunk.value(), next = next_chunk.value();
      auto consider = [&](const Row& o) {
        if (o.r.time_ms < r.time_ms && (!prev || by_time_seq(*prev, o))) prev = o;
        if (o.r.time_ms > r.time_ms && (!next || by_time_seq(o, *next))) next = o;
      };
      if (auto st = m.staged.find(key); st != m.staged.end()) {
        for (const Row& o : st->second) consider(o);
      }
      for (auto it = accepted.rbegin(); it != accepted.rend() && it->key == key; ++it) consider(*it);
      if (prev) {
        if (auto e = rollback_between(key, prev->r.seq, prev->r.e_import_wh, prev->r.e_export_wh, r.seq,
                                      r.e_import_wh, r.e_export_wh, r.time_ms, r.meter_id)) {
          events.push_back(std::move(*e));
        }
      }
      if (next) {
        if (auto e = rollback_between(key, r.seq, r.e_import_wh, r.e_export_wh, next->r.seq, next->r.e_import_wh,
                                      next->r.e_export_wh, next->r.time_ms, r.meter_id)) {
          events.push_back(std::move(*e));
        }
      }
    }
    Row row;
    row.key = key;
    row.received_ms = received_ms;
    row.index = i;
    row.r = r;
    accepted.push_back(std::move(row));
  }
  result.stored = accepted.size();

  int64_t staging_id = 0;
  if (!accepted.empty()) {
    if (m.primary) {
      std::string blob(accepted.size() * kStagedRecordBytes, '\0');
      auto* p = reinterpret_cast<uint8_t*>(blob.data());
      for (const Row& row : accepted) {
        std::memcpy(p, &row.key, 8);
        encode_record(row.r, row.received_ms, p + 8);
        p += kStagedRecordBytes;
      }
      auto s = db.prepare("INSERT INTO staging(received_ms,n,data) VALUES(?,?,?)");
      if (!s.ok()) return s.error();
      s->bind(1, received_ms);
      s->bind(2, static_cast<int64_t>(accepted.size()));
      sqlite3_bind_blob(s->handle(), 3, blob.data(), static_cast<int>(blob.size()), SQLITE_STATIC);
      if (auto st = step_done(db, *s, "staging readings"); !st.ok()) return st;
      staging_id = db.last_insert_rowid();
    } else {
      std::vector<std::size_t> skipped;
      if (auto st = m.write_rows(accepted, &skipped); !st.ok()) return st;
      result.stored -= skipped.size();
      result.duplicates += skipped.size();
      result.duplicate_indices.insert(result.duplicate_indices.end(), skipped.begin(), skipped.end());
    }
  }

  for (PendingEvent& pe : events) {
    auto s = db.prepare(
        "INSERT OR IGNORE INTO events(meter,time_ms,kind,edge,source,details,received_ms) VALUES(?,?,?,?,?,?,?)");
    if (!s.ok()) return s.error();
    s->bind(1, pe.meter_key);
    s->bind(2, pe.event.time_ms);
    s->bind(3, protocol::event_kind_name(pe.event.kind));
    s->bind(4, protocol::event_edge_name(pe.event.edge));
    s->bind(5, event_source_name(EventSource::kServer));
    s->bind(6, pe.event.details);
    s->bind(7, received_ms);
    if (auto st = step_done(db, *s, "inserting event"); !st.ok()) return st;
    if (db.changes() == 1) {
      result.events.push_back(StoredEvent{db.last_insert_rowid(), std::move(pe.event), EventSource::kServer, received_ms});
      ++result.rollbacks;
    }
  }

  if (auto s = txn.commit(); !s.ok()) return s;
  undo.committed = true;
  std::sort(result.duplicate_indices.begin(), result.duplicate_indices.end());
  if (m.primary && staging_id > 0) {
    {
      std::unique_lock mem(m.mem_mu);
      for (Row& row : accepted) {
        row.staging_id = staging_id;
        row.r.meter_id.clear();  // readers fill it in; saves memory per staged row
        m.staged[row.key].push_back(std::move(row));
      }
    }
    m.staged_batches.push_back({staging_id, accepted.size(), std::chrono::steady_clock::now()});
    m.staged_count += accepted.size();
    if (m.compaction_due()) {
      // One bounded step per append keeps the latency of any one call bounded.
      if (auto s = m.compact_step(); !s.ok()) return s;
    }
  }
  return result;
}

StoreResult<std::vector<Reading>> SqliteStore::raw_readings(std::string_view meter_id, int64_t from_ms, int64_t to_ms,
                                                            std::size_t limit) {
  Impl& m = *impl_;
  Impl::Lease lease(m);
  Db& db = lease.db();
  auto key = m.key_of(db, meter_id);
  if (!key.ok()) return key.error();
  std::vector<Row> rows;
  {
    std::shared_lock mem(m.mem_mu);
    if (auto s = chunks_in_range(db, key.value(), from_ms, to_ms, &rows); !s.ok()) return s;
    if (auto it = m.staged.find(key.value()); it != m.staged.end()) {
      for (const Row& r : it->second) {
        if (r.r.time_ms >= from_ms && r.r.time_ms < to_ms) rows.push_back(r);
      }
    }
  }
  std::erase_if(rows, [&](const Row& r) { return r.r.time_ms < from_ms || r.r.time_ms >= to_ms; });
  std::sort(rows.begin(), rows.end(), by_time_seq);
  if (rows.size() > limit) rows.resize(limit);
  std::vector<Reading> out;
  out.reserve(rows.size());
  for (Row& r : rows) {
    r.r.meter_id = std::string(meter_id);
    out.push_back(std::move(r.r));
  }
  return out;
}

StoreResult<AggregateSeries> SqliteStore::readings(std::string_view meter_id, int64_t from_ms, int64_t to_ms,
                                                   int64_t step_ms, std::size_t max_points) {
  constexpr int64_t kMaxTimeMs = int64_t{1} << 50;  // year ~37,600: keeps the arithmetic below from overflowing
  if (step_ms <= 0) return StoreStatus::error(StoreCode::kInvalidArgument, "step must be positive");
  if (from_ms >= to_ms) return StoreStatus::error(StoreCode::kInvalidArgument, "from must be before to");
  if (from_ms < 0 || to_ms > kMaxTimeMs || step_ms > kMaxTimeMs) {
    return StoreStatus::error(StoreCode::kInvalidArgument, "from, to or step out of range");
  }
  AggregateSeries series;
  series.source = Resolution::kRaw;
  for (auto it = kAllResolutions.rbegin(); it != kAllResolutions.rend(); ++it) {
    if (*it != Resolution::kRaw && resolution_ms(*it) <= step_ms) {
      series.source = *it;
      break;
    }
  }
  const int64_t res_ms = resolution_ms(series.source);
  series.step_ms = step_ms;
  if (res_ms > 0) {
    const int64_t multiple = std::max<int64_t>(1, (step_ms + res_ms / 2) / res_ms);
    series.step_ms = multiple * res_ms;
  }
  const int64_t step = series.step_ms;
  const int64_t aligned_from = bucket_start(from_ms, step);
  const int64_t buckets = (to_ms - aligned_from + step - 1) / step;
  if (buckets > static_cast<int64_t>(max_points)) {
    return StoreStatus::error(StoreCode::kInvalidArgument, "range / step gives " + std::to_string(buckets) +
                                                               " points, more than " + std::to_string(max_points));
  }

  Impl& m = *impl_;
  Impl::Lease lease(m);
  Db& db = lease.db();
  auto key_result = m.key_of(db, meter_id);
  if (!key_result.ok()) return key_result.error();
  const int64_t key = key_result.value();

  // Step buckets; the register before the range (time, import, export) for the first bucket's energy.
  std::map<int64_t, RollupAccumulator> acc;
  std::optional<std::tuple<int64_t, double, double>> prev;
  auto consider_prev = [&](int64_t t, double imp, double exp) {
    if (!prev || t >= std::get<0>(*prev)) prev = std::make_tuple(t, imp, exp);
  };
  {
    std::shared_lock mem(m.mem_mu);
    Transaction snapshot(db);  // all database reads see one committed state
    if (auto s = snapshot.begin_deferred(); !s.ok()) return s;
    if (series.source == Resolution::kRaw) {
      std::vector<Row> rows;
      if (auto s = chunks_in_range(db, key, aligned_from, to_ms, &rows); !s.ok()) return s;
      for (const Row& r : rows) {
        if (r.r.time_ms >= aligned_from && r.r.time_ms < to_ms) acc[bucket_start(r.r.time_ms, step)].add(r.r);
      }
      auto before = newest_chunk_reading_before(db, key, aligned_from);
      if (!before.ok()) return before.error();
      if (before.value()) consider_prev(before.value()->r.time_ms, before.value()->r.e_import_wh, before.value()->r.e_export_wh);
    } else {
      auto s = db.prepare(rollup_sql(series.source).select_range.c_str());
      if (!s.ok()) return s.error();
      s->bind(1, key);
      s->bind(2, aligned_from);
      s->bind(3, to_ms);
      int rc;
      while ((rc = s->step()) == SQLITE_ROW) acc[bucket_start(s->int64(0), step)].merge(accumulator_from_row(*s, 1));
      if (rc != SQLITE_DONE) return db.error_from(rc, "reading rollups");
      auto p = db.prepare(rollup_sql(series.source).select_prev.c_str());
      if (!p.ok()) return p.error();
      p->bind(1, key);
      p->bind(2, aligned_from);
      rc = p->step();
      if (rc == SQLITE_ROW) {
        consider_prev(p->int64(0), p->real(1), p->real(2));
      } else if (rc != SQLITE_DONE) {
        return db.error_from(rc, "reading the register before the range");
      }
    }
    if (auto s = snapshot.commit(); !s.ok()) return s;
    if (auto it = m.staged.find(key); it != m.staged.end()) {
      for (const Row& r : it->second) {
        if (r.r.time_ms < aligned_from) {
          consider_prev(r.r.time_ms, r.r.e_import_wh, r.r.e_export_wh);
        } else if (r.r.time_ms < to_ms) {
          acc[bucket_start(r.r.time_ms, step)].add(r.r);
        }
      }
    }
  }
  bool has_prev = prev.has_value();
  double prev_imp = has_prev ? std::get<1>(*prev) : 0, prev_exp = has_prev ? std::get<2>(*prev) : 0;
  series.points.reserve(acc.size());
  for (const auto& [bucket, a] : acc) {
    series.points.push_back(a.to_point(bucket, has_prev, prev_imp, prev_exp));
    has_prev = true;
    prev_imp = a.last_imp;
    prev_exp = a.last_exp;
  }
  return series;
}

namespace {

// Newest reading of a meter over chunks and staged rows.
StoreResult<std::optional<LatestState>> latest_for_key(Db& db, int64_t key, const std::string& id,
                                                       const std::vector<Row>& staged) {
  auto newest = newest_chunk_reading_before(db, key, INT64_MAX);
  if (!newest.ok()) return newest.error();
  std::optional<Row> best = newest.value();
  for (const Row& r : staged) {
    if (!best || by_time_seq(*best, r)) best = r;
  }
  if (!best) return std::optional<LatestState>();
  LatestState st;
  st.reading = std::move(best->r);
  st.reading.meter_id = id;
  st.received_ms = best->received_ms;
  return std::optional<LatestState>(std::move(st));
}

}  // namespace

StoreResult<std::optional<LatestState>> SqliteStore::latest(std::string_view meter_id) {
  Impl& m = *impl_;
  Impl::Lease lease(m);
  auto key = m.key_of(lease.db(), meter_id);
  if (!key.ok()) return key.error();
  std::shared_lock mem(m.mem_mu);
  return latest_for_key(lease.db(), key.value(), std::string(meter_id), m.staged_copy(key.value()));
}

StoreResult<std::vector<LatestState>> SqliteStore::latest_all() {
  Impl& m = *impl_;
  Impl::Lease lease(m);
  Db& db = lease.db();
  std::shared_lock mem(m.mem_mu);
  Transaction snapshot(db);
  if (auto s = snapshot.begin_deferred(); !s.ok()) return s;
  std::vector<std::pair<std::string, int64_t>> meters;
  {
    auto s = db.prepare("SELECT id,key FROM meters ORDER BY id");
    if (!s.ok()) return s.error();
    int rc;
    while ((rc = s->step()) == SQLITE_ROW) meters.emplace_back(s->text(0), s->int64(1));
    if (rc != SQLITE_DONE) return db.error_from(rc, "listing meters");
  }
  std::vector<LatestState> out;
  out.reserve(meters.size());
  static const std::vector<Row> kNone;
  for (const auto& [id, key] : meters) {
    auto it = m.staged.find(key);
    auto l = latest_for_key(db, key, id, it == m.staged.end() ? kNone : it->second);
    if (!l.ok()) return l.error();
    if (l.value()) out.push_back(std::move(*l.value()));
  }
  if (auto s = snapshot.commit(); !s.ok()) return s;
  return out;
}

StoreResult<SeqSummary> SqliteStore::seq_summary(std::string_view meter_id) {
  Impl& m = *impl_;
  Impl::Lease lease(m);
  Db& db = lease.db();
  auto key = m.key_of(db, meter_id);
  if (!key.ok()) return key.error();
  std::shared_lock mem(m.mem_mu);
  auto s = db.prepare("SELECT sum(n),min(seq_first),max(seq_last) FROM raw_chunks WHERE meter=?");
  if (!s.ok()) return s.error();
  s->bind(1, key.value());
  if (s->step() != SQLITE_ROW) return db.last_error("counting readings");
  SeqSummary out;
  bool any = !s->is_null(0) && s->int64(0) > 0;
  if (any) {
    out.count = static_cast<uint64_t>(s->int64(0));
    out.min_seq = static_cast<uint64_t>(s->int64(1));
    out.max_seq = static_cast<uint64_t>(s->int64(2));
  }
  if (auto it = m.staged.find(key.value()); it != m.staged.end()) {
    for (const Row& r : it->second) {
      out.min_seq = any ? std::min(out.min_seq, r.r.seq) : r.r.seq;
      out.max_seq = any ? std::max(out.max_seq, r.r.seq) : r.r.seq;
      any = true;
      ++out.count;
    }
  }
  return out;
}

// ---------------------------------------------------------------- meters

StoreStatus SqliteStore::add_meter(const MeterInfo& meter) { return add_meters(std::span<const MeterInfo>(&meter, 1)); }

StoreStatus SqliteStore::add_meters(std::span<const MeterInfo> meters) {
  for (const MeterInfo& m : meters) {
    if (!protocol::is_valid_meter_id(m.id)) {
      return StoreStatus::error(StoreCode::kInvalidArgument,
                                "meter id \"" + m.id + "\" must be 1 to 64 characters of A-Z a-z 0-9 _ -");
    }
  }
  std::lock_guard lk(impl_->write_mu);
  Db& db = *impl_->writer;
  Transaction txn(db);
  if (auto s = txn.begin_immediate(); !s.ok()) return s;
  const int64_t now = wall_clock_ms();
  std::vector<std::pair<std::string, int64_t>> added;
  added.reserve(meters.size());
  for (const MeterInfo& m : meters) {
    auto s = db.prepare("INSERT INTO meters(id,name,area,owner,created_ms) VALUES(?,?,?,?,?)");
    if (!s.ok()) return s.error();
    s->bind(1, m.id);
    s->bind(2, m.name);
    s->bind(3, m.area);
    s->bind(4, m.owner);
    s->bind(5, m.created_ms != 0 ? m.created_ms : now);
    const int rc = s->step();
    if ((rc & 0xff) == SQLITE_CONSTRAINT) {
      return StoreStatus::error(StoreCode::kAlreadyExists, "meter " + m.id + " is already provisioned");
    }
    if (rc != SQLITE_DONE) return db.error_from(rc, "adding meter " + m.id);
    added.emplace_back(m.id, db.last_insert_rowid());
  }
  if (auto s = txn.commit(); !s.ok()) return s;
  for (auto& [id, key] : added) impl_->remember_key(id, key);
  return StoreStatus::ok_status();
}

StoreStatus SqliteStore::update_meter(const MeterInfo& meter) {
  std::lock_guard lk(impl_->write_mu);
  Db& db = *impl_->writer;
  auto s = db.prepare("UPDATE meters SET name=?, area=?, owner=? WHERE id=?");
  if (!s.ok()) return s.error();
  s->bind(1, meter.name);
  s->bind(2, meter.area);
  s->bind(3, meter.owner);
  s->bind(4, meter.id);
  if (auto st = step_done(db, *s, "updating meter"); !st.ok()) return st;
  if (db.changes() == 0) return StoreStatus::error(StoreCode::kNotFound, "unknown meter " + meter.id);
  return StoreStatus::ok_status();
}

StoreResult<MeterInfo> SqliteStore::get_meter(std::string_view meter_id) {
  Impl::Lease lease(*impl_);
  Db& db = lease.db();
  auto s = db.prepare("SELECT id,name,area,owner,created_ms FROM meters WHERE id=?");
  if (!s.ok()) return s.error();
  s->bind(1, meter_id);
  const int rc = s->step();
  if (rc == SQLITE_DONE) return StoreStatus::error(StoreCode::kNotFound, "unknown meter " + std::string(meter_id));
  if (rc != SQLITE_ROW) return db.error_from(rc, "reading meter");
  return MeterInfo{s->text(0), s->text(1), s->text(2), s->text(3), s->int64(4)};
}

bool SqliteStore::has_meter(std::string_view meter_id) {
  if (impl_->cached_key(meter_id)) return true;
  Impl::Lease lease(*impl_);
  return impl_->key_of(lease.db(), meter_id).ok();
}

StoreResult<std::vector<MeterInfo>> SqliteStore::list_meters() {
  Impl::Lease lease(*impl_);
  Db& db = lease.db();
  auto s = db.prepare("SELECT id,name,area,owner,created_ms,key FROM meters ORDER BY id");
  if (!s.ok()) return s.error();
  std::vector<MeterInfo> out;
  int rc;
  while ((rc = s->step()) == SQLITE_ROW) {
    out.push_back(MeterInfo{s->text(0), s->text(1), s->text(2), s->text(3), s->int64(4)});
    impl_->remember_key(out.back().id, s->int64(5));
  }
  if (rc != SQLITE_DONE) return db.error_from(rc, "listing meters");
  return out;
}

// ---------------------------------------------------------------- events

StoreResult<int64_t> SqliteStore::add_event(const protocol::MeterEvent& event, EventSource source, int64_t received_ms) {
  if (event.details.size() > 4096) {
    return StoreStatus::error(StoreCode::kInvalidArgument, "event details longer than 4096 characters");
  }
  std::lock_guard lk(impl_->write_mu);
  Db& db = *impl_->writer;
  auto key = impl_->key_of(db, event.meter_id);
  if (!key.ok()) return key.error();
  auto s = db.prepare(
      "INSERT OR IGNORE INTO events(meter,time_ms,kind,edge,source,details,received_ms) VALUES(?,?,?,?,?,?,?)");
  if (!s.ok()) return s.error();
  s->bind(1, key.value());
  s->bind(2, event.time_ms);
  s->bind(3, protocol::event_kind_name(event.kind));
  s->bind(4, protocol::event_edge_name(event.edge));
  s->bind(5, event_source_name(source));
  s->bind(6, event.details);
  s->bind(7, received_ms);
  if (auto st = step_done(db, *s, "inserting event"); !st.ok()) return st;
  if (db.changes() == 1) return db.last_insert_rowid();
  auto existing = db.prepare("SELECT id FROM events WHERE meter=? AND kind=? AND edge=? AND time_ms=?");
  if (!existing.ok()) return existing.error();
  existing->bind(1, key.value());
  existing->bind(2, protocol::event_kind_name(event.kind));
  existing->bind(3, protocol::event_edge_name(event.edge));
  existing->bind(4, event.time_ms);
  if (existing->step() != SQLITE_ROW) return db.last_error("finding the existing event");
  return existing->int64(0);
}

StoreResult<std::vector<StoredEvent>> SqliteStore::events(const EventQuery& q) {
  Impl::Lease lease(*impl_);
  Db& db = lease.db();
  std::string sql =
      "SELECT e.id,m.id,e.time_ms,e.kind,e.edge,e.source,e.details,e.received_ms FROM events e "
      "JOIN meters m ON m.key=e.meter WHERE e.time_ms>=? AND e.time_ms<?";
  int64_t key = -1;
  if (!q.meter_id.empty()) {
    auto k = impl_->key_of(db, q.meter_id);
    if (!k.ok()) return k.error();
    key = k.value();
    sql += " AND e.meter=?";
  }
  if (q.kind) sql += " AND e.kind=?";
  sql += " ORDER BY e.time_ms DESC, e.id DESC LIMIT ?";
  auto s = db.prepare_once(sql);
  if (!s.ok()) return s.error();
  int c = 1;
  s->bind(c++, q.from_ms);
  s->bind(c++, q.to_ms);
  if (key >= 0) s->bind(c++, key);
  if (q.kind) s->bind(c++, protocol::event_kind_name(*q.kind));
  s->bind(c++, static_cast<int64_t>(std::min<std::size_t>(q.limit, INT64_MAX)));
  std::vector<StoredEvent> out;
  int rc;
  while ((rc = s->step()) == SQLITE_ROW) {
    StoredEvent e;
    e.id = s->int64(0);
    e.event.meter_id = s->text(1);
    e.event.time_ms = s->int64(2);
    e.event.kind = protocol::event_kind_from_name(s->text(3)).value_or(protocol::EventKind::kPowerUp);
    e.event.edge = protocol::event_edge_from_name(s->text(4)).value_or(protocol::EventEdge::kInstant);
    e.source = s->text(5) == "server" ? EventSource::kServer : EventSource::kMeter;
    e.event.details = s->text(6);
    e.received_ms = s->int64(7);
    out.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) return db.error_from(rc, "reading events");
  return out;
}

// ---------------------------------------------------------------- retention

namespace {
constexpr std::array<const char*, 5> kRetentionKeys = {"retention.raw_days", "retention.1m_days",
                                                       "retention.15m_days", "retention.1h_days",
                                                       "retention.1d_days"};
std::array<int, 5> retention_days(const RetentionPolicy& p) {
  return {p.raw_days, p.min1_days, p.min15_days, p.hour1_days, p.day1_days};
}
}  // namespace

StoreStatus SqliteStore::set_retention(const RetentionPolicy& policy) {
  const auto days = retention_days(policy);
  for (std::size_t i = 0; i < days.size(); ++i) {
    if (days[i] < 0 || days[i] > 100 * 366) {
      return StoreStatus::error(StoreCode::kInvalidArgument, std::string(kRetentionKeys[i]) + "=" +
                                                                 std::to_string(days[i]) +
                                                                 " must be from 0 (forever) to 36600 days");
    }
  }
  std::lock_guard lk(impl_->write_mu);
  Db& db = *impl_->writer;
  Transaction txn(db);
  if (auto s = txn.begin_immediate(); !s.ok()) return s;
  for (std::size_t i = 0; i < days.size(); ++i) {
    auto s = db.prepare("INSERT INTO settings(key,value) VALUES(?,?) ON CONFLICT(key) DO UPDATE SET value=excluded.value");
    if (!s.ok()) return s.error();
    s->bind(1, kRetentionKeys[i]);
    s->bind(2, std::to_string(days[i]));
    if (auto st = step_done(db, *s, "saving retention"); !st.ok()) return st;
  }
  return txn.commit();
}

StoreResult<RetentionPolicy> SqliteStore::retention() {
  Impl::Lease lease(*impl_);
  Db& db = lease.db();
  RetentionPolicy p;
  std::array<int*, 5> fields = {&p.raw_days, &p.min1_days, &p.min15_days, &p.hour1_days, &p.day1_days};
  for (std::size_t i = 0; i < fields.size(); ++i) {
    auto s = db.prepare("SELECT value FROM settings WHERE key=?");
    if (!s.ok()) return s.error();
    s->bind(1, kRetentionKeys[i]);
    const int rc = s->step();
    if (rc == SQLITE_ROW) {
      *fields[i] = std::atoi(s->text(0).c_str());
    } else if (rc != SQLITE_DONE) {
      return db.error_from(rc, "reading retention");
    }
  }
  return p;
}

StoreResult<RetentionResult> SqliteStore::apply_retention(int64_t now_ms) {
  if (impl_->primary) {
    // Staged readings older than a cutoff would otherwise come back when compacted.
    std::lock_guard lk(impl_->write_mu);
    if (auto s = impl_->compact_all(); !s.ok()) return s;
  }
  auto policy = retention();
  if (!policy.ok()) return policy.error();
  const auto days = retention_days(policy.value());
  std::vector<int64_t> meter_keys;
  {
    Impl::Lease lease(*impl_);
    auto s = lease.db().prepare("SELECT key FROM meters");
    if (!s.ok()) return s.error();
    while (s->step() == SQLITE_ROW) meter_keys.push_back(s->int64(0));
  }
  Impl& m = *impl_;
  RetentionResult result;
  for (std::size_t ri = 0; ri < kAllResolutions.size(); ++ri) {
    if (days[ri] == 0) continue;
    const int64_t cutoff = now_ms - static_cast<int64_t>(days[ri]) * 86'400'000;
    const Resolution res = kAllResolutions[ri];
    // One short transaction per meter, so ingest is never blocked for long.
    for (int64_t key : meter_keys) {
      std::lock_guard lk(m.write_mu);
      Db& db = *m.writer;
      if (res != Resolution::kRaw) {
        auto s = db.prepare(rollup_sql(res).delete_older.c_str());
        if (!s.ok()) return s.error();
        s->bind(1, key);
        s->bind(2, cutoff);
        if (auto st = step_done(db, *s, "applying retention"); !st.ok()) return st;
        result.deleted[ri] += static_cast<uint64_t>(db.changes());
        continue;
      }
      Transaction txn(db);
      if (auto st = txn.begin_immediate(); !st.ok()) return st;
      // Whole chunks before the cutoff go; a chunk straddling it is rewritten without its old records.
      {
        auto s = db.prepare("SELECT coalesce(sum(n),0) FROM raw_chunks WHERE meter=? AND t_first<? AND t_last<?");
        if (!s.ok()) return s.error();
        s->bind(1, key);
        s->bind(2, cutoff);
        s->bind(3, cutoff);
        if (s->step() != SQLITE_ROW) return db.last_error("applying retention");
        result.deleted[ri] += static_cast<uint64_t>(s->int64(0));
      }
      {
        auto s = db.prepare("DELETE FROM raw_chunks WHERE meter=? AND t_first<? AND t_last<?");
        if (!s.ok()) return s.error();
        s->bind(1, key);
        s->bind(2, cutoff);
        s->bind(3, cutoff);
        if (auto st = step_done(db, *s, "applying retention"); !st.ok()) return st;
      }
      std::vector<std::pair<int64_t, std::vector<Row>>> straddling;
      {
        auto s = db.prepare("SELECT id,n,data FROM raw_chunks WHERE meter=? AND t_first<? AND t_last>=?");
        if (!s.ok()) return s.error();
        s->bind(1, key);
        s->bind(2, cutoff);
        s->bind(3, cutoff);
        int rc;
        while ((rc = s->step()) == SQLITE_ROW) {
          straddling.emplace_back(s->int64(0), std::vector<Row>());
          decode_chunk(*s, 1, 2, key, &straddling.back().second);
        }
        if (rc != SQLITE_DONE) return db.error_from(rc, "applying retention");
      }
      for (auto& [id, rows] : straddling) {
        const std::size_t before = rows.size();
        std::erase_if(rows, [&](const Row& r) { return r.r.time_ms < cutoff; });
        result.deleted[ri] += before - rows.size();
        std::sort(rows.begin(), rows.end(), by_time_seq);
        uint64_t seq_first = UINT64_MAX, seq_last = 0;
        for (const Row& r : rows) {
          seq_first = std::min(seq_first, r.r.seq);
          seq_last = std::max(seq_last, r.r.seq);
        }
        const std::string blob = encode_records(rows, 0, rows.size());
        auto s = db.prepare("UPDATE raw_chunks SET t_first=?, t_last=?, seq_first=?, seq_last=?, n=?, data=? WHERE id=?");
        if (!s.ok()) return s.error();
        s->bind(1, rows.front().r.time_ms);
        s->bind(2, rows.back().r.time_ms);
        s->bind(3, seq_first);
        s->bind(4, seq_last);
        s->bind(5, static_cast<int64_t>(rows.size()));
        sqlite3_bind_blob(s->handle(), 6, blob.data(), static_cast<int>(blob.size()), SQLITE_STATIC);
        s->bind(7, id);
        if (auto st = step_done(db, *s, "applying retention"); !st.ok()) return st;
      }
      if (auto st = txn.commit(); !st.ok()) return st;
      m.facts.erase(key);  // chunk facts changed (the newest chunk may have been trimmed)
      m.tails.erase(key);
    }
  }
  return result;
}

// ---------------------------------------------------------------- commands

StoreStatus SqliteStore::add_command(const CommandRecord& c) {
  if (c.id.empty() || c.id.size() > protocol::kMaxCommandIdLength || !protocol::is_valid_meter_id(c.id)) {
    return StoreStatus::error(StoreCode::kInvalidArgument, "command id \"" + c.id + "\" is not valid");
  }
  std::lock_guard lk(impl_->write_mu);
  Db& db = *impl_->writer;
  auto key = impl_->key_of(db, c.meter_id);
  if (!key.ok()) return key.error();
  auto s = db.prepare(
      "INSERT INTO commands(id,meter,kind,args,requested_by,state,message,relay,created_ms,sent_ms,updated_ms) "
      "VALUES(?,?,?,?,?,?,?,?,?,?,?)");
  if (!s.ok()) return s.error();
  const int64_t created = c.created_ms != 0 ? c.created_ms : wall_clock_ms();
  s->bind(1, c.id);
  s->bind(2, key.value());
  s->bind(3, protocol::command_kind_name(c.kind));
  s->bind(4, c.args_json);
  s->bind(5, c.requested_by);
  s->bind(6, command_state_name(c.state));
  s->bind(7, c.message);
  s->bind(8, protocol::relay_state_name(c.relay));
  s->bind(9, created);
  s->bind(10, c.sent_ms);
  s->bind(11, c.updated_ms != 0 ? c.updated_ms : created);
  const int rc = s->step();
  if ((rc & 0xff) == SQLITE_CONSTRAINT) {
    return StoreStatus::error(StoreCode::kAlreadyExists, "command " + c.id + " already exists");
  }
  if (rc != SQLITE_DONE) return db.error_from(rc, "adding command");
  return StoreStatus::ok_status();
}

StoreStatus SqliteStore::update_command(std::string_view command_id, CommandState state, std::string_view message,
                                        protocol::RelayState relay, int64_t time_ms) {
  std::lock_guard lk(impl_->write_mu);
  Db& db = *impl_->writer;
  auto s = db.prepare(
      "UPDATE commands SET state=?, message=?, relay=?, updated_ms=?, "
      "sent_ms=CASE WHEN ?=1 THEN ? ELSE sent_ms END WHERE id=?");
  if (!s.ok()) return s.error();
  s->bind(1, command_state_name(state));
  s->bind(2, message);
  s->bind(3, protocol::relay_state_name(relay));
  s->bind(4, time_ms);
  s->bind(5, state == CommandState::kSent ? 1 : 0);
  s->bind(6, time_ms);
  s->bind(7, command_id);
  if (auto st = step_done(db, *s, "updating command"); !st.ok()) return st;
  if (db.changes() == 0) return StoreStatus::error(StoreCode::kNotFound, "unknown command " + std::string(command_id));
  return StoreStatus::ok_status();
}

StoreResult<CommandRecord> SqliteStore::get_command(std::string_view command_id) {
  Impl::Lease lease(*impl_);
  Db& db = lease.db();
  static const std::string sql = std::string(kCommandSelect) + "WHERE c.id=?";
  auto s = db.prepare(sql.c_str());
  if (!s.ok()) return s.error();
  s->bind(1, command_id);
  const int rc = s->step();
  if (rc == SQLITE_DONE) return StoreStatus::error(StoreCode::kNotFound, "unknown command " + std::string(command_id));
  if (rc != SQLITE_ROW) return db.error_from(rc, "reading command");
  return command_from_row(*s);
}

StoreResult<std::vector<CommandRecord>> SqliteStore::commands(std::string_view meter_id, std::size_t limit) {
  Impl::Lease lease(*impl_);
  Db& db = lease.db();
  static const std::string all_sql = std::string(kCommandSelect) + "ORDER BY c.created_ms DESC, c.rowid DESC LIMIT ?";
  static const std::string meter_sql =
      std::string(kCommandSelect) + "WHERE c.meter=? ORDER BY c.created_ms DESC, c.rowid DESC LIMIT ?";
  int64_t key = -1;
  if (!meter_id.empty()) {
    auto k = impl_->key_of(db, meter_id);
    if (!k.ok()) return k.error();
    key = k.value();
  }
  auto s = db.prepare(key >= 0 ? meter_sql.c_str() : all_sql.c_str());
  if (!s.ok()) return s.error();
  int c = 1;
  if (key >= 0) s->bind(c++, key);
  s->bind(c, static_cast<int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
  std::vector<CommandRecord> out;
  int rc;
  while ((rc = s->step()) == SQLITE_ROW) out.push_back(command_from_row(*s));
  if (rc != SQLITE_DONE) return db.error_from(rc, "reading commands");
  return out;
}

StoreResult<std::vector<CommandRecord>> SqliteStore::open_commands() {
  Impl::Lease lease(*impl_);
  Db& db = lease.db();
  static const std::string sql = std::string(kCommandSelect) + "WHERE c.state IN ('pending','sent') ORDER BY c.created_ms";
  auto s = db.prepare(sql.c_str());
  if (!s.ok()) return s.error();
  std::vector<CommandRecord> out;
  int rc;
  while ((rc = s->step()) == SQLITE_ROW) out.push_back(command_from_row(*s));
  if (rc != SQLITE_DONE) return db.error_from(rc, "reading open commands");
  return out;
}

// ---------------------------------------------------------------- audit

StoreResult<int64_t> SqliteStore::append_audit(const AuditEntry& e) {
  std::lock_guard lk(impl_->write_mu);
  Db& db = *impl_->writer;
  auto s = db.prepare("INSERT INTO audit_log(time_ms,actor,action,target,details) VALUES(?,?,?,?,?)");
  if (!s.ok()) return s.error();
  s->bind(1, e.time_ms != 0 ? e.time_ms : wall_clock_ms());
  s->bind(2, e.actor);
  s->bind(3, e.action);
  s->bind(4, e.target);
  s->bind(5, e.details);
  if (auto st = step_done(db, *s, "appending audit entry"); !st.ok()) return st;
  return db.last_insert_rowid();
}

StoreResult<std::vector<AuditEntry>> SqliteStore::audit(std::string_view target, std::size_t limit) {
  Impl::Lease lease(*impl_);
  Db& db = lease.db();
  auto s = target.empty()
               ? db.prepare("SELECT id,time_ms,actor,action,target,details FROM audit_log ORDER BY id DESC LIMIT ?")
               : db.prepare("SELECT id,time_ms,actor,action,target,details FROM audit_log WHERE target=? "
                            "ORDER BY id DESC LIMIT ?");
  if (!s.ok()) return s.error();
  int c = 1;
  if (!target.empty()) s->bind(c++, target);
  s->bind(c, static_cast<int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
  std::vector<AuditEntry> out;
  int rc;
  while ((rc = s->step()) == SQLITE_ROW) {
    out.push_back(AuditEntry{s->int64(0), s->int64(1), s->text(2), s->text(3), s->text(4), s->text(5)});
  }
  if (rc != SQLITE_DONE) return db.error_from(rc, "reading audit log");
  return out;
}

}  // namespace wattguard::storage
