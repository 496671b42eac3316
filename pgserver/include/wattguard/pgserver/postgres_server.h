// A private PostgreSQL server: initdb in a temporary directory, pg_ctl start on a free loopback port (its Unix
// socket in that directory too), stopped with `pg_ctl stop -m immediate` and the directory removed when the
// object goes away. Run as root (CI), initdb and pg_ctl run as the unprivileged `postgres` user (initdb refuses
// root), which then owns the directory. Used by `wattguard bench ingest --storage postgresql` and, through
// test_support's shared_postgres(), by the tests. pg_ctl starts the server as a daemon: a process killed with
// SIGKILL leaves it running (its directory names the pid: wattguard-pg-<pid>-<n>).
// Not thread-safe: one thread starts, stops and creates databases.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "wattguard/base/expected.h"

namespace wattguard::pgserver {

struct PostgresServerOptions {
  // true: fsync and full-page writes on (Debian's defaults: what a head-end would run, for load figures);
  // false: off (tests, where durability is not under test and CREATE DATABASE and commits must be fast).
  bool durable = false;
  // The server's shared_buffers ("32MB" keeps many test binaries at once small; "128MB" is initdb's default).
  std::string shared_buffers = "32MB";
  int max_connections = 200;
};

class PostgresServer {
 public:
  // initdb + start. kUnavailable when the server binaries are missing (postgresql-15: scripts/install-deps.sh;
  // WATTGUARD_PG_BIN names another bin directory) or the server does not start (the message quotes its log).
  static Expected<std::unique_ptr<PostgresServer>> start(const PostgresServerOptions& options = {});
  ~PostgresServer();  // stop(), then the directory is removed
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  uint16_t port() const { return port_; }
  // The postmaster's process id (its backends are its children), from postmaster.pid; 0 when not running.
  int postmaster_pid() const;
  const std::filesystem::path& directory() const { return dir_; }
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
  std::string file(const std::string& name) const { return (dir_ / name).string(); }
  PostgresServerOptions options_;
  std::filesystem::path dir_;
  std::string bin_dir_;
  std::string run_as_;  // "runuser -u postgres -- " when root, else empty
  uint16_t port_ = 0;
  bool running_ = false;
  int databases_ = 0;
};

}  // namespace wattguard::pgserver
