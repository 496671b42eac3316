// Raw chunks: encoding readings into chunk blobs and finding readings in them.
#include "server/storage/raw_chunks.h"

#include <algorithm>
#include <cstring>

#include "server/storage/reading_record.h"

namespace wattguard::storage {

bool by_time_seq(const Row& a, const Row& b) {
  if (a.r.time_ms != b.r.time_ms) return a.r.time_ms < b.r.time_ms;
  return a.r.seq < b.r.seq;
}

bool by_key_time_seq(const Row& a, const Row& b) {
  if (a.key != b.key) return a.key < b.key;
  return by_time_seq(a, b);
}

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

std::string encode_records(const std::vector<Row>& rows, std::size_t begin, std::size_t end) {
  std::string blob((end - begin) * kRecordBytes, '\0');
  auto* p = reinterpret_cast<uint8_t*>(blob.data());
  for (std::size_t i = begin; i < end; ++i, p += kRecordBytes) encode_record(rows[i].r, rows[i].received_ms, p);
  return blob;
}

Expected<void> chunks_in_range(Db& db, int64_t key, int64_t from_ms, int64_t to_ms, std::vector<Row>* out) {
  auto s = db.prepare("SELECT n,data FROM raw_chunks WHERE meter=? AND t_first>=? AND t_first<? AND t_last>=?");
  if (!s.ok()) return s.error();
  s->bind(1, key);
  s->bind(2, from_ms > INT64_MIN + kChunkMaxSpanMs ? from_ms - kChunkMaxSpanMs : INT64_MIN);
  s->bind(3, to_ms);
  s->bind(4, from_ms);
  int rc;
  while ((rc = s->step()) == SQLITE_ROW) decode_chunk(*s, 0, 1, key, out);
  if (rc != SQLITE_DONE) return db.error_from(rc, "reading raw chunks");
  return {};
}

Expected<std::optional<Row>> newest_chunk_reading_before(Db& db, int64_t key, int64_t before_ms) {
  auto s = db.prepare("SELECT max(t_first) FROM raw_chunks WHERE meter=? AND t_first<?");
  if (!s.ok()) return s.error();
  s->bind(1, key);
  s->bind(2, before_ms);
  if (s->step() != SQLITE_ROW) return db.last_error("finding the newest chunk");
  if (s->is_null(0)) return std::optional<Row>();
  const int64_t newest_start = s->int64(0);
  std::vector<Row> rows;
  if (auto st = chunks_in_range(db, key, newest_start, before_ms, &rows); !st.ok()) return st.error();
  std::optional<Row> best;
  for (Row& r : rows) {
    if (r.r.time_ms < before_ms && (!best || by_time_seq(*best, r))) best = std::move(r);
  }
  return best;
}

Expected<std::optional<Row>> oldest_chunk_reading_after(Db& db, int64_t key, int64_t after_ms) {
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
    return st.error();
  }
  std::optional<Row> best;
  for (Row& r : rows) {
    if (r.r.time_ms > after_ms && (!best || by_time_seq(r, *best))) best = std::move(r);
  }
  return best;
}

Expected<bool> chunk_has_seq(Db& db, int64_t key, uint64_t seq) {
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

}  // namespace wattguard::storage
