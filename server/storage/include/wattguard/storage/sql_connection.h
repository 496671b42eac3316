// One SQL connection to either engine, for the stores that keep small tables beside the readings (users and
// sessions, ...): they write their statements once, in the SQL both SQLite and PostgreSQL accept, with $1..$n
// parameters, and the schema per dialect. The readings store does not use it: its hot paths are engine-specific
// (SQLite staging and chunks, PostgreSQL COPY and partitions).
// Thread safety: none; a store guards its connection with its own mutex.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "wattguard/base/expected.h"

namespace wattguard::storage {

enum class SqlDialect { kSqlite, kPostgresql };

// A parameter or a cell. PostgreSQL answers in text, which the accessors parse; SQLite keeps its types.
using SqlValue = std::variant<std::monostate, int64_t, double, std::string>;

class SqlRow {
 public:
  explicit SqlRow(std::vector<SqlValue> cells) : cells_(std::move(cells)) {}
  bool is_null(int col) const;
  int64_t int64(int col) const;  // 0 for NULL or text that is not a number
  double real(int col) const;
  std::string text(int col) const;

 private:
  std::vector<SqlValue> cells_;
};

struct SqlResult {
  std::vector<SqlRow> rows;
  int64_t affected = 0;  // rows changed by an INSERT, UPDATE or DELETE
};

class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  virtual SqlDialect dialect() const = 0;
  // Runs one statement with $1..$n bound to `params`. `sql` must outlive the connection (a literal): it keys
  // the prepared-statement cache. Errors: kAlreadyExists for a unique or primary-key violation, kIoError
  // otherwise (naming the database); a broken PostgreSQL connection is reopened on the next call.
  virtual Expected<SqlResult> run(const char* sql, std::initializer_list<SqlValue> params) = 0;
  // Runs statements without parameters or results (schema, BEGIN/COMMIT).
  virtual Expected<void> script(std::string_view sql) = 0;
};

// BEGIN ... COMMIT on a SqlConnection; rolled back when it goes out of scope uncommitted. On SQLite the
// transaction takes the write lock at BEGIN (IMMEDIATE), so a read-then-write inside it cannot be overtaken.
class SqlTransaction {
 public:
  explicit SqlTransaction(SqlConnection& conn) : conn_(conn) {}
  ~SqlTransaction() {
    if (active_) (void)conn_.script("ROLLBACK");
  }
  SqlTransaction(const SqlTransaction&) = delete;
  SqlTransaction& operator=(const SqlTransaction&) = delete;
  Expected<void> begin() {
    auto s = conn_.script(conn_.dialect() == SqlDialect::kSqlite ? "BEGIN IMMEDIATE" : "BEGIN");
    active_ = s.ok();
    return s;
  }
  Expected<void> commit() {
    auto s = conn_.script("COMMIT");
    if (s.ok()) active_ = false;
    return s;
  }

 private:
  SqlConnection& conn_;
  bool active_ = false;
};

// SQLite file at `path` (created 0600 when new), WAL, foreign keys on; waits up to busy_timeout_ms for a lock.
Expected<std::unique_ptr<SqlConnection>> open_sqlite_connection(const std::string& path, int busy_timeout_ms);
// PostgreSQL by libpq connection string.
Expected<std::unique_ptr<SqlConnection>> open_pg_connection(const std::string& conninfo);

// Where a store keeps its tables: the SQLite file, or the PostgreSQL database when conninfo is set.
struct SqlTarget {
  std::string sqlite_path;
  std::string pg_conninfo;
};
Expected<std::unique_ptr<SqlConnection>> open_sql_connection(const SqlTarget& target, int busy_timeout_ms);

}  // namespace wattguard::storage
