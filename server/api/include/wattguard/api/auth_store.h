// Users, sign-in sessions and API tokens, persisted in SQLite (tables auth_* in the same
// database file as the readings, through a connection of its own) or in PostgreSQL (the same tables in the
// database the readings use, shared by every server). Which meters a consumer
// owns is not kept here but in the readings store (storage::MeterInfo::owner = user name).
// Thread-safe: every method takes an internal mutex.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wattguard/api/secrets.h"
#include "wattguard/base/expected.h"

namespace wattguard::storage {
class SqlConnection;
struct SqlTarget;
}  // namespace wattguard::storage

namespace wattguard::api {

enum class Role { kConsumer, kOperator, kAdmin };
enum class TokenScope { kRead, kAdmin };

const char* role_name(Role role);
std::optional<Role> role_from_name(std::string_view name);
const char* scope_name(TokenScope scope);
std::optional<TokenScope> scope_from_name(std::string_view name);  // "read" or "admin"

struct User {
  int64_t id = 0;
  std::string name;
  Role role = Role::kConsumer;
  int64_t created_at_s = 0;
};

struct TokenInfo {
  int64_t id = 0;
  TokenScope scope = TokenScope::kRead;
  std::string label;
  int64_t created_at_s = 0;
};

// The changes below return Expected<void>: an Error whose field names what was refused ("name", "password",
// "token", "id"), with kInvalidInput for a rule broken, kAlreadyExists for a taken name or token, kNotFound for
// an absent user or token, and kIoError for the database.

class AuthStore {
 public:
  // Opens (creating if needed) the auth tables in the SQLite file at `path`. kIoError (or kCorruption) naming
  // the path when the file cannot be opened or its tables created.
  static Expected<std::unique_ptr<AuthStore>> open(const std::string& path);
  // The same on either engine (the SQLite file, or a PostgreSQL database shared by several servers).
  static Expected<std::unique_ptr<AuthStore>> open(const storage::SqlTarget& target);
  ~AuthStore();
  AuthStore(const AuthStore&) = delete;
  AuthStore& operator=(const AuthStore&) = delete;

  // --- users ---
  // Names: 1..64 of [A-Za-z0-9._@-], unique ignoring case. Passwords: 8..1024 bytes.
  Expected<void> add_user(const std::string& name, Role role, std::string_view password, PasswordCost cost,
                          int64_t now_s);
  std::optional<User> find_user(const std::string& name);
  std::vector<User> list_users();
  Expected<void> delete_user(const std::string& name);
  Expected<void> set_password(const std::string& name, std::string_view password, PasswordCost cost);
  Expected<void> set_role(const std::string& name, Role role);
  int64_t user_count();
  // The user when the password matches. Does the same argon2id work for unknown names
  // (against `dummy_password_hash(cost)`) so response time does not reveal them.
  std::optional<User> check_password(const std::string& name, std::string_view password, PasswordCost cost);

  // --- sessions ---
  // A new random session id (the cookie value) valid until now_s + ttl_s. Only its hash is stored.
  std::string create_session(int64_t user_id, int64_t now_s, int64_t ttl_s);
  // The signed-in user and the session's expiry, or nullopt when unknown or expired.
  struct SessionUser {
    User user;
    int64_t expires_at_s = 0;
  };
  std::optional<SessionUser> session_user(std::string_view session_id, int64_t now_s);
  void delete_session(std::string_view session_id);
  int64_t purge_expired_sessions(int64_t now_s);

  // --- API tokens ---
  // Creates a random token and returns it; it cannot be recovered later (only its hash is kept).
  std::string create_token(TokenScope scope, const std::string& label, int64_t now_s);
  // Adds a caller-chosen token (demo `--api-token`); at least 16 characters.
  Expected<void> add_token(std::string_view token, TokenScope scope, const std::string& label, int64_t now_s);
  std::optional<TokenInfo> find_token(std::string_view token);
  std::vector<TokenInfo> list_tokens();
  Expected<void> revoke_token(int64_t id);

  // Called (on the calling thread, after the change) whenever a session ends or a user's or token's access may
  // have shrunk: delete_session, delete_user, set_password, set_role, revoke_token. nullptr: nobody.
  void set_revocation_listener(std::function<void()> listener);

 private:
  explicit AuthStore(std::unique_ptr<storage::SqlConnection> db);
  std::optional<User> user_by_name_locked(const std::string& name);
  Expected<void> delete_user_quietly(const std::string& name);
  Expected<void> set_password_quietly(const std::string& name, std::string_view password, PasswordCost cost);
  Expected<void> set_role_quietly(const std::string& name, Role role);
  Expected<void> revoke_token_quietly(int64_t id);
  void delete_session_quietly(std::string_view session_id);
  void notify_revocation();

  std::mutex mutex_;
  std::unique_ptr<storage::SqlConnection> db_;  // guarded by mutex_
  std::mutex listener_mutex_;                   // guards listener_ (apart from mutex_: the listener may call back in)
  std::function<void()> listener_;
};

// Checks a user name; returns an error message or "".
std::string check_user_name(std::string_view name);
// Checks a password's length; returns an error message or "".
std::string check_password_rules(std::string_view password);

}  // namespace wattguard::api
