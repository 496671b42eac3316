// SQLite connection and statement cache.
#include "wattguard/storage/sqlite_db.h"

#include <fcntl.h>
#include <unistd.h>

namespace wattguard::storage {

Expected<std::unique_ptr<Db>> Db::open(const std::string& path, int busy_timeout_ms) {
  // A new database is made private before SQLite opens it (SQLite would create it with the umask's 0644):
  // it holds password hashes and everyone's consumption. Its -wal and -shm files take the same mode.
  if (path != ":memory:" && !path.empty()) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(fd);
  }
  sqlite3* handle = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &handle, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = "cannot open database " + path + ": " + (handle ? sqlite3_errmsg(handle) : sqlite3_errstr(rc));
    sqlite3_close(handle);
    return Error::io(msg);
  }
  sqlite3_busy_timeout(handle, busy_timeout_ms);
  sqlite3_extended_result_codes(handle, 1);
  return std::unique_ptr<Db>(new Db(handle));
}

Db::~Db() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

Error Db::error_from(int rc, std::string_view what) const {
  const int primary = rc & 0xff;
  Error error = Error::io(std::string(what) + ": " + sqlite3_errmsg(db_));
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) error.code = ErrorCode::kCorruption;
  if (primary == SQLITE_CONSTRAINT) error.code = ErrorCode::kAlreadyExists;
  return error;
}

Error Db::last_error(std::string_view what) const { return error_from(sqlite3_extended_errcode(db_), what); }

Expected<void> Db::step_done(Stmt& s, std::string_view what) const {
  const int rc = s.step();
  if (rc == SQLITE_DONE || rc == SQLITE_ROW) return {};
  return error_from(rc, what);
}

Expected<void> Db::exec(std::string_view sql) {
  char* err = nullptr;
  const std::string text(sql);
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return {};
  Error s = error_from(rc, "sql failed (" + text.substr(0, 60) + ")");
  if (err) {
    s.message = "sql failed (" + text.substr(0, 60) + "): " + err;
    sqlite3_free(err);
  }
  return s;
}

Expected<Stmt> Db::prepare(const char* sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return Stmt(it->second);
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    Error s = error_from(rc, "cannot prepare statement");
    sqlite3_finalize(stmt);
    return s;
  }
  cache_.emplace(sql, stmt);
  return Stmt(stmt);
}

Expected<Stmt> Db::prepare_once(const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    Error s = error_from(rc, "cannot prepare statement");
    sqlite3_finalize(stmt);
    return s;
  }
  return Stmt(stmt, /*owned=*/true);
}

}  // namespace wattguard::storage
