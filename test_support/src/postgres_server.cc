// The tests' private PostgreSQL: initdb, pg_ctl start/stop, databases by libpq.
#include "wattguard/test_support/postgres_server.h"

#include <libpq-fe.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>

#include "wattguard/broker/broker_process.h"

namespace wattguard::test_support {
namespace {

// Debian's postgresql-15 keeps its server binaries out of PATH.
constexpr const char* kDefaultBinDir = "/usr/lib/postgresql/15/bin";
constexpr const char* kServerUser = "postgres";

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

Expected<void> PostgresServer::run_ctl(const std::string& args, const std::string& log) const {
  const std::string cmd = run_as_ + bin_dir_ + "/" + args + " >" + dir_->file(log) + " 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    return Error::unavailable("`" + cmd + "` failed: " + read_file(dir_->file(log)) +
                              read_file(dir_->file("server.log")));
  }
  return {};
}

Expected<std::unique_ptr<PostgresServer>> PostgresServer::start() {
  std::unique_ptr<PostgresServer> s(new PostgresServer());
  const char* env_bin = std::getenv("WATTGUARD_PG_BIN");
  s->bin_dir_ = env_bin != nullptr ? env_bin : kDefaultBinDir;
  if (::access((s->bin_dir_ + "/initdb").c_str(), X_OK) != 0) {
    return Error::unavailable("no " + s->bin_dir_ + "/initdb: install postgresql-15 (scripts/install-deps.sh)");
  }
  s->dir_ = std::make_unique<TempDir>("pg");
  if (::geteuid() == 0) {
    const passwd* pw = ::getpwnam(kServerUser);
    if (pw == nullptr) return Error::unavailable("running as root, and there is no user postgres to run initdb as");
    if (::chown(s->dir_->path().c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      return Error::unavailable("cannot give " + s->dir_->path().string() + " to user postgres");
    }
    s->run_as_ = std::string("runuser -u ") + kServerUser + " -- ";
  }
  if (auto r = s->run_ctl("initdb -D " + s->dir_->file("data") + " -U postgres -A trust -E UTF8 --locale=C --no-sync",
                          "initdb.log");
      !r.ok()) {
    return r.error();
  }
  s->port_ = broker::free_port();
  if (auto r = s->restart(); !r.ok()) return r.error();
  return s;
}

Expected<void> PostgresServer::restart() {
  // Durability is not under test here: fsync off keeps CREATE DATABASE and commits fast.
  const std::string options = "-c listen_addresses=127.0.0.1 -p " + std::to_string(port_) + " -k " +
                              dir_->path().string() +
                              " -c fsync=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=32MB";
  if (auto r = run_ctl("pg_ctl -D " + dir_->file("data") + " -l " + dir_->file("server.log") + " -w -t 60 -o \"" +
                           options + "\" start",
                       "pg_ctl.log");
      !r.ok()) {
    return r;
  }
  running_ = true;
  return {};
}

Expected<void> PostgresServer::stop() {
  if (!running_) return {};
  running_ = false;
  return run_ctl("pg_ctl -D " + dir_->file("data") + " -m immediate -w stop", "pg_ctl.log");
}

PostgresServer::~PostgresServer() { (void)stop(); }

std::string PostgresServer::conninfo(const std::string& dbname) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=" + dbname;
}

Expected<std::string> PostgresServer::create_database() {
  const std::string name = "wattguard_test_" + std::to_string(::getpid()) + "_" + std::to_string(databases_++);
  PGconn* conn = PQconnectdb(conninfo("postgres").c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string why = PQerrorMessage(conn);
    PQfinish(conn);
    return Error::unavailable("cannot connect to the test PostgreSQL on port " + std::to_string(port_) + ": " + why);
  }
  PGresult* res = PQexec(conn, ("CREATE DATABASE " + name).c_str());
  const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
  std::string why = ok ? "" : PQerrorMessage(conn);
  PQclear(res);
  PQfinish(conn);
  if (!ok) return Error::unavailable("CREATE DATABASE " + name + ": " + why);
  return conninfo(name);
}

Expected<PostgresServer*> shared_postgres() {
  static std::unique_ptr<PostgresServer> server;
  static std::optional<Error> failure;  // not retried: every later test fails at once with the same reason
  if (!server && !failure) {
    auto s = PostgresServer::start();
    if (s.ok()) {
      server = std::move(s.value());
    } else {
      failure = s.error();
    }
  }
  if (!server) return *failure;
  return server.get();
}

}  // namespace wattguard::test_support
