// A private PostgreSQL: initdb, pg_ctl start/stop, databases by libpq.
#include "wattguard/pgserver/postgres_server.h"

#include <pwd.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>

#include "wattguard/broker/broker_process.h"
#include "wattguard/pgserver/pg_databases.h"

namespace wattguard::pgserver {
namespace {

// Debian's postgresql-15 keeps its server binaries out of PATH.
constexpr const char* kDefaultBinDir = "/usr/lib/postgresql/15/bin";
constexpr const char* kServerUser = "postgres";

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Empty, under the system's temporary directory, named wattguard-pg-<pid>-<n> (a leftover of an earlier process
// with the same id is removed first).
std::filesystem::path fresh_directory() {
  static std::atomic<int> counter{0};
  const auto path = std::filesystem::temp_directory_path() /
                    ("wattguard-pg-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::error_code ignored;
  std::filesystem::remove_all(path, ignored);
  std::filesystem::create_directories(path);
  return path;
}

}  // namespace

Expected<void> PostgresServer::run_ctl(const std::string& args, const std::string& log) const {
  const std::string cmd = run_as_ + bin_dir_ + "/" + args + " >" + file(log) + " 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    return Error::unavailable("`" + cmd + "` failed: " + read_file(file(log)) + read_file(file("server.log")));
  }
  return {};
}

Expected<std::unique_ptr<PostgresServer>> PostgresServer::start(const PostgresServerOptions& options) {
  std::unique_ptr<PostgresServer> s(new PostgresServer());
  s->options_ = options;
  const char* env_bin = std::getenv("WATTGUARD_PG_BIN");
  s->bin_dir_ = env_bin != nullptr ? env_bin : kDefaultBinDir;
  if (::access((s->bin_dir_ + "/initdb").c_str(), X_OK) != 0) {
    return Error::unavailable("no " + s->bin_dir_ + "/initdb: install postgresql-15 (scripts/install-deps.sh)");
  }
  s->dir_ = fresh_directory();
  if (::geteuid() == 0) {
    const passwd* pw = ::getpwnam(kServerUser);
    if (pw == nullptr) return Error::unavailable("running as root, and there is no user postgres to run initdb as");
    if (::chown(s->dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      return Error::unavailable("cannot give " + s->dir_.string() + " to user postgres");
    }
    s->run_as_ = std::string("runuser -u ") + kServerUser + " -- ";
  }
  if (auto r = s->run_ctl("initdb -D " + s->file("data") + " -U postgres -A trust -E UTF8 --locale=C --no-sync",
                          "initdb.log");
      !r.ok()) {
    return r.error();
  }
  s->port_ = broker::free_port();
  if (auto r = s->restart(); !r.ok()) return r.error();
  return s;
}

Expected<void> PostgresServer::restart() {
  std::string options = "-c listen_addresses=127.0.0.1 -p " + std::to_string(port_) + " -k " + dir_.string() +
                        " -c max_connections=" + std::to_string(options_.max_connections) +
                        " -c shared_buffers=" + options_.shared_buffers;
  // Durability not under test: fsync off keeps CREATE DATABASE and commits fast.
  if (!options_.durable) options += " -c fsync=off -c full_page_writes=off";
  if (auto r =
          run_ctl("pg_ctl -D " + file("data") + " -l " + file("server.log") + " -w -t 60 -o \"" + options + "\" start",
                  "pg_ctl.log");
      !r.ok()) {
    // pg_ctl gives up after its timeout, but a server still starting would outlive us: stop it if it is there.
    (void)run_ctl("pg_ctl -D " + file("data") + " -m immediate -w stop", "pg_ctl_stop.log");
    return r;
  }
  running_ = true;
  return {};
}

Expected<void> PostgresServer::stop() {
  if (!running_) return {};
  running_ = false;
  return run_ctl("pg_ctl -D " + file("data") + " -m immediate -w stop", "pg_ctl.log");
}

PostgresServer::~PostgresServer() {
  (void)stop();
  std::error_code ignored;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
}

int PostgresServer::postmaster_pid() const {
  if (!running_) return 0;
  std::ifstream in(file("data") + "/postmaster.pid");
  int pid = 0;
  return in >> pid ? pid : 0;
}

std::string PostgresServer::conninfo(const std::string& dbname) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=" + dbname;
}

Expected<std::string> PostgresServer::create_database() {
  const std::string name = "wattguard_test_" + std::to_string(::getpid()) + "_" + std::to_string(databases_++);
  auto created = pgserver::create_database(conninfo("postgres"), name);
  if (!created.ok()) {
    return Error::unavailable("the private PostgreSQL on port " + std::to_string(port_) + ": " +
                              created.error().message);
  }
  return conninfo(name);
}

}  // namespace wattguard::pgserver
