// The backends the shared ReadingStore suite runs on: SQLite served from staging, SQLite compacted after
// every append, and PostgreSQL (a fresh database on the binary's private server). Test-only.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "server/storage/sql_test_targets.h"
#include "server/storage/sqlite_store_test_support.h"
#include "wattguard/storage/pg_store.h"
#include "wattguard/test_support/postgres_server.h"

namespace wattguard::storage::store_test {

enum class BackendKind { kSqliteStaged, kSqliteCompacted, kPostgresql };

inline std::string backend_name(BackendKind kind) {
  switch (kind) {
    case BackendKind::kSqliteStaged: return "SqliteStaged";
    case BackendKind::kSqliteCompacted: return "SqliteCompacted";
    case BackendKind::kPostgresql: return "Postgresql";
  }
  return "";
}

// One database of one backend: open() opens it (again, after the last store was closed: a restart).
class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::unique_ptr<ReadingStore> open() = 0;
  // After each append of the suite: SQLite compacted moves the staged readings into chunks and rollups.
  virtual void settle(ReadingStore& /*store*/) {}
};

class SqliteBackend final : public Backend {
 public:
  explicit SqliteBackend(bool compact) : compact_(compact) {}
  std::unique_ptr<ReadingStore> open() override { return db_.open(); }
  void settle(ReadingStore& store) override {
    if (compact_) {
      EXPECT_TRUE(static_cast<SqliteStore&>(store).compact().ok());
    }
  }

 private:
  TempDb db_;
  bool compact_;
};

class PgBackend final : public Backend {
 public:
  PgBackend() : conninfo_(sql_test::fresh_pg_database()) {}
  const std::string& conninfo() const { return conninfo_; }
  std::unique_ptr<ReadingStore> open() override { return open_pg(); }
  std::unique_ptr<PgStore> open_pg() {
    if (conninfo_.empty()) return nullptr;
    PgOptions options;
    options.conninfo = conninfo_;
    options.reader_connections = 2;
    auto s = PgStore::open(options);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
    return s.ok() ? std::move(s.value()) : nullptr;
  }

 private:
  std::string conninfo_;
};

inline std::unique_ptr<Backend> make_backend(BackendKind kind) {
  switch (kind) {
    case BackendKind::kSqliteStaged: return std::make_unique<SqliteBackend>(false);
    case BackendKind::kSqliteCompacted: return std::make_unique<SqliteBackend>(true);
    case BackendKind::kPostgresql: return std::make_unique<PgBackend>();
  }
  return nullptr;
}

}  // namespace wattguard::storage::store_test
