// The writer's side of raw chunks and rollups: what it caches about each meter's chunks, and how it
// writes sorted readings into chunks (extending the newest one when in order) and rollup buckets.
#include <algorithm>

#include "server/storage/reading_record.h"
#include "server/storage/rollup_sql.h"
#include "server/storage/sqlite_store_impl.h"

namespace wattguard::storage {
namespace {

using protocol::Reading;

// Records in `f` that rows[b, e) are now in chunks (maximum seq and newest reading).
void note_written(const std::vector<Row>& rows, std::size_t b, std::size_t e, ChunkFacts* f) {
  f->has_chunks = true;
  for (std::size_t k = b; k < e; ++k) {
    const Reading& r = rows[k].r;
    f->max_seq = std::max(f->max_seq, r.seq);
    if (!f->tail.has || r.time_ms > f->tail.time_ms || (r.time_ms == f->tail.time_ms && r.seq > f->tail.seq)) {
      f->tail = Tail{true, r.time_ms, r.seq, r.e_import_wh, r.e_export_wh};
    }
  }
}

// Copies to *fresh the rows of rows[b, e) (one meter) that no chunk holds yet, and lists the batch indices
// of the others in *skipped. Seqs above chunk_max_seq need no lookup.
Expected<void> keep_unstored(Db& db, int64_t key, uint64_t chunk_max_seq, const std::vector<Row>& rows, std::size_t b,
                             std::size_t e, std::vector<Row>* fresh, std::vector<std::size_t>* skipped) {
  fresh->clear();
  for (std::size_t i = b; i < e; ++i) {
    if (rows[i].r.seq <= chunk_max_seq) {
      auto has = chunk_has_seq(db, key, rows[i].r.seq);
      if (!has.ok()) return has.error();
      if (has.value()) {
        skipped->push_back(rows[i].index);
        continue;
      }
    }
    fresh->push_back(rows[i]);
  }
  return {};
}

}  // namespace

void SqliteStore::Impl::drop_writer_caches() {
  facts.clear();
  tails.clear();
}

Expected<ChunkFacts*> SqliteStore::Impl::facts_of(int64_t key) {
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

Expected<Tail*> SqliteStore::Impl::tail_of(int64_t key) {
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

Expected<void> SqliteStore::Impl::insert_chunk(int64_t key, const std::vector<Row>& rows, std::size_t b, std::size_t e,
                                               ChunkFacts* f, bool becomes_newest) {
  auto s =
      writer->prepare("INSERT INTO raw_chunks(meter,t_first,t_last,seq_first,seq_last,n,data) VALUES(?,?,?,?,?,?,?)");
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
  s->bind_blob(7, blob);
  if (auto st = writer->step_done(*s, "inserting raw chunk"); !st.ok()) return st.error();
  if (becomes_newest) {
    f->has_newest = true;
    f->newest_id = writer->last_insert_rowid();
    f->newest_n = static_cast<int64_t>(e - b);
    f->newest_t_first = rows[b].r.time_ms;
    f->newest_t_last = rows[e - 1].r.time_ms;
    f->newest_seq_first = seq_first;
    f->newest_seq_last = seq_last;
  }
  return {};
}

// Writes rows[b, e) of one meter as new chunks of at most kChunkMaxReadings readings spanning at most
// kChunkMaxSpanMs; the last one becomes the meter's newest chunk if `last_becomes_newest`.
Expected<void> SqliteStore::Impl::insert_chunks(int64_t key, const std::vector<Row>& rows, std::size_t b, std::size_t e,
                                                ChunkFacts* f, bool last_becomes_newest) {
  std::size_t start = b;
  while (start < e) {
    std::size_t end = start + 1;
    while (end < e && static_cast<int64_t>(end - start) < kChunkMaxReadings &&
           rows[end].r.time_ms - rows[start].r.time_ms <= kChunkMaxSpanMs) {
      ++end;
    }
    if (auto st = insert_chunk(key, rows, start, end, f, last_becomes_newest && end == e); !st.ok()) return st.error();
    start = end;
  }
  return {};
}

// Appends the leading rows of rows[b, e) that still fit to the meter's newest chunk; returns where the
// rest begins (b when none fit).
Expected<std::size_t> SqliteStore::Impl::extend_newest_chunk(const std::vector<Row>& rows, std::size_t b, std::size_t e,
                                                             ChunkFacts* f) {
  std::size_t fit = b;
  while (fit < e && f->newest_n + static_cast<int64_t>(fit - b) < kChunkMaxReadings &&
         rows[fit].r.time_ms - f->newest_t_first <= kChunkMaxSpanMs) {
    ++fit;
  }
  if (fit == b) return b;
  uint64_t seq_first = f->newest_seq_first, seq_last = f->newest_seq_last;
  for (std::size_t k = b; k < fit; ++k) {
    seq_first = std::min(seq_first, rows[k].r.seq);
    seq_last = std::max(seq_last, rows[k].r.seq);
  }
  const std::string blob = encode_records(rows, b, fit);
  auto s = writer->prepare("UPDATE raw_chunks SET data=data||?, n=n+?, t_last=?, seq_first=?, seq_last=? WHERE id=?");
  if (!s.ok()) return s.error();
  s->bind_blob(1, blob);
  s->bind(2, static_cast<int64_t>(fit - b));
  s->bind(3, rows[fit - 1].r.time_ms);
  s->bind(4, seq_first);
  s->bind(5, seq_last);
  s->bind(6, f->newest_id);
  if (auto st = writer->step_done(*s, "extending raw chunk"); !st.ok()) return st.error();
  f->newest_n += static_cast<int64_t>(fit - b);
  f->newest_t_last = rows[fit - 1].r.time_ms;
  f->newest_seq_first = seq_first;
  f->newest_seq_last = seq_last;
  return fit;
}

// Writes rows of one meter (sorted by time, seq; not yet stored) into chunks: in-order rows first
// extend the meter's newest chunk, the rest become new chunks of at most 128 readings and 1 h.
Expected<void> SqliteStore::Impl::write_meter_chunks(int64_t key, const std::vector<Row>& rows, std::size_t b,
                                                     std::size_t e) {
  auto fr = facts_of(key);
  if (!fr.ok()) return fr.error();
  ChunkFacts* f = fr.value();
  // Late rows (older than the newest chunk's end) go to chunks of their own.
  std::size_t late_end = b;
  if (f->has_newest) {
    while (late_end < e && rows[late_end].r.time_ms < f->newest_t_last) ++late_end;
  }
  if (auto st = insert_chunks(key, rows, b, late_end, f, false); !st.ok()) return st.error();
  std::size_t i = late_end;
  if (i < e && f->has_newest) {
    auto rest = extend_newest_chunk(rows, i, e, f);
    if (!rest.ok()) return rest.error();
    i = rest.value();
  }
  if (auto st = insert_chunks(key, rows, i, e, f, true); !st.ok()) return st.error();
  note_written(rows, b, e, f);
  return {};
}

// Adds rows[b, e) of one meter (sorted by time) to each rollup table, one upsert per bucket.
Expected<void> SqliteStore::Impl::write_meter_rollups(int64_t key, const std::vector<Row>& rows, std::size_t b,
                                                      std::size_t e) {
  for (std::size_t ri = 1; ri < kAllResolutions.size(); ++ri) {
    const Resolution res = kAllResolutions[ri];
    const int64_t len = resolution_ms(res);
    RollupAccumulator acc;
    int64_t bucket = bucket_start(rows[b].r.time_ms, len);
    for (std::size_t k = b; k < e; ++k) {
      const int64_t bk = bucket_start(rows[k].r.time_ms, len);
      if (bk != bucket) {
        if (auto st = upsert_rollup(*writer, res, key, bucket, acc); !st.ok()) return st.error();
        acc = RollupAccumulator{};
        bucket = bk;
      }
      acc.add(rows[k].r);
    }
    if (auto st = upsert_rollup(*writer, res, key, bucket, acc); !st.ok()) return st.error();
  }
  return {};
}

// Stores rows (sorted by key, time, seq) in chunks and rollups, skipping any whose (meter, seq) a
// chunk already holds (another process may have stored it). Inside the caller's transaction.
Expected<void> SqliteStore::Impl::write_rows(std::vector<Row>& rows, std::vector<std::size_t>* skipped) {
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
    const std::vector<Row>* src = &rows;
    std::size_t sb = b, se = e;
    if (may_exist) {
      auto st = keep_unstored(*writer, key, fr.value()->max_seq, rows, b, e, &fresh, skipped);
      if (!st.ok()) return st.error();
      src = &fresh;
      sb = 0;
      se = fresh.size();
    }
    if (se > sb) {
      if (auto st = write_meter_chunks(key, *src, sb, se); !st.ok()) return st.error();
      if (auto st = write_meter_rollups(key, *src, sb, se); !st.ok()) return st.error();
    }
    b = e;
  }
  return {};
}

}  // namespace wattguard::storage
