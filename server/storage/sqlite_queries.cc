// SqliteStore's reads of readings: raw series, aggregated series (from chunks or the coarsest fitting rollup),
// latest state and sequence summaries. Each merges what the database holds with the staged readings.
#include <algorithm>
#include <tuple>

#include "server/storage/aggregate_query.h"
#include "server/storage/rollup_sql.h"
#include "server/storage/sqlite_store_impl.h"

namespace wattguard::storage {
namespace {

using protocol::Reading;

// Newest reading of a meter over chunks and staged rows.
Expected<std::optional<LatestState>> latest_for_key(Db& db, int64_t key, const std::string& id,
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

// Adds the meter's raw readings in [from_ms, to_ms) from chunks to step buckets.
Expected<void> sum_raw(Db& db, int64_t key, int64_t from_ms, int64_t to_ms, int64_t step, BucketSums* sums) {
  std::vector<Row> rows;
  if (auto s = chunks_in_range(db, key, from_ms, to_ms, &rows); !s.ok()) return s.error();
  for (const Row& r : rows) {
    if (r.r.time_ms >= from_ms && r.r.time_ms < to_ms) sums->acc[bucket_start(r.r.time_ms, step)].add(r.r);
  }
  auto before = newest_chunk_reading_before(db, key, from_ms);
  if (!before.ok()) return before.error();
  if (const auto& b = before.value()) sums->consider_prev(b->r.time_ms, b->r.e_import_wh, b->r.e_export_wh);
  return {};
}

// Merges the meter's rollup buckets of `res` in [from_ms, to_ms) into step buckets.
Expected<void> sum_rollups(Db& db, Resolution res, int64_t key, int64_t from_ms, int64_t to_ms, int64_t step,
                           BucketSums* sums) {
  auto s = db.prepare(rollup_sql(res).select_range.c_str());
  if (!s.ok()) return s.error();
  s->bind(1, key);
  s->bind(2, from_ms);
  s->bind(3, to_ms);
  int rc;
  while ((rc = s->step()) == SQLITE_ROW) sums->acc[bucket_start(s->int64(0), step)].merge(accumulator_from_row(*s, 1));
  if (rc != SQLITE_DONE) return db.error_from(rc, "reading rollups");
  auto p = db.prepare(rollup_sql(res).select_prev.c_str());
  if (!p.ok()) return p.error();
  p->bind(1, key);
  p->bind(2, from_ms);
  rc = p->step();
  if (rc == SQLITE_ROW) {
    sums->consider_prev(p->int64(0), p->real(1), p->real(2));
  } else if (rc != SQLITE_DONE) {
    return db.error_from(rc, "reading the register before the range");
  }
  return {};
}

}  // namespace

Expected<std::vector<Reading>> SqliteStore::raw_readings(std::string_view meter_id, int64_t from_ms, int64_t to_ms,
                                                         std::size_t limit) {
  Impl& m = *impl_;
  Impl::Lease lease(m);
  Db& db = lease.db();
  auto key = m.key_of(db, meter_id);
  if (!key.ok()) return key.error();
  std::vector<Row> rows;
  {
    std::shared_lock mem(m.mem_mu);
    if (auto s = chunks_in_range(db, key.value(), from_ms, to_ms, &rows); !s.ok()) return s.error();
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

Expected<AggregateSeries> SqliteStore::readings(std::string_view meter_id, int64_t from_ms, int64_t to_ms,
                                                int64_t step_ms, std::size_t max_points) {
  auto shape = series_shape(from_ms, to_ms, step_ms, max_points);
  if (!shape.ok()) return shape.error();
  AggregateSeries series = std::move(shape.value());
  const int64_t step = series.step_ms;
  const int64_t aligned_from = bucket_start(from_ms, step);

  Impl& m = *impl_;
  Impl::Lease lease(m);
  Db& db = lease.db();
  auto key_result = m.key_of(db, meter_id);
  if (!key_result.ok()) return key_result.error();
  const int64_t key = key_result.value();

  BucketSums sums;
  {
    std::shared_lock mem(m.mem_mu);
    Transaction snapshot(db);  // all database reads see one committed state
    if (auto s = snapshot.begin_deferred(); !s.ok()) return s.error();
    auto st = series.source == Resolution::kRaw ? sum_raw(db, key, aligned_from, to_ms, step, &sums)
                                                : sum_rollups(db, series.source, key, aligned_from, to_ms, step, &sums);
    if (!st.ok()) return st.error();
    if (auto s = snapshot.commit(); !s.ok()) return s.error();
    if (auto it = m.staged.find(key); it != m.staged.end()) {
      for (const Row& r : it->second) {
        if (r.r.time_ms < aligned_from) {
          sums.consider_prev(r.r.time_ms, r.r.e_import_wh, r.r.e_export_wh);
        } else if (r.r.time_ms < to_ms) {
          sums.acc[bucket_start(r.r.time_ms, step)].add(r.r);
        }
      }
    }
  }
  sums.to_points(&series);
  return series;
}

Expected<std::optional<LatestState>> SqliteStore::latest(std::string_view meter_id) {
  Impl& m = *impl_;
  Impl::Lease lease(m);
  auto key = m.key_of(lease.db(), meter_id);
  if (!key.ok()) return key.error();
  std::shared_lock mem(m.mem_mu);
  return latest_for_key(lease.db(), key.value(), std::string(meter_id), m.staged_copy(key.value()));
}

Expected<std::vector<LatestState>> SqliteStore::latest_all() {
  Impl& m = *impl_;
  Impl::Lease lease(m);
  Db& db = lease.db();
  std::shared_lock mem(m.mem_mu);
  Transaction snapshot(db);
  if (auto s = snapshot.begin_deferred(); !s.ok()) return s.error();
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
  if (auto s = snapshot.commit(); !s.ok()) return s.error();
  return out;
}

Expected<SeqSummary> SqliteStore::seq_summary(std::string_view meter_id) {
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

}  // namespace wattguard::storage
