// Where a configured server keeps its things, derived from the settings: the SQLite file, the tables that may
// live in PostgreSQL instead, and the web UI's directory. Apart from server_config.cc, which reads the settings.
#include <filesystem>
#include <string>

#include "wattguard/serve/server_config.h"

namespace wattguard::serve {

std::string ServerConfig::database_path() const {
  const std::filesystem::path db(storage.database);
  if (db.is_absolute()) return db.string();
  return (std::filesystem::path(storage.data_dir) / db).string();
}

storage::SqlTarget ServerConfig::tables_target() const {
  storage::SqlTarget target;
  target.sqlite_path = database_path();
  if (storage.backend == "postgresql") target.pg_conninfo = storage.postgresql;
  return target;
}

std::string default_static_dir() {
  // The build's source tree: `make demo` serves the web UI built beside it without any setting.
  return std::string(WATTGUARD_SOURCE_DIR) + "/web/dist";
}

std::string ServerConfig::resolved_static_dir() const {
  return http.static_dir.empty() ? default_static_dir() : http.static_dir;
}

}  // namespace wattguard::serve
