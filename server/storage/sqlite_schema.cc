// Schema migrations of the SQLite store. Never edit a released migration; append a new one.
#include "server/storage/sqlite_schema.h"

#include <string>
#include <vector>

namespace wattguard::storage {
namespace {

std::string rollup_ddl(const char* table) {
  return std::string("CREATE TABLE ") + table +
         "(meter INTEGER NOT NULL, bucket_ms INTEGER NOT NULL, n INTEGER NOT NULL,"
         " p_sum REAL NOT NULL, p_min REAL NOT NULL, p_max REAL NOT NULL,"
         " v_sum REAL NOT NULL, v_min REAL NOT NULL, v_max REAL NOT NULL,"
         " i_sum REAL NOT NULL, s_sum REAL NOT NULL, q_sum REAL NOT NULL, pf_sum REAL NOT NULL, f_sum REAL NOT NULL,"
         " first_ms INTEGER NOT NULL, first_imp REAL NOT NULL, first_exp REAL NOT NULL,"
         " last_ms INTEGER NOT NULL, last_imp REAL NOT NULL, last_exp REAL NOT NULL,"
         " flags INTEGER NOT NULL, PRIMARY KEY(meter, bucket_ms)) WITHOUT ROWID;\n";
}

// Migration i (1-based) takes the schema from version i-1 to version i.
std::vector<std::string> migrations() {
  std::string v1 = R"SQL(
CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE meters(
  key INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL DEFAULT '',
  area TEXT NOT NULL DEFAULT '',
  owner TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL);
CREATE INDEX meters_by_area ON meters(area);
CREATE INDEX meters_by_owner ON meters(owner);
-- Raw readings of one meter, up to 128 per chunk and spanning at most one hour, as fixed-size
-- records (reading_record.h) sorted by time. Chunks of one meter may overlap in time (late readings).
CREATE TABLE raw_chunks(
  id INTEGER PRIMARY KEY,
  meter INTEGER NOT NULL,
  t_first INTEGER NOT NULL,
  t_last INTEGER NOT NULL,
  seq_first INTEGER NOT NULL,
  seq_last INTEGER NOT NULL,
  n INTEGER NOT NULL,
  data BLOB NOT NULL);
CREATE INDEX raw_chunks_by_time ON raw_chunks(meter, t_first);
CREATE INDEX raw_chunks_by_seq ON raw_chunks(meter, seq_last);
-- Appended batches not yet compacted into raw_chunks and the rollups: one row per batch,
-- records prefixed by the meter key.
CREATE TABLE staging(
  id INTEGER PRIMARY KEY,
  received_ms INTEGER NOT NULL,
  n INTEGER NOT NULL,
  data BLOB NOT NULL);
CREATE TABLE events(
  id INTEGER PRIMARY KEY,
  meter INTEGER NOT NULL,
  time_ms INTEGER NOT NULL,
  kind TEXT NOT NULL,
  edge TEXT NOT NULL,
  source TEXT NOT NULL,
  details TEXT NOT NULL,
  received_ms INTEGER NOT NULL);
CREATE UNIQUE INDEX events_dedup ON events(meter, kind, edge, time_ms);
CREATE INDEX events_by_time ON events(time_ms);
CREATE TABLE commands(
  id TEXT PRIMARY KEY,
  meter INTEGER NOT NULL,
  kind TEXT NOT NULL,
  args TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  state TEXT NOT NULL,
  message TEXT NOT NULL,
  relay TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  sent_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL);
CREATE INDEX commands_by_meter ON commands(meter, created_ms);
CREATE INDEX commands_by_state ON commands(state);
CREATE TABLE audit_log(
  id INTEGER PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  details TEXT NOT NULL);
CREATE INDEX audit_by_target ON audit_log(target, id);
)SQL";
  for (Resolution r : kAllResolutions) {
    if (r != Resolution::kRaw) v1 += rollup_ddl(rollup_table(r));
  }
  // v2: where an interrupted compaction cycle got to (staging batches <= upto_id are compacted
  // for meters with key <= done_key).
  std::string v2 = R"SQL(
CREATE TABLE compaction_progress(
  id INTEGER PRIMARY KEY CHECK(id = 1),
  upto_id INTEGER NOT NULL,
  done_key INTEGER NOT NULL);
)SQL";
  // Retiring a meter keeps its history; the flag stops its ingest and leaves it out of the fleet by default.
  std::string v3 = R"SQL(
ALTER TABLE meters ADD COLUMN retired_ms INTEGER NOT NULL DEFAULT 0;
)SQL";
  return {v1, v2, v3};
}

}  // namespace

const char* rollup_table(Resolution res) {
  switch (res) {
    case Resolution::kRaw: return "";
    case Resolution::k1Min: return "rollup_1m";
    case Resolution::k15Min: return "rollup_15m";
    case Resolution::k1Hour: return "rollup_1h";
    case Resolution::k1Day: return "rollup_1d";
  }
  return "";
}

Expected<void> migrate_schema(Db& db, int newest_version) {
  // Reading sqlite_master is the first access to the file: a non-database fails here.
  Expected<void> s = db.exec("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)");
  if (!s.ok()) return s;
  const std::vector<std::string> all = migrations();
  if (static_cast<int>(all.size()) != newest_version) {
    return Error::corruption("build error: migrations and schema version disagree");
  }
  for (;;) {
    // Read the version inside the write transaction: another process may be migrating the same file.
    Transaction txn(db);
    if (s = txn.begin_immediate(); !s.ok()) return s;
    int current = 0;
    {
      auto stmt = db.prepare("SELECT max(version) FROM schema_version");
      if (!stmt.ok()) return stmt.error();
      if (stmt->step() == SQLITE_ROW && !stmt->is_null(0)) current = static_cast<int>(stmt->int64(0));
    }
    if (current > newest_version) {
      return Error::corruption("database schema version " + std::to_string(current) + " is newer than this build's " +
                               std::to_string(newest_version) + "; upgrade wattguard");
    }
    if (current == newest_version) return txn.commit();
    const int v = current + 1;
    if (s = db.exec(all[static_cast<std::size_t>(v - 1)]); !s.ok()) return s;
    if (s = db.exec("INSERT INTO schema_version(version) VALUES(" + std::to_string(v) + ")"); !s.ok()) return s;
    if (s = txn.commit(); !s.ok()) return s;
  }
}

}  // namespace wattguard::storage
