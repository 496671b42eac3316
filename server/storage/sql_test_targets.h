// The two engines a store's tables live on, for tests that must pass on both: a fresh SQLite file, or a fresh
// database on the test binary's private PostgreSQL. Test-only.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "wattguard/storage/sql_connection.h"
#include "wattguard/test_support/postgres_server.h"
#include "wattguard/test_support/temp_dir.h"

namespace wattguard::storage::sql_test {

inline std::string engine_name(const ::testing::TestParamInfo<SqlDialect>& info) {
  return info.param == SqlDialect::kSqlite ? "Sqlite" : "Postgresql";
}

// A new empty database on the test binary's private PostgreSQL (its connection string), or "" after a test
// failure saying why.
inline std::string fresh_pg_database() {
  auto server = test_support::shared_postgres();
  if (!server.ok()) {
    ADD_FAILURE() << "no PostgreSQL for the test: " << server.error().message;
    return "";
  }
  auto db = server.value()->create_database();
  if (!db.ok()) {
    ADD_FAILURE() << db.error().message;
    return "";
  }
  return db.value();
}

// Where the test's tables go; reopening the same target is a restart.
class TargetFor {
 public:
  explicit TargetFor(SqlDialect dialect) {
    if (dialect == SqlDialect::kSqlite) {
      target_.sqlite_path = dir_.file("tables.db");
      return;
    }
    target_.pg_conninfo = fresh_pg_database();
  }
  const SqlTarget& target() const { return target_; }

 private:
  test_support::TempDir dir_{"sql"};
  SqlTarget target_;
};

inline const auto kBothEngines = ::testing::Values(SqlDialect::kSqlite, SqlDialect::kPostgresql);

}  // namespace wattguard::storage::sql_test
