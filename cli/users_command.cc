// `wattguard users`: sign-in accounts (consumer, operator, admin) and operator API tokens.
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/command_registry.h"
#include "cli/config_file.h"
#include "wattguard/api/auth_store.h"
#include "wattguard/api/http_message.h"
#include "wattguard/api/request_target.h"
#include "wattguard/api/secrets.h"
#include "wattguard/base/clock.h"
#include "wattguard/protocol/topics.h"
#include "wattguard/serve/server_config.h"
#include "wattguard/storage/sqlite_store.h"

namespace wattguard::cli {
namespace {

int64_t now_s() { return system_now_ms() / 1000; }

// Where the database is: --config, then --data on top.
struct StoreArgs {
  std::string config_file;
  std::optional<std::string> data_dir;
};

Expected<serve::ServerConfig> resolve(const StoreArgs& a) {
  auto config = load_config_option(a.config_file);
  if (config.ok() && a.data_dir) config->storage.data_dir = *a.data_dir;
  return config;
}

// A database that cannot be opened is a failure (exit 1), not bad input: the path comes from the settings.
Expected<std::unique_ptr<api::AuthStore>> open_auth(const serve::ServerConfig& config) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(config.database_path()).parent_path(), ec);
  auto auth = api::AuthStore::open(config.tables_target());
  if (!auth.ok()) return as_failure(auth.error(), "cannot open the user database: " + auth.error().message);
  return auth;
}

// The settings from --config/--data, then the user database they name.
Expected<std::unique_ptr<api::AuthStore>> open_auth(const StoreArgs& a) {
  const auto config = resolve(a);
  if (!config.ok()) return config.error();
  return open_auth(config.value());
}

// The auth store's refusal (bad name or password, no such user, a database error) as the Error main() prints
// (exit 2, as always); `value` is the user name or token id at fault, never a password.
Error auth_refusal(const Error& refusal, std::string value, std::string message) {
  return Error::invalid(refusal.field, refusal.field == "password" ? "" : std::move(value), std::move(message));
}

api::PasswordCost cost_of(const serve::ServerConfig& config) {
  return api::password_cost_from_name(config.auth.password_cost).value_or(api::PasswordCost::kInteractive);
}

void add_store_options(CLI::App* cmd, StoreArgs& a) {
  cmd->add_option("--config", a.config_file, "TOML configuration file (for storage.data_dir / database)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--data", a.data_dir, "data directory holding wattguard.db (default ./data)");
}

