// Thin RAII wrappers over the SQLite C API: a connection with a prepared-statement cache, and a statement.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "wattguard/base/expected.h"

namespace wattguard::storage {

// A prepared statement borrowed from a connection's cache; reset and unbound when it goes out of scope.
// Not thread-safe (neither is the connection it belongs to).
class Stmt {
 public:
  // owned: finalized on destruction (one-off SQL); else reset and returned to the cache.
  explicit Stmt(sqlite3_stmt* stmt, bool owned = false) : stmt_(stmt), owned_(owned) {}
  ~Stmt() {
    if (!stmt_) return;
    if (owned_) {
      sqlite3_finalize(stmt_);
    } else {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt(Stmt&& o) noexcept : stmt_(o.stmt_), owned_(o.owned_) { o.stmt_ = nullptr; }

  // Binding is 1-based like SQLite.
  void bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void bind(int i, uint64_t v) { sqlite3_bind_int64(stmt_, i, static_cast<int64_t>(v)); }
  void bind(int i, int v) { sqlite3_bind_int64(stmt_, i, v); }
  void bind(int i, uint32_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void bind(int i, double v) { sqlite3_bind_double(stmt_, i, v); }
  void bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void bind(int i, const char* v) { bind(i, std::string_view(v)); }
  void bind(int i, const std::string& v) { bind(i, std::string_view(v)); }

  // Binds bytes without copying them. REQUIRES: `bytes` outlives the statement's last step.
  void bind_blob(int i, std::string_view bytes) {
    sqlite3_bind_blob(stmt_, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_STATIC);
  }

  // SQLITE_ROW, SQLITE_DONE, or an error code.
  int step() { return sqlite3_step(stmt_); }
  // Makes the statement ready to step again (bindings are kept until rebound).
  void reset() { sqlite3_reset(stmt_); }

  sqlite3_stmt* handle() const { return stmt_; }
  int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  double real(int col) const { return sqlite3_column_double(stmt_, col); }
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }

 private:
  sqlite3_stmt* stmt_;
  bool owned_;
};

// One connection. Not thread-safe: the store guards each connection with its own lock.
class Db {
 public:
  static Expected<std::unique_ptr<Db>> open(const std::string& path, int busy_timeout_ms);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more statements without results. Errors carry the SQLite message.
  Expected<void> exec(std::string_view sql);
  // A cached prepared statement for `sql` (which must be a string literal or otherwise stable).
  Expected<Stmt> prepare(const char* sql);
  // A statement for SQL built at run time; finalized when the Stmt is destroyed.
  Expected<Stmt> prepare_once(const std::string& sql);
  // The connection's last failure (or the failure `rc`) as an Error prefixed by `what`: kCorruption for a
  // damaged file, kAlreadyExists for a constraint violation, kIoError otherwise.
  Error last_error(std::string_view what) const;
  Error error_from(int rc, std::string_view what) const;
  // Steps `s` once for its effect: ok on SQLITE_DONE or SQLITE_ROW, else the error prefixed by `what`.
  Expected<void> step_done(Stmt& s, std::string_view what) const;
  int64_t changes() const { return sqlite3_changes64(db_); }
  int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
  sqlite3* handle() const { return db_; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

// Commits on commit(), rolls back in the destructor otherwise.
class Transaction {
 public:
  explicit Transaction(Db& db) : db_(db) {}
  ~Transaction() {
    if (active_) db_.exec("ROLLBACK");
  }
  Expected<void> begin_immediate() { return begin("BEGIN IMMEDIATE"); }
  Expected<void> begin_deferred() { return begin("BEGIN"); }
  Expected<void> commit() {
    Expected<void> s = db_.exec("COMMIT");
    if (s.ok()) active_ = false;
    return s;
  }

 private:
  Expected<void> begin(const char* sql) {
    Expected<void> s = db_.exec(sql);
    active_ = s.ok();
    return s;
  }

  Db& db_;
  bool active_ = false;
};

}  // namespace wattguard::storage
