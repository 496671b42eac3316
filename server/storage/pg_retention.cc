// PgStore's retention: the persisted policy, and deleting what is older than it per resolution. Raw
// readings go a month at a time where a whole partition is older than the cutoff (DROP TABLE: no row-by-row
// delete, no bloat), and by DELETE in the month the cutoff falls in.
#include <algorithm>
#include <string>

#include "server/storage/pg_store_impl.h"
#include "server/storage/retention_settings.h"
#include "server/storage/sqlite_schema.h"

namespace wattguard::storage {

Expected<void> PgStore::set_retention(const RetentionPolicy& policy) {
  if (auto s = check_retention(policy); !s.ok()) return s;
  const auto days = retention_days(policy);
  std::lock_guard lk(impl_->write_mu);
  return impl_->guarded("saving retention", [&]() -> Expected<void> {
    auto conn = impl_->writer_conn();
    if (!conn.ok()) return conn.error();
    pqxx::work txn(*conn.value());
    for (std::size_t i = 0; i < days.size(); ++i) {
      txn.exec_params(
          "INSERT INTO settings(key,value) VALUES($1,$2) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
          std::string(kRetentionKeys[i]), std::to_string(days[i]));
    }
    txn.commit();
    return {};
  });
}

Expected<RetentionPolicy> PgStore::retention() {
  Impl::Lease lease(*impl_);
  return impl_->guarded("reading retention", [&]() -> Expected<RetentionPolicy> {
    auto conn = lease.conn();
    if (!conn.ok()) return conn.error();
    pqxx::read_transaction txn(*conn.value());
    RetentionPolicy p;
    const std::array<int*, 5> fields = retention_fields(&p);
    const pqxx::result r = txn.exec("SELECT key,value FROM settings WHERE key LIKE 'retention.%'");
    for (const auto& row : r) {
      for (std::size_t i = 0; i < fields.size(); ++i) {
        if (kRetentionKeys[i] == std::string_view(row[0].c_str())) *fields[i] = std::atoi(row[1].c_str());
      }
    }
    return p;
  });
}

Expected<RetentionResult> PgStore::apply_retention(int64_t now_ms) {
  auto policy = retention();
  if (!policy.ok()) return policy.error();
  const auto days = retention_days(policy.value());
  Impl& m = *impl_;
  RetentionResult result;
  std::lock_guard lk(m.write_mu);
  auto done = m.guarded("applying retention", [&]() -> Expected<void> {
    auto conn = m.writer_conn();
    if (!conn.ok()) return conn.error();
    pqxx::connection& c = *conn.value();
    for (std::size_t ri = 0; ri < kAllResolutions.size(); ++ri) {
      if (days[ri] == 0) continue;
      const int64_t cutoff = now_ms - static_cast<int64_t>(days[ri]) * 86'400'000;
      const Resolution res = kAllResolutions[ri];
      if (res != Resolution::kRaw) {
        pqxx::work txn(c);
        const pqxx::result r =
            txn.exec_params(std::string("DELETE FROM ") + rollup_table(res) + " WHERE bucket_ms<$1", cutoff);
        result.deleted[ri] += static_cast<uint64_t>(r.affected_rows());
        txn.commit();
        continue;
      }
      m.load_partitions(c);
      // Whole months before the cutoff: counted, their ledger rows deleted, then dropped, in one transaction.
      for (int64_t month : std::set<int64_t>(m.partitions)) {
        if (month_start_ms(month + 1) > cutoff) break;
        pqxx::work txn(c);
        const std::string part = partition_name(month);
        result.deleted[ri] += static_cast<uint64_t>(txn.exec1("SELECT count(*) FROM " + part)[0].as<int64_t>());
        txn.exec_params("DELETE FROM reading_seqs WHERE time_ms>=$1 AND time_ms<$2", month_start_ms(month),
                        month_start_ms(month + 1));
        txn.exec("DROP TABLE " + part);
        txn.commit();
        m.partitions.erase(month);
      }
      // The rest (the month the cutoff falls in) row by row.
      pqxx::work txn(c);
      const pqxx::result r = txn.exec_params("DELETE FROM readings WHERE time_ms<$1", cutoff);
      result.deleted[ri] += static_cast<uint64_t>(r.affected_rows());
      txn.exec_params("DELETE FROM reading_seqs WHERE time_ms<$1", cutoff);
      txn.commit();
      m.tails.clear();  // a meter's newest reading may have gone
    }
    return {};
  });
  if (!done.ok()) return done.error();
  return result;
}

}  // namespace wattguard::storage
