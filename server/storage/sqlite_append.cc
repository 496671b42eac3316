// SqliteStore::append_readings: validating a batch, refusing unknown meters, finding duplicates, late readings
// and register rollbacks, then staging the batch (or, without the writer lock, writing it straight to chunks).
#include <algorithm>
#include <cstring>

#include "server/storage/append_checks.h"
#include "server/storage/reading_record.h"
#include "server/storage/sqlite_store_impl.h"

namespace wattguard::storage {
namespace {

using protocol::Reading;

std::optional<PendingEvent> rollback_between(int64_t key, uint64_t prev_seq, double prev_imp, double prev_exp,
                                             uint64_t next_seq, double next_imp, double next_exp, int64_t time_ms,
                                             const std::string& meter_id) {
  auto e = register_rollback(prev_seq, prev_imp, prev_exp, next_seq, next_imp, next_exp, time_ms, meter_id);
  if (!e) return std::nullopt;
  return PendingEvent{key, std::move(*e)};
}

bool is_newer_than(const Reading& r, const Tail& tail) {
  return !tail.has || r.time_ms > tail.time_ms || (r.time_ms == tail.time_ms && r.seq > tail.seq);
}

}  // namespace

// Looks up each reading's meter key (into *keys, by batch index); readings of unknown meters are refused
// and dropped from *order. Consecutive readings of one meter share a lookup.
Expected<void> SqliteStore::Impl::resolve_keys(std::span<const Reading> readings, std::vector<uint32_t>* order,
                                               std::vector<int64_t>* keys, AppendResult* result) {
  return resolve_meter_keys(readings, order, keys, result, [&](const std::string& id) { return key_of(*writer, id); });
}

// True if (meter, seq) is stored, staged, or earlier in this batch. New sequence numbers (above everything
// in chunks) need no chunk lookup.
Expected<bool> SqliteStore::Impl::is_duplicate(AppendBatch& batch, int64_t key, const Reading& r) {
  if (key != batch.batch_key) {
    batch.batch_seqs.clear();
    batch.batch_key = key;
  }
  auto fr = facts_of(key);
  if (!fr.ok()) return fr.error();
  const ChunkFacts& f = *fr.value();
  if (primary ? staged_seqs[key].count(r.seq) > 0 : batch.batch_seqs.count(r.seq) > 0) return true;
  if (f.has_chunks && r.seq <= f.max_seq) return chunk_has_seq(*writer, key, r.seq);
  return false;
}

// A late reading (store-and-forward): compares it with its neighbours by time among chunks, staged rows
// and this batch, in both directions.
Expected<void> SqliteStore::Impl::find_late_rollbacks(AppendBatch& batch, int64_t key, const Reading& r) {
  auto prev_chunk = newest_chunk_reading_before(*writer, key, r.time_ms);
  if (!prev_chunk.ok()) return prev_chunk.error();
  auto next_chunk = oldest_chunk_reading_after(*writer, key, r.time_ms);
  if (!next_chunk.ok()) return next_chunk.error();
  std::optional<Row> prev = prev_chunk.value(), next = next_chunk.value();
  auto consider = [&](const Row& o) {
    if (o.r.time_ms < r.time_ms && (!prev || by_time_seq(*prev, o))) prev = o;
    if (o.r.time_ms > r.time_ms && (!next || by_time_seq(o, *next))) next = o;
  };
  if (auto st = staged.find(key); st != staged.end()) {
    for (const Row& o : st->second) consider(o);
  }
  for (auto it = batch.accepted.rbegin(); it != batch.accepted.rend() && it->key == key; ++it) consider(*it);
  if (prev) {
    if (auto e = rollback_between(key, prev->r.seq, prev->r.e_import_wh, prev->r.e_export_wh, r.seq, r.e_import_wh,
                                  r.e_export_wh, r.time_ms, r.meter_id)) {
      batch.events.push_back(std::move(*e));
    }
  }
  if (next) {
    if (auto e = rollback_between(key, r.seq, r.e_import_wh, r.e_export_wh, next->r.seq, next->r.e_import_wh,
                                  next->r.e_export_wh, next->r.time_ms, r.meter_id)) {
      batch.events.push_back(std::move(*e));
    }
  }
  return {};
}

// Counts one reading as a duplicate, or accepts it: notes its seq, checks it against the meter's newest
// reading (or its neighbours when late) for register rollbacks, and adds it to batch.accepted.
Expected<void> SqliteStore::Impl::check_reading(AppendBatch& batch, int64_t key, uint32_t index, const Reading& r,
                                                int64_t received_ms) {
  auto duplicate = is_duplicate(batch, key, r);
  if (!duplicate.ok()) return duplicate.error();
  if (duplicate.value()) {
    ++batch.result.duplicates;
    batch.result.duplicate_indices.push_back(index);
    return {};
  }
  if (primary) {
    staged_seqs[key].insert(r.seq);
    batch.added_seqs.emplace_back(key, r.seq);
    uint64_t& mx = staged_max_seq[key];
    mx = std::max(mx, r.seq);
  } else {
    batch.batch_seqs.insert(r.seq);
  }
  auto tr = tail_of(key);
  if (!tr.ok()) return tr.error();
  Tail& tail = *tr.value();
  if (is_newer_than(r, tail)) {
    if (tail.has) {
      if (auto e = rollback_between(key, tail.seq, tail.imp, tail.exp, r.seq, r.e_import_wh, r.e_export_wh, r.time_ms,
                                    r.meter_id)) {
        batch.events.push_back(std::move(*e));
      }
    }
    tail = Tail{true, r.time_ms, r.seq, r.e_import_wh, r.e_export_wh};
  } else {
    ++batch.result.late;
    if (auto st = find_late_rollbacks(batch, key, r); !st.ok()) return st.error();
  }
  Row row;
  row.key = key;
  row.received_ms = received_ms;
  row.index = index;
  row.r = r;
  batch.accepted.push_back(std::move(row));
  return {};
}

// Writes the accepted readings: as one staging row (primary writer; returns its id) or straight into
// chunks and rollups (returns 0; readings a chunk already holds become duplicates).
Expected<int64_t> SqliteStore::Impl::write_accepted(AppendBatch& batch, int64_t received_ms) {
  if (batch.accepted.empty()) return int64_t{0};
  Db& db = *writer;
  if (!primary) {
    std::vector<std::size_t> skipped;
    if (auto st = write_rows(batch.accepted, &skipped); !st.ok()) return st.error();
    batch.result.stored -= skipped.size();
    batch.result.duplicates += skipped.size();
    batch.result.duplicate_indices.insert(batch.result.duplicate_indices.end(), skipped.begin(), skipped.end());
    return int64_t{0};
  }
  std::string blob(batch.accepted.size() * kStagedRecordBytes, '\0');
  auto* p = reinterpret_cast<uint8_t*>(blob.data());
  for (const Row& row : batch.accepted) {
    std::memcpy(p, &row.key, 8);
    encode_record(row.r, row.received_ms, p + 8);
    p += kStagedRecordBytes;
  }
  auto s = db.prepare("INSERT INTO staging(received_ms,n,data) VALUES(?,?,?)");
  if (!s.ok()) return s.error();
  s->bind(1, received_ms);
  s->bind(2, static_cast<int64_t>(batch.accepted.size()));
  s->bind_blob(3, blob);
  if (auto st = db.step_done(*s, "staging readings"); !st.ok()) return st.error();
  return db.last_insert_rowid();
}

// Inserts the batch's register_rollback events (a repeat is ignored) and reports the new ones.
Expected<void> SqliteStore::Impl::insert_rollback_events(AppendBatch& batch, int64_t received_ms) {
  Db& db = *writer;
  for (PendingEvent& pe : batch.events) {
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
    if (auto st = db.step_done(*s, "inserting event"); !st.ok()) return st.error();
    if (db.changes() == 1) {
      batch.result.events.push_back(
          StoredEvent{db.last_insert_rowid(), std::move(pe.event), EventSource::kServer, received_ms});
      ++batch.result.rollbacks;
    }
  }
  return {};
}

// After a failed append: takes back the seqs it added to staged_seqs and rebuilds the writer-side caches.
void SqliteStore::Impl::undo_added_seqs(const std::vector<std::pair<int64_t, uint64_t>>& added) {
  for (const auto& [key, seq] : added) {
    auto it = staged_seqs.find(key);
    if (it != staged_seqs.end()) it->second.erase(seq);
  }
  staged_max_seq.clear();
  for (const auto& [key, set] : staged_seqs) {
    if (!set.empty()) staged_max_seq[key] = *std::max_element(set.begin(), set.end());
  }
  drop_writer_caches();
}

// After the staging row committed: readers see the readings from now on; one bounded compaction step if due
// (one per append keeps the latency of any one call bounded).
Expected<void> SqliteStore::Impl::publish_staged(std::vector<Row>& accepted, int64_t staging_id) {
  {
    std::unique_lock mem(mem_mu);
    for (Row& row : accepted) {
      row.staging_id = staging_id;
      row.r.meter_id.clear();  // readers fill it in; saves memory per staged row
      staged[row.key].push_back(std::move(row));
    }
  }
  staged_batches.push_back({staging_id, accepted.size(), std::chrono::steady_clock::now()});
  staged_count += accepted.size();
  if (compaction_due()) return compact_step();
  return {};
}

Expected<AppendResult> SqliteStore::append_readings(std::span<const Reading> readings, int64_t received_ms) {
  Impl& m = *impl_;
  AppendBatch batch;
  std::vector<uint32_t> order = valid_indices(readings, &batch.result);
  std::lock_guard lk(m.write_mu);
  if (auto s = m.refresh_writer_view(); !s.ok()) return s.error();
  std::vector<int64_t> keys(readings.size(), -1);
  if (auto s = m.resolve_keys(readings, &order, &keys, &batch.result); !s.ok()) return s.error();
  std::sort(batch.result.refused.begin(), batch.result.refused.end(),
            [](const AppendResult::Refused& a, const AppendResult::Refused& b) { return a.index < b.index; });
  if (order.empty()) return std::move(batch.result);

  // Oldest first per meter, so in-batch order never looks like a late reading or a rollback.
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    if (keys[a] != keys[b]) return keys[a] < keys[b];
    if (readings[a].time_ms != readings[b].time_ms) return readings[a].time_ms < readings[b].time_ms;
    if (readings[a].seq != readings[b].seq) return readings[a].seq < readings[b].seq;
    return a < b;  // of two copies, the first in the batch is the one stored
  });

  Transaction txn(*m.writer);
  if (auto s = txn.begin_immediate(); !s.ok()) return s.error();
  // On any failure the writer-side caches are rebuilt from the database.
  struct Undo {
    Impl& m;
    const AppendBatch& batch;
    bool committed = false;
    ~Undo() {
      if (!committed) m.undo_added_seqs(batch.added_seqs);
    }
  } undo{m, batch};

  batch.accepted.reserve(order.size());
  for (uint32_t i : order) {
    if (auto s = m.check_reading(batch, keys[i], i, readings[i], received_ms); !s.ok()) return s.error();
  }
  batch.result.stored = batch.accepted.size();
  auto staging_id = m.write_accepted(batch, received_ms);
  if (!staging_id.ok()) return staging_id.error();
  if (auto s = m.insert_rollback_events(batch, received_ms); !s.ok()) return s.error();
  if (auto s = txn.commit(); !s.ok()) return s.error();
  undo.committed = true;
  std::sort(batch.result.duplicate_indices.begin(), batch.result.duplicate_indices.end());
  if (m.primary && staging_id.value() > 0) {
    // Committed: a failing compaction step cannot undo that, and reporting the batch as failed would make
    // the caller retry it and count its own rows as duplicates.
    if (auto s = m.publish_staged(batch.accepted, staging_id.value()); !s.ok()) {
      batch.result.maintenance_error = "stored, but compacting staged readings failed: " + s.error().message;
    }
  }
  return std::move(batch.result);
}

}  // namespace wattguard::storage
