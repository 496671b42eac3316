// SqlConnection over SQLite: $n parameters become ?n, statements are prepared once per literal.
#include <memory>
#include <string>
#include <unordered_map>

#include "wattguard/storage/sql_connection.h"
#include "wattguard/storage/sqlite_db.h"

namespace wattguard::storage {
namespace {

// "$12" -> "?12" outside quoted strings and identifiers; SQLite binds ?NNN by number, as PostgreSQL does $NNN.
std::string with_sqlite_parameters(std::string_view sql) {
  std::string out(sql);
  char quote = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '$' && i + 1 < out.size() && out[i + 1] >= '0' && out[i + 1] <= '9') {
      out[i] = '?';
    }
  }
  return out;
}

class SqliteConnection final : public SqlConnection {
 public:
  SqliteConnection(std::unique_ptr<Db> db, std::string path) : db_(std::move(db)), path_(std::move(path)) {}

  SqlDialect dialect() const override { return SqlDialect::kSqlite; }

  Expected<SqlResult> run(const char* sql, std::initializer_list<SqlValue> params) override {
    auto it = translated_.find(sql);
    if (it == translated_.end()) it = translated_.emplace(sql, with_sqlite_parameters(sql)).first;
    auto prepared = db_->prepare(it->second.c_str());
    if (!prepared.ok()) return named(prepared.error());
    Stmt& s = prepared.value();
    int i = 1;
    for (const SqlValue& p : params) {
      if (const auto* n = std::get_if<int64_t>(&p)) {
        s.bind(i, *n);
      } else if (const auto* d = std::get_if<double>(&p)) {
        s.bind(i, *d);
      } else if (const auto* t = std::get_if<std::string>(&p)) {
        s.bind(i, std::string_view(*t));
      } else {
        sqlite3_bind_null(s.handle(), i);
      }
      ++i;
    }
    SqlResult result;
    const int columns = sqlite3_column_count(s.handle());
    for (;;) {
      const int rc = s.step();
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return named(db_->error_from(rc, "database error"));
      std::vector<SqlValue> cells;
      cells.reserve(static_cast<std::size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        switch (sqlite3_column_type(s.handle(), c)) {
          case SQLITE_INTEGER: cells.emplace_back(s.int64(c)); break;
          case SQLITE_FLOAT: cells.emplace_back(s.real(c)); break;
          case SQLITE_NULL: cells.emplace_back(std::monostate{}); break;
          default: cells.emplace_back(s.text(c)); break;
        }
      }
      result.rows.emplace_back(std::move(cells));
    }
    result.affected = sqlite3_stmt_readonly(s.handle()) != 0 ? 0 : db_->changes();
    return result;
  }

  Expected<void> script(std::string_view sql) override {
    if (auto done = db_->exec(sql); !done.ok()) return named(done.error());
    return {};
  }

 private:
  Error named(Error e) const {
    e.message = path_ + ": " + e.message;
    return e;
  }

  std::unique_ptr<Db> db_;
  std::string path_;
  std::unordered_map<const char*, std::string> translated_;  // keyed by the caller's literal
};

}  // namespace

Expected<std::unique_ptr<SqlConnection>> open_sqlite_connection(const std::string& path, int busy_timeout_ms) {
  auto db = Db::open(path, busy_timeout_ms);
  if (!db.ok()) return db.error();
  // WAL is persistent in the file; setting it here too means a CLI command before the first `serve` leaves the
  // file as the readings store expects it.
  if (auto st = db.value()->exec("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;");
      !st.ok()) {
    Error e = std::move(st).error();
    e.message = path + ": " + e.message;
    return e;
  }
  return std::unique_ptr<SqlConnection>(new SqliteConnection(std::move(db.value()), path));
}

}  // namespace wattguard::storage
