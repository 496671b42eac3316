// Schema migrations of the PostgreSQL store and its readings partitions. Never edit a released migration;
// append a new one.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "server/storage/pg_store_impl.h"
#include "server/storage/sqlite_schema.h"

namespace wattguard::storage {
namespace {

// Constants shared by every wattguard server: migrations, and the creation of partitions, of one database
// are serialised on these advisory locks.
constexpr int64_t kMigrationLockId = 0x7761'7474'6775'6172;  // "wattguar"
constexpr int64_t kPartitionLockId = 0x7761'7474'7061'7274;  // "wattpart"

std::string rollup_ddl(const char* table) {
  return std::string("CREATE TABLE ") + table +
         "(meter bigint NOT NULL, bucket_ms bigint NOT NULL, n bigint NOT NULL,"
         " p_sum float8 NOT NULL, p_min float8 NOT NULL, p_max float8 NOT NULL,"
         " v_sum float8 NOT NULL, v_min float8 NOT NULL, v_max float8 NOT NULL,"
         " i_sum float8 NOT NULL, s_sum float8 NOT NULL, q_sum float8 NOT NULL, pf_sum float8 NOT NULL,"
         " f_sum float8 NOT NULL, first_ms bigint NOT NULL, first_imp float8 NOT NULL, first_exp float8 NOT NULL,"
         " last_ms bigint NOT NULL, last_imp float8 NOT NULL, last_exp float8 NOT NULL,"
         " flags bigint NOT NULL, PRIMARY KEY(meter, bucket_ms));\n";
}

// Migration i (1-based) takes the schema from version i-1 to version i.
std::vector<std::string> migrations() {
  std::string v1 = R"SQL(
CREATE TABLE settings(key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE meters(
  key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id text NOT NULL UNIQUE,
  name text NOT NULL DEFAULT '',
  area text NOT NULL DEFAULT '',
  owner text NOT NULL DEFAULT '',
  created_ms bigint NOT NULL,
  retired_ms bigint NOT NULL DEFAULT 0);
CREATE INDEX meters_by_area ON meters(area);
CREATE INDEX meters_by_owner ON meters(owner);
-- Raw readings, one row each, in monthly range partitions on time_ms (created by the store ahead of time and
-- on demand; retention drops whole months). The key includes time_ms because a partitioned table's unique
-- keys must hold the partition key; it is also the index of every range query.
CREATE TABLE readings(
  meter bigint NOT NULL,
  seq bigint NOT NULL,
  time_ms bigint NOT NULL,
  vrms float8 NOT NULL, irms float8 NOT NULL, p_w float8 NOT NULL, s_va float8 NOT NULL, q_var float8 NOT NULL,
  pf float8 NOT NULL, freq_hz float8 NOT NULL, e_import_wh float8 NOT NULL, e_export_wh float8 NOT NULL,
  flags bigint NOT NULL,
  received_ms bigint NOT NULL,
  PRIMARY KEY(meter, time_ms, seq)) PARTITION BY RANGE(time_ms);
-- The (meter, seq) ledger: idempotence. A unique (meter, seq) cannot be declared on the partitioned table
-- (it lacks the partition key), and a repeat of a seq may carry another time, so it could land in another
-- partition. Each append first inserts its (meter, seq) here ON CONFLICT DO NOTHING: the rows that went in
-- are the new readings; concurrent servers inserting the same pair wait for each other on this key, so a
-- reading is stored once however many servers receive it. time_ms is kept for retention.
CREATE TABLE reading_seqs(
  meter bigint NOT NULL,
  seq bigint NOT NULL,
  time_ms bigint NOT NULL,
  PRIMARY KEY(meter, seq));
CREATE TABLE events(
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  meter bigint NOT NULL,
  time_ms bigint NOT NULL,
  kind text NOT NULL,
  edge text NOT NULL,
  source text NOT NULL,
  details text NOT NULL,
  received_ms bigint NOT NULL);
CREATE UNIQUE INDEX events_dedup ON events(meter, kind, edge, time_ms);
CREATE INDEX events_by_time ON events(time_ms);
CREATE TABLE commands(
  ord bigint GENERATED ALWAYS AS IDENTITY,
  id text PRIMARY KEY,
  meter bigint NOT NULL,
  kind text NOT NULL,
  args text NOT NULL,
  requested_by text NOT NULL,
  state text NOT NULL,
  message text NOT NULL,
  relay text NOT NULL,
  created_ms bigint NOT NULL,
  sent_ms bigint NOT NULL,
  updated_ms bigint NOT NULL);
CREATE INDEX commands_by_meter ON commands(meter, created_ms);
CREATE INDEX commands_by_state ON commands(state);
CREATE TABLE audit_log(
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  time_ms bigint NOT NULL,
  actor text NOT NULL,
  action text NOT NULL,
  target text NOT NULL,
  details text NOT NULL);
CREATE INDEX audit_by_target ON audit_log(target, id);
)SQL";
  for (Resolution r : kAllResolutions) {
    if (r != Resolution::kRaw) v1 += rollup_ddl(rollup_table(r));
  }
  return {v1};
}

}  // namespace

int64_t month_of(int64_t time_ms) {
  using namespace std::chrono;
  const year_month_day ymd{floor<days>(sys_time<milliseconds>(milliseconds(time_ms)))};
  return static_cast<int64_t>(static_cast<int>(ymd.year())) * 12 + static_cast<unsigned>(ymd.month()) - 1;
}

int64_t month_start_ms(int64_t month) {
  using namespace std::chrono;
  const int64_t y = month >= 0 ? month / 12 : (month - 11) / 12;
  const auto m = static_cast<unsigned>(month - y * 12 + 1);
  const sys_days d{year{static_cast<int>(y)} / std::chrono::month{m} / 1};
  return duration_cast<milliseconds>(d.time_since_epoch()).count();
}

std::string partition_name(int64_t month) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "readings_p%04lld%02lld", static_cast<long long>(month / 12),
                static_cast<long long>(month % 12 + 1));
  return buf;
}

