// PgStore's reads of readings: raw series, aggregated series (from raw rows or the coarsest fitting rollup,
// in one repeatable-read snapshot), latest state and sequence summaries.
#include <algorithm>

#include "server/storage/aggregate_query.h"
#include "server/storage/pg_store_impl.h"
#include "server/storage/sqlite_schema.h"

namespace wattguard::storage {
namespace {

using protocol::Reading;
using Snapshot = pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>;

// Adds the meter's raw readings in [from_ms, to_ms) to step buckets, and the register before from_ms.
void sum_raw(pqxx::transaction_base& txn, int64_t key, int64_t from_ms, int64_t to_ms, int64_t step, BucketSums* sums) {
  const pqxx::result r = txn.exec_params(std::string("SELECT ") + kPgReadingColumns +
                                             " FROM readings WHERE meter=$1 AND time_ms>=$2 AND time_ms<$3",
                                         key, from_ms, to_ms);
  for (const auto& row : r) {
    const Reading reading = row_to_reading(row, 0, nullptr);
    sums->acc[bucket_start(reading.time_ms, step)].add(reading);
  }
  const pqxx::result b = txn.exec_params(
      "SELECT time_ms,e_import_wh,e_export_wh FROM readings WHERE meter=$1 AND time_ms<$2 "
      "ORDER BY time_ms DESC, seq DESC LIMIT 1",
      key, from_ms);
  if (!b.empty()) sums->consider_prev(i64(b[0][0]), f64(b[0][1]), f64(b[0][2]));
}

// Merges the meter's rollup buckets of `res` in [from_ms, to_ms) into step buckets.
void sum_rollups(pqxx::transaction_base& txn, Resolution res, int64_t key, int64_t from_ms, int64_t to_ms, int64_t step,
                 BucketSums* sums) {
  const std::string t = rollup_table(res);
  const pqxx::result r = txn.exec_params(
      "SELECT bucket_ms,n,p_sum,p_min,p_max,v_sum,v_min,v_max,i_sum,s_sum,q_sum,pf_sum,f_sum,"
      "first_ms,first_imp,first_exp,last_ms,last_imp,last_exp,flags FROM " +
          t + " WHERE meter=$1 AND bucket_ms>=$2 AND bucket_ms<$3 ORDER BY bucket_ms",
      key, from_ms, to_ms);
  for (const auto& row : r) {
    RollupAccumulator a;
    int c = 1;
    a.n = i64(row[c++]);
    for (double* v : {&a.p_sum, &a.p_min, &a.p_max, &a.v_sum, &a.v_min, &a.v_max, &a.i_sum, &a.s_sum, &a.q_sum,
                      &a.pf_sum, &a.f_sum}) {
      *v = f64(row[c++]);
    }
    a.first_ms = i64(row[c++]);
    a.first_imp = f64(row[c++]);
    a.first_exp = f64(row[c++]);
    a.last_ms = i64(row[c++]);
    a.last_imp = f64(row[c++]);
    a.last_exp = f64(row[c++]);
    a.flags = static_cast<uint32_t>(i64(row[c]));
    sums->acc[bucket_start(i64(row[0]), step)].merge(a);
  }
  const pqxx::result p = txn.exec_params("SELECT last_ms,last_imp,last_exp FROM " + t +
                                             " WHERE meter=$1 AND bucket_ms<$2 ORDER BY bucket_ms DESC LIMIT 1",
                                         key, from_ms);
  if (!p.empty()) sums->consider_prev(i64(p[0][0]), f64(p[0][1]), f64(p[0][2]));
}

LatestState latest_from_row(const pqxx::row& row, int c, std::string meter_id) {
  LatestState st;
  st.reading = row_to_reading(row, c, &st.received_ms);
  st.reading.meter_id = std::move(meter_id);
  return st;
}

}  // namespace

Expected<std::vector<Reading>> PgStore::raw_readings(std::string_view meter_id, int64_t from_ms, int64_t to_ms,
                                                     std::size_t limit) {
  Impl::Lease lease(*impl_);
  return impl_->guarded("reading raw readings", [&]() -> Expected<std::vector<Reading>> {
    auto conn = lease.conn();
    if (!conn.ok()) return conn.error();
    pqxx::read_transaction txn(*conn.value());
    auto key = impl_->key_of(txn, meter_id);
    if (!key.ok()) return key.error();
    const pqxx::result r =
        txn.exec_params(std::string("SELECT ") + kPgReadingColumns +
                            " FROM readings WHERE meter=$1 AND time_ms>=$2 AND time_ms<$3 "
                            "ORDER BY time_ms, seq LIMIT $4",
                        key.value(), from_ms, to_ms, static_cast<int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
    std::vector<Reading> out;
    out.reserve(r.size());
    for (const auto& row : r) {
      out.push_back(row_to_reading(row, 0, nullptr));
      out.back().meter_id = std::string(meter_id);
    }
    return out;
  });
}

Expected<AggregateSeries> PgStore::readings(std::string_view meter_id, int64_t from_ms, int64_t to_ms, int64_t step_ms,
                                            std::size_t max_points) {
  auto shape = series_shape(from_ms, to_ms, step_ms, max_points);
  if (!shape.ok()) return shape.error();
  AggregateSeries series = std::move(shape.value());
  const int64_t step = series.step_ms;
  const int64_t aligned_from = bucket_start(from_ms, step);
  Impl::Lease lease(*impl_);
  return impl_->guarded("reading aggregated readings", [&]() -> Expected<AggregateSeries> {
    auto conn = lease.conn();
    if (!conn.ok()) return conn.error();
    Snapshot txn(*conn.value());  // the buckets and the register before them from one committed state
    auto key = impl_->key_of(txn, meter_id);
    if (!key.ok()) return key.error();
    BucketSums sums;
    if (series.source == Resolution::kRaw) {
      sum_raw(txn, key.value(), aligned_from, to_ms, step, &sums);
    } else {
      sum_rollups(txn, series.source, key.value(), aligned_from, to_ms, step, &sums);
    }
    txn.commit();
    sums.to_points(&series);
    return std::move(series);
  });
}

Expected<std::optional<LatestState>> PgStore::latest(std::string_view meter_id) {
  Impl::Lease lease(*impl_);
  return impl_->guarded("reading the latest reading", [&]() -> Expected<std::optional<LatestState>> {
    auto conn = lease.conn();
    if (!conn.ok()) return conn.error();
    pqxx::read_transaction txn(*conn.value());
    auto key = impl_->key_of(txn, meter_id);
    if (!key.ok()) return key.error();
    const pqxx::result r = txn.exec_params(std::string("SELECT ") + kPgReadingColumns +
                                               " FROM readings WHERE meter=$1 ORDER BY time_ms DESC, seq DESC LIMIT 1",
                                           key.value());
    if (r.empty()) return std::optional<LatestState>();
    return std::optional<LatestState>(latest_from_row(r[0], 0, std::string(meter_id)));
  });
}

Expected<std::vector<LatestState>> PgStore::latest_all() {
  Impl::Lease lease(*impl_);
  return impl_->guarded("reading the latest readings", [&]() -> Expected<std::vector<LatestState>> {
    auto conn = lease.conn();
    if (!conn.ok()) return conn.error();
    pqxx::read_transaction txn(*conn.value());
    // One index probe per meter (the newest row of each partition's (meter, time_ms, seq) key).
    const pqxx::result r =
        txn.exec(std::string("SELECT m.id, r.* FROM meters m CROSS JOIN LATERAL (SELECT ") + kPgReadingColumns +
                 " FROM readings WHERE meter=m.key ORDER BY time_ms DESC, seq DESC LIMIT 1) r "
                 "ORDER BY m.id");
    std::vector<LatestState> out;
    out.reserve(r.size());
    for (const auto& row : r) out.push_back(latest_from_row(row, 1, row[0].c_str()));
    return out;
  });
}

Expected<SeqSummary> PgStore::seq_summary(std::string_view meter_id) {
  Impl::Lease lease(*impl_);
  return impl_->guarded("counting readings", [&]() -> Expected<SeqSummary> {
    auto conn = lease.conn();
    if (!conn.ok()) return conn.error();
    pqxx::read_transaction txn(*conn.value());
    auto key = impl_->key_of(txn, meter_id);
    if (!key.ok()) return key.error();
    // The ledger holds exactly the stored readings' (meter, seq): its key answers without the partitions.
    const pqxx::row r =
        txn.exec_params1("SELECT count(*), min(seq), max(seq) FROM reading_seqs WHERE meter=$1", key.value());
    SeqSummary out;
    out.count = static_cast<uint64_t>(i64(r[0]));
    if (out.count > 0) {
      out.min_seq = static_cast<uint64_t>(i64(r[1]));
      out.max_seq = static_cast<uint64_t>(i64(r[2]));
    }
    return out;
  });
}

}  // namespace wattguard::storage
