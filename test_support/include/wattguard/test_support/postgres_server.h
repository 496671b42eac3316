// A private PostgreSQL server for tests: initdb in a temporary directory, pg_ctl start on a free loopback
// port (its Unix socket in that directory too), stopped with `pg_ctl stop -m immediate` when the object goes
// away. Run as root (CI), initdb and pg_ctl run as the unprivileged `postgres` user (initdb refuses root),
// which then owns the directory. Tests share one server per binary (shared_postgres()) and take a fresh
// database each (create_database()), which costs tens of milliseconds instead of an initdb.
// Not thread-safe: one thread starts, stops and creates databases.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "wattguard/base/expected.h"
#include "wattguard/test_support/temp_dir.h"

namespace wattguard::test_support {

class PostgresServer {
 public:
  // initdb + start. kUnavailable when the server binaries are missing (postgresql-15: scripts/install-deps.sh)
  // or the server does not start (the message quotes its log).
  static Expected<std::unique_ptr<PostgresServer>> start();
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  uint16_t port() const { return port_; }
  // A libpq connection string for `dbname` on this server (TCP on 127.0.0.1, superuser postgres).
  std::string conninfo(const std::string& dbname) const;
  // Creates an empty database with a name unique in this process; returns its connection string.
  Expected<std::string> create_database();
  // Stops (immediate: like a crash) and starts the server again on the same port and data.
  Expected<void> stop();
  Expected<void> restart();

 private:
  PostgresServer() = default;
  Expected<void> run_ctl(const std::string& args, const std::string& log) const;
  std::unique_ptr<TempDir> dir_;
  std::string bin_dir_;
  std::string run_as_;  // "runuser -u postgres -- " when root, else empty
  uint16_t port_ = 0;
  bool running_ = false;
  int databases_ = 0;
};

// The server of this test binary, started on first use and stopped when the process exits; the error of
// its start (for every call) if it could not start.
Expected<PostgresServer*> shared_postgres();

}  // namespace wattguard::test_support
