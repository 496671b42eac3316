// Staging and compaction: appended batches wait in the staging table (and in memory) and are moved into
// chunks and rollups in bounded steps, a range of meters per step. See docs/storage.md.
#include <algorithm>
#include <cstring>

#include "server/storage/reading_record.h"
#include "server/storage/sqlite_store_impl.h"

namespace wattguard::storage {

Expected<void> SqliteStore::Impl::refresh_writer_view() {
  auto s = writer->prepare("PRAGMA data_version");
  if (!s.ok()) return s.error();
  if (s->step() != SQLITE_ROW) return writer->last_error("data_version");
  const int64_t v = s->int64(0);
  if (v != writer_data_version) {
    if (writer_data_version != -1) foreign_writes = true;
    drop_writer_caches();  // another connection committed: what we know of chunks may be stale
    writer_data_version = v;
  }
  return {};
}

// Loads the staging table into memory (at open, when this process becomes the writer): batches
// left by an earlier run, minus the meters an interrupted compaction cycle already moved.
Expected<void> SqliteStore::Impl::load_staging() {
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
      return Error::corruption("staging batch " + std::to_string(id) + " is damaged (" + std::to_string(bytes) +
                               " bytes for " + std::to_string(n) + " readings)");
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
  return {};
}

// Begins a compaction cycle over everything staged now: the meters with staged readings, ascending.
void SqliteStore::Impl::start_cycle() {
  cycle = Cycle{true, staged_batches.back().id, {}, 0};
  for (const auto& [key, rows] : staged) {
    if (!rows.empty()) cycle.keys.push_back(key);
  }
  std::sort(cycle.keys.begin(), cycle.keys.end());
}

// Copies the cycle's staged readings of the meters from cycle.keys[first] on into *rows, until the step's
// meter or reading budget is spent; returns the end of the meters taken.
std::size_t SqliteStore::Impl::gather_step_rows(std::size_t first, std::vector<Row>* rows) const {
  std::size_t last = first;
  while (last < cycle.keys.size() && last - first < options.compact_step_meters &&
         rows->size() < options.compact_step_readings) {
    auto it = staged.find(cycle.keys[last]);
    if (it != staged.end()) {
      for (const Row& r : it->second) {
        if (r.staging_id > cycle.upto_id) break;  // staged after the cycle began
        rows->push_back(r);
      }
    }
    ++last;
  }
  return last;
}

// In the step's transaction: the last step deletes the cycle's staging rows, any other records how far
// the cycle got (so a restart resumes after cycle.keys[last - 1]).
Expected<void> SqliteStore::Impl::record_step(bool finishes, std::size_t last) {
  Db& db = *writer;
  if (finishes) {
    auto del = db.prepare("DELETE FROM staging WHERE id<=?");
    if (!del.ok()) return del.error();
    del->bind(1, cycle.upto_id);
    if (auto st = db.step_done(*del, "deleting compacted staging"); !st.ok()) return st.error();
    return db.exec("DELETE FROM compaction_progress");
  }
  auto prog = db.prepare(
      "INSERT INTO compaction_progress(id,upto_id,done_key) VALUES(1,?,?) "
      "ON CONFLICT(id) DO UPDATE SET upto_id=excluded.upto_id, done_key=excluded.done_key");
  if (!prog.ok()) return prog.error();
  prog->bind(1, cycle.upto_id);
  prog->bind(2, cycle.keys[last - 1]);
  return db.step_done(*prog, "recording compaction progress");
}

// Forgets the staged readings of meters cycle.keys[first, last) that the cycle has compacted; returns how
// many. REQUIRES: mem_mu held exclusively.
std::size_t SqliteStore::Impl::drop_compacted(std::size_t first, std::size_t last) {
  std::size_t removed = 0;
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
  return removed;
}

// One compaction step. A cycle moves every reading staged up to `upto_id` into chunks and
// rollups, a range of meters per step (so no step touches more than compact_step_meters
// meters, which is what a step's time depends on), recording its progress in the same
// transaction; the last step deletes the cycle's staging rows.
Expected<void> SqliteStore::Impl::compact_step() {
  if (auto st = refresh_writer_view(); !st.ok()) return st.error();
  if (!cycle.active) {
    if (staged_batches.empty()) return {};
    start_cycle();
  }
  std::vector<Row>& rows = compact_buffer;  // reused: its capacity stays mapped between steps
  rows.clear();
  const std::size_t first = cycle.pos;
  const std::size_t last = gather_step_rows(first, &rows);  // meters [first, last) of cycle.keys
  const bool finishes = last == cycle.keys.size();
  std::sort(rows.begin(), rows.end(), by_key_time_seq);
  Transaction txn(*writer);
  if (auto st = txn.begin_immediate(); !st.ok()) return st.error();
  std::vector<std::size_t> skipped;
  Expected<void> st = write_rows(rows, &skipped);
  if (st.ok()) st = record_step(finishes, last);
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
    removed = drop_compacted(first, last);
  }
  staged_count -= std::min(staged_count, removed);
  cycle.pos = last;
  if (finishes) {
    while (!staged_batches.empty() && staged_batches.front().id <= cycle.upto_id) staged_batches.pop_front();
    cycle = Cycle{};
  }
  return {};
}

bool SqliteStore::Impl::compaction_due() const {
  if (cycle.active) return true;
  if (staged_batches.empty()) return false;
  if (staged_count >= options.staging_max_readings) return true;
  return std::chrono::steady_clock::now() - staged_batches.front().at >=
         std::chrono::milliseconds(options.staging_max_age_ms);
}

Expected<void> SqliteStore::Impl::compact_all() {
  while (cycle.active || !staged_batches.empty()) {
    if (auto st = compact_step(); !st.ok()) return st.error();
  }
  return {};
}

}  // namespace wattguard::storage