Expected<void> migrate_pg_schema(pqxx::connection& conn, int newest_version) {
  const std::vector<std::string> all = migrations();
  if (static_cast<int>(all.size()) != newest_version) {
    return Error::corruption("build error: migrations and schema version disagree");
  }
  pqxx::work txn(conn);
  // Several servers may start at once on an empty database: one migrates, the others wait and find it done.
  txn.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLockId);
  txn.exec("CREATE TABLE IF NOT EXISTS schema_version(version integer NOT NULL)");
  const int current = txn.exec1("SELECT coalesce(max(version), 0) FROM schema_version")[0].as<int>();
  if (current > newest_version) {
    return Error::corruption("database schema version " + std::to_string(current) + " is newer than this build's " +
                             std::to_string(newest_version) + "; upgrade wattguard");
  }
  for (int v = current + 1; v <= newest_version; ++v) {
    txn.exec(all[static_cast<std::size_t>(v - 1)]);
    txn.exec_params("INSERT INTO schema_version(version) VALUES($1)", v);
  }
  txn.commit();
  return {};
}

void PgStore::Impl::load_partitions(pqxx::connection& conn) {
  pqxx::read_transaction txn(conn);
  const pqxx::result r = txn.exec(
      "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
      "WHERE i.inhparent = 'readings'::regclass");
  partitions.clear();
  for (const auto& row : r) {
    int y = 0, m = 0;
    if (std::sscanf(row[0].c_str(), "readings_p%4d%2d", &y, &m) == 2) partitions.insert(int64_t{y} * 12 + m - 1);
  }
}

void PgStore::Impl::ensure_partitions(pqxx::connection& conn, const std::set<int64_t>& months) {
  for (int64_t month : months) {
    if (partitions.count(month) > 0) continue;
    // Another server may be creating the same month: CREATE TABLE IF NOT EXISTS alone still races on the
    // catalog ("already exists"), so creators take turns and the later one finds it there.
    pqxx::work txn(conn);
    txn.exec_params("SELECT pg_advisory_xact_lock($1)", kPartitionLockId);
    txn.exec("CREATE TABLE IF NOT EXISTS " + partition_name(month) + " PARTITION OF readings FOR VALUES FROM (" +
             std::to_string(month_start_ms(month)) + ") TO (" + std::to_string(month_start_ms(month + 1)) + ")");
    txn.commit();
    partitions.insert(month);
  }
}

}  // namespace wattguard::storage