Expected<std::string> read_password_line() {
  std::string line;
  if (!std::getline(std::cin, line)) return option_error("--password-stdin", "", "no password on standard input");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// Gives `meters` to `user` in the readings store (MeterInfo::owner).
Expected<void> assign_meters(const serve::ServerConfig& config, const std::string& user,
                             const std::vector<std::string>& meters) {
  if (meters.empty()) return {};
  storage::SqliteOptions options;
  options.path = config.database_path();
  options.reader_connections = 1;
  auto store = storage::SqliteStore::open(options);
  if (!store.ok()) return as_failure(store.error(), "cannot open the database: " + store.error().message);
  for (const auto& id : meters) {
    auto info = (*store)->get_meter(id);
    if (!info.ok()) {
      return option_error("--meters", id,
                          "no meter '" + id + "' in " + config.database_path() +
                              " (provision it first, or run the demo once)");
    }
    info->owner = user;
    // The meter was just read: a failed update is the database's failure (exit 1).
    if (auto st = (*store)->update_meter(*info); !st.ok()) return as_failure(st.error());
  }
  return {};
}

// Clears MeterInfo::owner on every meter `user` owned (owners match case-insensitively, as the API reads them),
// so a later user of the same name does not inherit a deleted one's meters. The number released.
Expected<int> release_meters(const serve::ServerConfig& config, const std::string& user) {
  storage::SqliteOptions options;
  options.path = config.database_path();
  options.reader_connections = 1;
  auto store = storage::SqliteStore::open(options);
  if (!store.ok()) return as_failure(store.error(), "cannot open the database: " + store.error().message);
  auto meters = (*store)->list_meters();
  if (!meters.ok()) return as_failure(meters.error());
  int released = 0;
  for (storage::MeterInfo info : meters.value()) {
    if (info.owner.empty() || api::ascii_lower(info.owner) != api::ascii_lower(user)) continue;
    info.owner.clear();
    if (auto st = (*store)->update_meter(info); !st.ok()) return as_failure(st.error());
    ++released;
  }
  return released;
}

std::string format_time(int64_t unix_s) { return api::format_iso8601(static_cast<double>(unix_s)); }

struct AddArgs {
  StoreArgs store;
  std::string positional_name;
  std::string name;
  std::string role;
  std::optional<std::string> password;
  bool password_stdin = false;
  std::string meters;
};

Expected<void> run_add(const AddArgs& a) {
  if (!a.name.empty() && !a.positional_name.empty() && a.name != a.positional_name) {
    return Error::invalid("--name", a.name,
                          "user name given twice: '" + a.positional_name + "' and --name '" + a.name + "'");
  }
  const std::string name = a.name.empty() ? a.positional_name : a.name;
  if (name.empty()) {
    return Error::invalid("name", "", "users add: a user name is required (wattguard users add NAME --role ROLE)");
  }
  if (const auto err = api::check_user_name(name); !err.empty()) {
    return Error::invalid("name", name, "name '" + name + "': " + err);
  }
  const auto role = api::role_from_name(a.role);
  if (!role) return Error::invalid("--role", a.role, "--role '" + a.role + "': expected consumer, operator or admin");
  if (a.password && a.password_stdin) {
    return Error::invalid("--password", "", "give either --password or --password-stdin, not both");
  }
  std::vector<std::string> meters = api::split_list(a.meters);
  for (const auto& id : meters) {
    if (!protocol::is_valid_meter_id(id)) return option_error("--meters", id, "'" + id + "' is not a valid meter id");
  }
  bool generated = false;
  std::string password;
  if (a.password) {
    password = *a.password;
  } else if (a.password_stdin) {
    auto line = read_password_line();
    if (!line.ok()) return line.error();
    password = std::move(line).value();
  } else {
    password = api::random_secret(12);
    generated = true;
  }
  // The Error never holds the password itself.
  if (const auto err = api::check_password_rules(password); !err.empty()) {
    return Error::invalid("password", "", "password " + err);
  }

  const auto config = resolve(a.store);
  if (!config.ok()) return config.error();
  auto auth = open_auth(config.value());
  if (!auth.ok()) return auth.error();
  const auto outcome = (*auth)->add_user(name, *role, password, cost_of(config.value()), now_s());
  if (!outcome.ok()) return auth_refusal(outcome.error(), name, outcome.error().field + ": " + outcome.error().message);
  if (auto assigned = assign_meters(config.value(), name, meters); !assigned.ok()) {
    (*auth)->delete_user(name);  // all or nothing
    return assigned;
  }
  std::printf("added %s '%s'%s%s\n", api::role_name(*role), name.c_str(), meters.empty() ? "" : " owning ",
              a.meters.c_str());
  if (generated)
    std::printf("password: %s\n(shown once; change it with `wattguard users passwd %s`)\n", password.c_str(),
                name.c_str());
  return {};
}

Expected<void> run_list(const StoreArgs& a) {
  auto auth = open_auth(a);
  if (!auth.ok()) return auth.error();
  const auto all = (*auth)->list_users();
  std::printf("%-32s %-9s %s\n", "NAME", "ROLE", "CREATED");
  for (const auto& u : all) {
    std::printf("%-32s %-9s %s\n", u.name.c_str(), api::role_name(u.role), format_time(u.created_at_s).c_str());
  }
  return {};
}

struct NameArgs {
  StoreArgs store;
  std::string name;
  bool password_stdin = false;
};

Expected<void> run_remove(const NameArgs& a) {
  auto auth = open_auth(a.store);
  if (!auth.ok()) return auth.error();
  const auto outcome = (*auth)->delete_user(a.name);
  if (!outcome.ok()) return auth_refusal(outcome.error(), a.name, outcome.error().message);
  const auto config = resolve(a.store);
  if (!config.ok()) return config.error();
  auto released = release_meters(config.value(), a.name);
  if (!released.ok()) return released.error();
  std::printf("removed '%s' (%d meter(s) released)\n", a.name.c_str(), released.value());
  return {};
}

Expected<void> run_passwd(const NameArgs& a) {
  const auto config = resolve(a.store);
  if (!config.ok()) return config.error();
  std::string password;
  if (a.password_stdin) {
    auto line = read_password_line();
    if (!line.ok()) return line.error();
    password = std::move(line).value();
  } else {
    password = api::random_secret(12);
  }
  auto auth = open_auth(config.value());
  if (!auth.ok()) return auth.error();
  const auto outcome = (*auth)->set_password(a.name, password, cost_of(config.value()));
  if (!outcome.ok())
    return auth_refusal(outcome.error(), a.name, outcome.error().field + ": " + outcome.error().message);
  if (a.password_stdin) {
    std::printf("password of '%s' changed\n", a.name.c_str());
  } else {
    std::printf("new password of '%s': %s\n", a.name.c_str(), password.c_str());
  }
  return {};
}

struct TokenArgs {
  StoreArgs store;
  std::string scope;
  std::string label;
};

Expected<void> run_token(const TokenArgs& a) {
  auto auth = open_auth(a.store);
  if (!auth.ok()) return auth.error();
  const std::string value = (*auth)->create_token(*api::scope_from_name(a.scope), a.label, now_s());
  // create_token answers "" when the database refused the row: a failure (exit 1), not bad input.
  if (value.empty()) return Error::io("could not store the token");
  std::printf("%s\n", value.c_str());
  if (isatty(STDOUT_FILENO)) {
    std::fprintf(stderr, "(%s token; store it now: only its hash is kept)\n", a.scope.c_str());
  }
  return {};
}

Expected<void> run_tokens(const StoreArgs& a) {
  auto auth = open_auth(a);
  if (!auth.ok()) return auth.error();
  std::printf("%-6s %-6s %-22s %s\n", "ID", "SCOPE", "CREATED", "LABEL");
  for (const auto& t : (*auth)->list_tokens()) {
    std::printf("%-6lld %-6s %-22s %s\n", static_cast<long long>(t.id), api::scope_name(t.scope),
                format_time(t.created_at_s).c_str(), t.label.c_str());
  }
  return {};
}

struct RevokeArgs {
  StoreArgs store;
  int64_t id = 0;
};

Expected<void> run_revoke(const RevokeArgs& a) {
  auto auth = open_auth(a.store);
  if (!auth.ok()) return auth.error();
  const auto outcome = (*auth)->revoke_token(a.id);
  if (!outcome.ok()) return auth_refusal(outcome.error(), std::to_string(a.id), outcome.error().message);
  std::printf("revoked token %lld\n", static_cast<long long>(a.id));
  return {};
}

void add_users_commands(CLI::App& app) {
  auto* users = app.add_subcommand("users", "Manage sign-in accounts (consumer, operator, admin) and API tokens");
  users->require_subcommand(1);

  auto add = std::make_shared<AddArgs>();
  auto* add_cmd = users->add_subcommand(
      "add", "Add a user. Without --password/--password-stdin a random password is generated and printed once.");
  add_cmd->add_option("name", add->positional_name, "user name (letters, digits, . _ @ -)");
  add_cmd->add_option("--name", add->name, "user name (instead of the positional argument)");
  add_cmd->add_option("--role", add->role, "consumer, operator or admin")->required();
  add_cmd->add_option("--password", add->password,
                      "the password (visible in the process list: prefer --password-stdin)");
  add_cmd->add_flag("--password-stdin", add->password_stdin, "read the password from the first line of standard input");
  add_cmd->add_option("--meters", add->meters, "comma-separated meter ids the user owns (consumers see only these)");
  add_store_options(add_cmd, add->store);
  add_cmd->callback([add] { finish(run_add(*add)); });

  auto list_store = std::make_shared<StoreArgs>();
  auto* list_cmd = users->add_subcommand("list", "List users with their roles");
  add_store_options(list_cmd, *list_store);
  list_cmd->callback([list_store] { finish(run_list(*list_store)); });

  auto remove = std::make_shared<NameArgs>();
  auto* remove_cmd = users->add_subcommand("remove", "Delete a user and end their sessions");
  remove_cmd->add_option("name", remove->name, "user name")->required();
  add_store_options(remove_cmd, remove->store);
  remove_cmd->callback([remove] { finish(run_remove(*remove)); });

  auto passwd = std::make_shared<NameArgs>();
  auto* passwd_cmd = users->add_subcommand(
      "passwd", "Set a user's password (random and printed once unless --password-stdin); ends their sessions");
  passwd_cmd->add_option("name", passwd->name, "user name")->required();
  passwd_cmd->add_flag("--password-stdin", passwd->password_stdin, "read the password from standard input");
  add_store_options(passwd_cmd, passwd->store);
  passwd_cmd->callback([passwd] { finish(run_passwd(*passwd)); });

  auto token = std::make_shared<TokenArgs>();
  auto* token_cmd = users->add_subcommand(
      "token", "Create an API token (sent as 'Authorization: Bearer TOKEN') and print it; it is shown only once");
  token_cmd->add_option("--scope", token->scope, "read (read-only) or admin (also commands and users)")
      ->required()
      ->check(CLI::IsMember({"read", "admin"}));
  token_cmd->add_option("--label", token->label, "what the token is for (shown in `users tokens`)");
  add_store_options(token_cmd, token->store);
  token_cmd->callback([token] { finish(run_token(*token)); });

  auto tokens_store = std::make_shared<StoreArgs>();
  auto* tokens_cmd = users->add_subcommand("tokens", "List API tokens (id, scope, label; never the token itself)");
  add_store_options(tokens_cmd, *tokens_store);
  tokens_cmd->callback([tokens_store] { finish(run_tokens(*tokens_store)); });

  auto revoke = std::make_shared<RevokeArgs>();
  auto* revoke_cmd = users->add_subcommand("revoke-token", "Revoke an API token by id (see `users tokens`)");
  revoke_cmd->add_option("id", revoke->id, "token id")->required()->check(CLI::PositiveNumber);
  add_store_options(revoke_cmd, revoke->store);
  revoke_cmd->callback([revoke] { finish(run_revoke(*revoke)); });
}

const bool kRegistered = register_commands("users", &add_users_commands);

}  // namespace
}  // namespace wattguard::cli
