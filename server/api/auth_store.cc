// SQLite persistence of users, sessions and API tokens.
#include "wattguard/api/auth_store.h"

#include <stdexcept>

#include "wattguard/storage/sqlite_db.h"

namespace wattguard::api {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS auth_users (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE COLLATE NOCASE,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS auth_sessions (
  id_hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES auth_users(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS auth_sessions_expiry ON auth_sessions(expires_at);
CREATE TABLE IF NOT EXISTS auth_tokens (
  id INTEGER PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  scope TEXT NOT NULL,
  label TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
)sql";

using storage::Db;
using storage::Stmt;

// A cached statement of the store's own SQL. Failing to prepare it is a bug (or a file that is not ours),
// not an expected failure.
Stmt prepared(Db& db, const char* sql) {
  auto s = db.prepare(sql);
  if (!s.ok()) throw std::logic_error("auth_store: bad SQL: " + s.error().message);
  return std::move(s.value());
}

// Primary result code: the connection reports extended codes (SQLITE_CONSTRAINT_UNIQUE...).
int primary_code(int rc) { return rc & 0xff; }

Error database_error(const Db& db, int rc) { return db.error_from(rc, "database error"); }

User user_from_row(const Stmt& s) {
  User u;
  u.id = s.int64(0);
  u.name = s.text(1);
  u.role = role_from_name(s.text(2)).value_or(Role::kConsumer);
  u.created_at_s = s.int64(3);
  return u;
}

// A broken rule: the field, and the message the user reads (the value is left out: it may be a password).
Error fail(std::string field, std::string message) { return Error::invalid(std::move(field), "", std::move(message)); }

// What is already taken or absent, still naming the field for the API's answer.
Error fail_as(Error kind, std::string field) {
  kind.field = std::move(field);
  return kind;
}

}  // namespace

const char* role_name(Role role) {
  switch (role) {
    case Role::kConsumer: return "consumer";
    case Role::kOperator: return "operator";
    case Role::kAdmin: return "admin";
  }
  return "consumer";
}

std::optional<Role> role_from_name(std::string_view name) {
  if (name == "consumer") return Role::kConsumer;
  if (name == "operator") return Role::kOperator;
  if (name == "admin") return Role::kAdmin;
  return std::nullopt;
}

const char* scope_name(TokenScope scope) { return scope == TokenScope::kAdmin ? "admin" : "read"; }

std::optional<TokenScope> scope_from_name(std::string_view name) {
  if (name == "read") return TokenScope::kRead;
  if (name == "admin") return TokenScope::kAdmin;
  return std::nullopt;
}

std::string check_user_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return "must be 1 to 64 characters";
  for (char ch : name) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                    ch == '_' || ch == '@' || ch == '-';
    if (!ok) return "may contain only letters, digits and . _ @ -";
  }
  return "";
}

std::string check_password_rules(std::string_view password) {
  if (password.size() < 8) return "must be at least 8 characters";
  if (password.size() > 1024) return "must be at most 1024 characters";
  return "";
}

Expected<std::unique_ptr<AuthStore>> AuthStore::open(const std::string& path) {
  // The readings store writes to the same file all the time: wait for its lock instead of failing.
  auto db = Db::open(path, 5000);
  if (!db.ok()) return db.error();
  // WAL is persistent in the file; setting it here too means `users add` before the first
  // `serve` leaves the file as the readings store expects it.
  for (const char* sql : {"PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;", kSchema}) {
    if (auto st = db.value()->exec(sql); !st.ok()) {
      Error e = std::move(st).error();
      e.message = path + ": " + e.message;
      return e;
    }
  }
  return std::unique_ptr<AuthStore>(new AuthStore(std::move(db.value())));
}

AuthStore::AuthStore(std::unique_ptr<Db> db) : db_(std::move(db)) {}

AuthStore::~AuthStore() = default;

std::optional<User> AuthStore::user_by_name_locked(const std::string& name) {
  Stmt s = prepared(*db_, "SELECT id, name, role, created_at FROM auth_users WHERE name = ?");
  s.bind(1, name);
  if (s.step() != SQLITE_ROW) return std::nullopt;
  return user_from_row(s);
}

Expected<void> AuthStore::add_user(const std::string& name, Role role, std::string_view password, PasswordCost cost,
                                   int64_t now_s) {
  if (auto err = check_user_name(name); !err.empty()) return fail("name", "name " + err);
  if (auto err = check_password_rules(password); !err.empty()) return fail("password", "password " + err);
  // Hash outside the lock: argon2id takes tens of milliseconds on purpose.
  const auto hash = hash_password(password, cost);
  if (!hash) return fail("password", "out of memory hashing the password");
  std::lock_guard lock(mutex_);
  Stmt s = prepared(*db_, "INSERT INTO auth_users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)");
  s.bind(1, name);
  s.bind(2, role_name(role));
  s.bind(3, *hash);
  s.bind(4, now_s);
  const int rc = s.step();
  if (primary_code(rc) == SQLITE_CONSTRAINT)
    return fail_as(Error::already_exists("a user named '" + name + "' already exists"), "name");
  if (rc != SQLITE_DONE) return database_error(*db_, rc);
  return {};
}

std::optional<User> AuthStore::find_user(const std::string& name) {
  std::lock_guard lock(mutex_);
  return user_by_name_locked(name);
}

std::vector<User> AuthStore::list_users() {
  std::lock_guard lock(mutex_);
  std::vector<User> users;
  Stmt s = prepared(*db_, "SELECT id, name, role, created_at FROM auth_users ORDER BY name");
  while (s.step() == SQLITE_ROW) users.push_back(user_from_row(s));
  return users;
}

Expected<void> AuthStore::delete_user_quietly(const std::string& name) {
  std::lock_guard lock(mutex_);
  Stmt s = prepared(*db_, "DELETE FROM auth_users WHERE name = ?");
  s.bind(1, name);
  if (const int rc = s.step(); rc != SQLITE_DONE) return database_error(*db_, rc);
  if (db_->changes() == 0) return fail_as(Error::not_found("no user named '" + name + "'"), "name");
  return {};
}

Expected<void> AuthStore::set_password_quietly(const std::string& name, std::string_view password, PasswordCost cost) {
  if (auto err = check_password_rules(password); !err.empty()) return fail("password", "password " + err);
  const auto hash = hash_password(password, cost);
  if (!hash) return fail("password", "out of memory hashing the password");
  std::lock_guard lock(mutex_);
  Stmt s = prepared(*db_, "UPDATE auth_users SET password_hash = ? WHERE name = ?");
  s.bind(1, *hash);
  s.bind(2, name);
  if (const int rc = s.step(); rc != SQLITE_DONE) return database_error(*db_, rc);
  if (db_->changes() == 0) return fail_as(Error::not_found("no user named '" + name + "'"), "name");
  // A new password ends the user's other sessions.
  Stmt end = prepared(*db_, "DELETE FROM auth_sessions WHERE user_id = (SELECT id FROM auth_users WHERE name = ?)");
  end.bind(1, name);
  end.step();
  return {};
}

Expected<void> AuthStore::set_role_quietly(const std::string& name, Role role) {
  std::lock_guard lock(mutex_);
  Stmt s = prepared(*db_, "UPDATE auth_users SET role = ? WHERE name = ?");
  s.bind(1, role_name(role));
  s.bind(2, name);
  if (const int rc = s.step(); rc != SQLITE_DONE) return database_error(*db_, rc);
  if (db_->changes() == 0) return fail_as(Error::not_found("no user named '" + name + "'"), "name");
  return {};
}

int64_t AuthStore::user_count() {
  std::lock_guard lock(mutex_);
  Stmt s = prepared(*db_, "SELECT COUNT(*) FROM auth_users");
  return s.step() == SQLITE_ROW ? s.int64(0) : 0;
}

std::optional<User> AuthStore::check_password(const std::string& name, std::string_view password, PasswordCost cost) {
  std::string stored;
  std::optional<User> user;
  {
    std::lock_guard lock(mutex_);
    Stmt s = prepared(*db_, "SELECT id, name, role, created_at, password_hash FROM auth_users WHERE name = ?");
    s.bind(1, name);
    if (s.step() == SQLITE_ROW) {
      user = user_from_row(s);
      stored = s.text(4);
    }
  }
  // Verify outside the lock (argon2id is slow on purpose), and verify even for unknown names.
  const bool match = verify_password(user ? stored : dummy_password_hash(cost), password);
  if (!user || !match) return std::nullopt;
  return user;
}

std::string AuthStore::create_session(int64_t user_id, int64_t now_s, int64_t ttl_s) {
  const std::string id = random_secret(32);
  std::lock_guard lock(mutex_);
  Stmt s = prepared(*db_, "INSERT INTO auth_sessions (id_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)");
  s.bind(1, hash_secret(id));
  s.bind(2, user_id);
  s.bind(3, now_s);
  s.bind(4, now_s + ttl_s);
  if (s.step() != SQLITE_DONE) return "";
  return id;
}

std::optional<AuthStore::SessionUser> AuthStore::session_user(std::string_view session_id, int64_t now_s) {
  if (session_id.empty() || session_id.size() > 128) return std::nullopt;
  std::lock_guard lock(mutex_);
  Stmt s = prepared(*db_,
                    "SELECT u.id, u.name, u.role, u.created_at, s.expires_at FROM auth_sessions s "
                    "JOIN auth_users u ON u.id = s.user_id WHERE s.id_hash = ? AND s.expires_at > ?");
  s.bind(1, hash_secret(session_id));
  s.bind(2, now_s);
  if (s.step() != SQLITE_ROW) return std::nullopt;
  SessionUser result;
  result.user = user_from_row(s);
  result.expires_at_s = s.int64(4);
  return result;
}

void AuthStore::delete_session_quietly(std::string_view session_id) {
  std::lock_guard lock(mutex_);
  Stmt s = prepared(*db_, "DELETE FROM auth_sessions WHERE id_hash = ?");
  s.bind(1, hash_secret(session_id));
  s.step();
}

int64_t AuthStore::purge_expired_sessions(int64_t now_s) {
  std::lock_guard lock(mutex_);
  Stmt s = prepared(*db_, "DELETE FROM auth_sessions WHERE expires_at <= ?");
  s.bind(1, now_s);
  s.step();
  return db_->changes();
}

std::string AuthStore::create_token(TokenScope scope, const std::string& label, int64_t now_s) {
  // A recognisable prefix helps secret scanners and people tell what the string is.
  const std::string token = "wgt_" + random_secret(32);
  if (!add_token(token, scope, label, now_s).ok()) return "";
  return token;
}

Expected<void> AuthStore::add_token(std::string_view token, TokenScope scope, const std::string& label, int64_t now_s) {
  if (token.size() < 16 || token.size() > 256) return fail("token", "token must be 16 to 256 characters");
  for (char ch : token) {
    if (ch <= ' ' || ch > '~') return fail("token", "token must be printable ASCII without spaces");
  }
  std::lock_guard lock(mutex_);
  Stmt s = prepared(*db_, "INSERT INTO auth_tokens (token_hash, scope, label, created_at) VALUES (?, ?, ?, ?)");
  s.bind(1, hash_secret(token));
  s.bind(2, scope_name(scope));
  s.bind(3, label);
  s.bind(4, now_s);
  const int rc = s.step();
  if (primary_code(rc) == SQLITE_CONSTRAINT)
    return fail_as(Error::already_exists("this token already exists"), "token");
  if (rc != SQLITE_DONE) return database_error(*db_, rc);
  return {};
}

std::optional<TokenInfo> AuthStore::find_token(std::string_view token) {
  if (token.empty() || token.size() > 256) return std::nullopt;
  std::lock_guard lock(mutex_);
  Stmt s = prepared(*db_, "SELECT id, scope, label, created_at FROM auth_tokens WHERE token_hash = ?");
  s.bind(1, hash_secret(token));
  if (s.step() != SQLITE_ROW) return std::nullopt;
  TokenInfo info;
  info.id = s.int64(0);
  info.scope = scope_from_name(s.text(1)).value_or(TokenScope::kRead);
  info.label = s.text(2);
  info.created_at_s = s.int64(3);
  return info;
}

std::vector<TokenInfo> AuthStore::list_tokens() {
  std::lock_guard lock(mutex_);
  std::vector<TokenInfo> tokens;
  Stmt s = prepared(*db_, "SELECT id, scope, label, created_at FROM auth_tokens ORDER BY id");
  while (s.step() == SQLITE_ROW) {
    TokenInfo info;
    info.id = s.int64(0);
    info.scope = scope_from_name(s.text(1)).value_or(TokenScope::kRead);
    info.label = s.text(2);
    info.created_at_s = s.int64(3);
    tokens.push_back(std::move(info));
  }
  return tokens;
}

Expected<void> AuthStore::revoke_token_quietly(int64_t id) {
  std::lock_guard lock(mutex_);
  Stmt s = prepared(*db_, "DELETE FROM auth_tokens WHERE id = ?");
  s.bind(1, id);
  if (const int rc = s.step(); rc != SQLITE_DONE) return database_error(*db_, rc);
  if (db_->changes() == 0) return fail_as(Error::not_found("no token with id " + std::to_string(id)), "id");
  return {};
}

// ---------------------------------------------------------------------------------------------
// The changes that can take access away tell the listener, after the database has them and outside the mutex.

void AuthStore::set_revocation_listener(std::function<void()> listener) {
  std::lock_guard lock(listener_mutex_);
  listener_ = std::move(listener);
}

void AuthStore::notify_revocation() {
  std::function<void()> listener;
  {
    std::lock_guard lock(listener_mutex_);
    listener = listener_;
  }
  if (listener) listener();
}

Expected<void> AuthStore::delete_user(const std::string& name) {
  auto done = delete_user_quietly(name);
  if (done.ok()) notify_revocation();
  return done;
}

Expected<void> AuthStore::set_password(const std::string& name, std::string_view password, PasswordCost cost) {
  auto done = set_password_quietly(name, password, cost);
  if (done.ok()) notify_revocation();
  return done;
}

Expected<void> AuthStore::set_role(const std::string& name, Role role) {
  auto done = set_role_quietly(name, role);
  if (done.ok()) notify_revocation();
  return done;
}

Expected<void> AuthStore::revoke_token(int64_t id) {
  auto done = revoke_token_quietly(id);
  if (done.ok()) notify_revocation();
  return done;
}

void AuthStore::delete_session(std::string_view session_id) {
  delete_session_quietly(session_id);
  notify_revocation();
}

}  // namespace wattguard::api
