// SqliteStore's retention: the persisted policy and deleting what is older than it, per resolution.
#include <algorithm>
#include <string>

#include "server/storage/reading_record.h"
#include "server/storage/retention_settings.h"
#include "server/storage/rollup_sql.h"
#include "server/storage/sqlite_store_impl.h"

namespace wattguard::storage {
namespace {

// The chunks of `key` that hold readings on both sides of cutoff_ms, by id, decoded.
Expected<std::vector<std::pair<int64_t, std::vector<Row>>>> straddling_chunks(Db& db, int64_t key, int64_t cutoff_ms) {
  std::vector<std::pair<int64_t, std::vector<Row>>> out;
  auto s = db.prepare("SELECT id,n,data FROM raw_chunks WHERE meter=? AND t_first<? AND t_last>=?");
  if (!s.ok()) return s.error();
  s->bind(1, key);
  s->bind(2, cutoff_ms);
  s->bind(3, cutoff_ms);
  int rc;
  while ((rc = s->step()) == SQLITE_ROW) {
    out.emplace_back(s->int64(0), std::vector<Row>());
    decode_chunk(*s, 1, 2, key, &out.back().second);
  }
  if (rc != SQLITE_DONE) return db.error_from(rc, "applying retention");
  return out;
}

// Replaces chunk `id` with `rows` (REQUIRES: not empty), re-sorted and with its span and seq range recomputed.
Expected<void> rewrite_chunk(Db& db, int64_t id, std::vector<Row>& rows) {
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
  s->bind_blob(6, blob);
  s->bind(7, id);
  return db.step_done(*s, "applying retention");
}

}  // namespace

Expected<void> SqliteStore::set_retention(const RetentionPolicy& policy) {
  if (auto s = check_retention(policy); !s.ok()) return s;
  const auto days = retention_days(policy);
  std::lock_guard lk(impl_->write_mu);
  Db& db = *impl_->writer;
  Transaction txn(db);
  if (auto s = txn.begin_immediate(); !s.ok()) return s.error();
  for (std::size_t i = 0; i < days.size(); ++i) {
    auto s =
        db.prepare("INSERT INTO settings(key,value) VALUES(?,?) ON CONFLICT(key) DO UPDATE SET value=excluded.value");
    if (!s.ok()) return s.error();
    s->bind(1, kRetentionKeys[i]);
    s->bind(2, std::to_string(days[i]));
    if (auto st = db.step_done(*s, "saving retention"); !st.ok()) return st.error();
  }
  return txn.commit();
}

Expected<RetentionPolicy> SqliteStore::retention() {
  Impl::Lease lease(*impl_);
  Db& db = lease.db();
  RetentionPolicy p;
  const std::array<int*, 5> fields = retention_fields(&p);
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

// Deletes a meter's raw readings older than cutoff_ms in one transaction: whole chunks before the cutoff go,
// a chunk straddling it is rewritten without its old records. Returns how many readings went.
Expected<uint64_t> SqliteStore::Impl::trim_raw_chunks(int64_t key, int64_t cutoff_ms) {
  Db& db = *writer;
  Transaction txn(db);
  if (auto st = txn.begin_immediate(); !st.ok()) return st.error();
  uint64_t deleted = 0;
  {
    auto s = db.prepare("SELECT coalesce(sum(n),0) FROM raw_chunks WHERE meter=? AND t_first<? AND t_last<?");
    if (!s.ok()) return s.error();
    s->bind(1, key);
    s->bind(2, cutoff_ms);
    s->bind(3, cutoff_ms);
    if (s->step() != SQLITE_ROW) return db.last_error("applying retention");
    deleted += static_cast<uint64_t>(s->int64(0));
  }
  {
    auto s = db.prepare("DELETE FROM raw_chunks WHERE meter=? AND t_first<? AND t_last<?");
    if (!s.ok()) return s.error();
    s->bind(1, key);
    s->bind(2, cutoff_ms);
    s->bind(3, cutoff_ms);
    if (auto st = db.step_done(*s, "applying retention"); !st.ok()) return st.error();
  }
  auto straddling = straddling_chunks(db, key, cutoff_ms);
  if (!straddling.ok()) return straddling.error();
  for (auto& [id, rows] : straddling.value()) {
    const std::size_t before = rows.size();
    std::erase_if(rows, [&](const Row& r) { return r.r.time_ms < cutoff_ms; });
    deleted += before - rows.size();
    if (auto st = rewrite_chunk(db, id, rows); !st.ok()) return st.error();
  }
  if (auto st = txn.commit(); !st.ok()) return st.error();
  facts.erase(key);  // chunk facts changed (the newest chunk may have been trimmed)
  tails.erase(key);
  return deleted;
}

Expected<RetentionResult> SqliteStore::apply_retention(int64_t now_ms) {
  if (impl_->primary) {
    // Staged readings older than a cutoff would otherwise come back when compacted.
    std::lock_guard lk(impl_->write_mu);
    if (auto s = impl_->compact_all(); !s.ok()) return s.error();
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
      if (res == Resolution::kRaw) {
        auto deleted = m.trim_raw_chunks(key, cutoff);
        if (!deleted.ok()) return deleted.error();
        result.deleted[ri] += deleted.value();
        continue;
      }
      auto s = db.prepare(rollup_sql(res).delete_older.c_str());
      if (!s.ok()) return s.error();
      s->bind(1, key);
      s->bind(2, cutoff);
      if (auto st = db.step_done(*s, "applying retention"); !st.ok()) return st.error();
      result.deleted[ri] += static_cast<uint64_t>(db.changes());
    }
  }
  return result;
}

}  // namespace wattguard::storage
