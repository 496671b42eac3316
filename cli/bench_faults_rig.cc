// Starting, faulting and observing the drill's system (see the header).
#include "cli/bench_faults_rig.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <thread>

#include "wattguard/api/auth_store.h"
#include "wattguard/base/clock.h"
#include "wattguard/base/file_write.h"
#include "wattguard/fleet/fd_limit.h"
#include "wattguard/fleet/virtual_meter.h"
#include "wattguard/ingest/provisioning.h"
#include "wattguard/notify/http_client.h"
#include "wattguard/storage/sqlite_store.h"

extern char** environ;

namespace wattguard::cli {
namespace {

constexpr const char* kServerUser = "wattguard-server";
constexpr const char* kDatabase = "wattguard.db";
// How long one REST request may take before the server counts as not answering (an ASan server under load
// answers in milliseconds; a stopped one never).
constexpr int kRequestTimeoutMs = 3000;
// Connecting every meter: the fleet paces its connections; far more than it needs.
constexpr auto kConnectTimeout = std::chrono::seconds(60);
// The database rows of one meter are read in one query; far above what any drill makes.
constexpr std::size_t kMaxRowsPerMeter = 10'000'000;

Error failed(const std::string& what, Error cause) {
  cause.message = what + ": " + cause.message;
  return cause;
}

std::string read_tail(const std::filesystem::path& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > max_bytes) text = text.substr(text.size() - max_bytes);
  return text;
}

}  // namespace

Expected<std::unique_ptr<Rig>> Rig::start(const RigOptions& options) {
  std::unique_ptr<Rig> rig(new Rig());
  rig->options_ = options;
  rig->start_ms_ = system_now_ms();
  if (auto made = create_private_directories(options.dir); !made.ok()) return failed("drill directory", made.error());
  rig->server_dir_ = options.dir / "server";
  std::filesystem::create_directories(rig->server_dir_);
  if (options.tmpfs_mib > 0) {
    const std::string opts = "size=" + std::to_string(options.tmpfs_mib) + "m,mode=0700";
    if (::mount("tmpfs", rig->server_dir_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, opts.c_str()) != 0) {
      return Error::permission_denied(std::string("mount -t tmpfs on ") + rig->server_dir_.string() + ": " +
                                      std::strerror(errno));
    }
    rig->mounted_ = true;
  }

  // Broker users: the server's and one per meter (each meter may use only its own topics).
  std::vector<std::string> ids = rig->all_ids();
  broker::BrokerSetup setup;
  setup.dir = options.dir / "broker";
  setup.server = {kServerUser, ingest::generate_password()};
  rig->server_password_ = setup.server.password;
  for (const std::string& id : ids) {
    broker::BrokerUser u{id, ingest::generate_password()};
    rig->credentials_.meters[id] = fleet::BrokerLogin{u.name, u.password, std::nullopt};
    setup.meters.push_back(std::move(u));
  }
  setup.hash_password = [](const std::string& pw) { return ingest::mosquitto_password_hash(pw); };
  setup.acl_text = ingest::acl_file_text(kServerUser, {});
  fleet::raise_fd_limit();
  auto broker = broker::BrokerProcess::start(setup);
  if (!broker.ok()) return failed("broker", std::move(broker).error());
  rig->broker_ = std::move(broker).value();

  if (auto prepared = rig->prepare_store(); !prepared.ok()) return prepared.error();
  if (auto started = rig->start_server(); !started.ok()) return started.error();

  if (options.outage_meters > 0) {
    auto link = FaultLink::open(rig->broker_->port());
    if (!link.ok()) return link.error();
    rig->link_ = std::move(link).value();
  }
  auto fleet = rig->make_fleet(false);
  if (!fleet.ok()) return fleet.error();
  rig->fleet_ = std::move(fleet).value();
  rig->fleet_->start();
  if (options.outage_meters > 0) {
    auto outage = rig->make_fleet(true);
    if (!outage.ok()) return outage.error();
    rig->outage_fleet_ = std::move(outage).value();
    rig->outage_fleet_->start();
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto connected = [&] {
    const auto a = rig->fleet_->stats();
    if (a.links_connected < a.links) return false;
    if (!rig->outage_fleet_) return true;
    const auto b = rig->outage_fleet_->stats();
    return b.links_connected >= b.links;
  };
  while (!connected()) {
    if (std::chrono::steady_clock::now() - t0 > kConnectTimeout) {
      return Error::unavailable("the meters did not all connect within 60 s: " + rig->broker_->log_tail());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return rig;
}

std::vector<std::string> Rig::all_ids() const {
  std::vector<std::string> ids;
  for (std::size_t k = 0; k < options_.meters + options_.outage_meters; ++k) {
    char id[32];
    std::snprintf(id, sizeof id, "m%05zu", k + 1);
    ids.emplace_back(id);
  }
  return ids;
}

// The meters and a read token go into the database before the server first opens it, as `meters provision` and
// `users token` would do.
Expected<void> Rig::prepare_store() {
  storage::SqliteOptions so;
  so.path = (server_dir_ / kDatabase).string();
  {
    auto store = storage::SqliteStore::open(so);
    if (!store.ok()) return failed("database", std::move(store).error());
    std::vector<storage::MeterInfo> meters;
    for (const std::string& id : all_ids()) {
      storage::MeterInfo m;
      m.id = id;
      m.name = "Drill meter " + id;
      m.area = "drill";
      meters.push_back(std::move(m));
    }
    if (auto added = (*store)->add_meters(meters); !added.ok()) return failed("registering meters", added.error());
  }
  auto auth = api::AuthStore::open(so.path);
  if (!auth.ok()) return failed("user database", std::move(auth).error());
  token_ = (*auth)->create_token(api::TokenScope::kRead, "bench faults", system_now_ms() / 1000);
  if (token_.empty()) return Error::io("could not store the drill's API token");

  http_port_ = broker::free_port();
  if (http_port_ == 0) return Error::unavailable("no free port for the server's HTTP listener");
  const auto password_file = options_.dir / "server-password";
  if (auto w = write_file_atomically(password_file, server_password_ + "\n"); !w.ok()) return w.error();
  std::string toml;
  toml += "[http]\nbind = \"127.0.0.1\"\nport = " + std::to_string(http_port_) + "\n";
  toml += "[mqtt]\nhost = \"127.0.0.1\"\nport = " + std::to_string(broker_->port()) + "\nusername = \"" + kServerUser +
          "\"\npassword_file = \"" + password_file.string() + "\"\nshared_group = \"\"\n";
  toml += "[storage]\ndata_dir = \"" + server_dir_.string() + "\"\n";
  toml += "[ingest]\nperiod_s = " + std::to_string(std::max<uint32_t>(1, options_.period_ms / 1000)) + "\n";
  toml += "[auth]\npassword_cost = \"min\"\n[log]\nlevel = \"warn\"\n";
  // Offline alerts and theft cycles are not what the drills measure; they would only add log lines.
  toml += "[alerts]\noffline_alerts = false\n[theft]\nenabled = false\n";
  return write_file_atomically(options_.dir / "serve.toml", toml);
}

Expected<std::unique_ptr<fleet::Fleet>> Rig::make_fleet(bool outage) {
  fleet::FleetConfig c;
  c.meters = outage ? options_.outage_meters : options_.meters;
  c.first_number = outage ? options_.meters + 1 : 1;
  c.period_ms = options_.period_ms;
  c.broker_host = "127.0.0.1";
  c.broker_port = outage ? link_->port() : broker_->port();
  c.credentials = credentials_;
  c.transport = fleet::Transport::kPerMeter;
  c.state_dir = options_.dir / (outage ? "outage-journal" : "meter-journal");
  c.seed = options_.seed + (outage ? 1 : 0);
  c.fidelity = fleet::Fidelity::kFast;
  c.threads = 1;
  auto f = fleet::Fleet::create(c);
  if (!f.ok()) return failed(outage ? "outage meters" : "meters", std::move(f).error());
  return f;
}

Expected<void> Rig::start_server(int ready_timeout_ms) {
  if (server_pid_ > 0) return {};
  // Everything the child needs is built before fork(): between fork and exec only async-signal-safe calls.
  const std::string config = (options_.dir / "serve.toml").string();
  const std::string log = (options_.dir / "serve.log").string();
  std::vector<std::string> args = {"wattguard", "serve", "--config", config};
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view v(*e);
    if (v.starts_with("LD_PRELOAD=") || v.starts_with("FAKETIME") || v.starts_with("ASAN_OPTIONS=")) continue;
    env.emplace_back(v);
  }
  std::string asan = "ASAN_OPTIONS=";
  if (const char* a = std::getenv("ASAN_OPTIONS")) asan += std::string(a) + ":";
  if (!options_.faketime_library.empty()) {
    env.push_back("LD_PRELOAD=" + options_.faketime_library);
    env.push_back("FAKETIME_TIMESTAMP_FILE=" + options_.clock_offset_file.string());
    env.push_back("FAKETIME_NO_CACHE=1");
    // Only the wall clock jumps: steady clocks (timeouts, rates) stay true, as on a real machine whose NTP
    // steps the time.
    env.push_back("FAKETIME_DONT_FAKE_MONOTONIC=1");
    // ASan wants to be first among the libraries; libfaketime preloaded before it is harmless here.
    asan += "verify_asan_link_order=0:";
  }
  env.push_back(asan + "detect_leaks=0");
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return Error::unavailable(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the drill
    if (::getppid() != parent) ::_exit(1);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (out >= 0) {
      ::dup2(out, STDOUT_FILENO);
      ::dup2(out, STDERR_FILENO);
    }
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    ::execve(options_.self_exe.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  server_pid_ = pid;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ready_timeout_ms);
  for (;;) {
    int status = 0;
    if (::waitpid(server_pid_, &status, WNOHANG) == server_pid_) {
      server_pid_ = -1;
      return Error::unavailable("wattguard serve exited at start (status " + std::to_string(status) +
                                "): " + server_log_tail());
    }
    if (health().ready_status == 200) return {};
    if (std::chrono::steady_clock::now() > deadline) {
      return Error::unavailable("wattguard serve not ready within " + std::to_string(ready_timeout_ms / 1000) +
                                " s: " + server_log_tail());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void Rig::kill_server() {
  if (server_pid_ <= 0) return;
  ::kill(server_pid_, SIGKILL);
  int status = 0;
  ::waitpid(server_pid_, &status, 0);
  server_pid_ = -1;
}

bool Rig::stop_server(int grace_ms) {
  if (server_pid_ <= 0) return true;
  ::kill(server_pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(server_pid_, &status, WNOHANG) == server_pid_) {
      server_pid_ = -1;
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill_server();
  return false;
}

Expected<void> Rig::restart_outage_fleet() {
  if (!outage_fleet_) return {};
  // Nothing can drain through the cut link: the readings stay in the journal.
  outage_fleet_->stop(0);
  outage_fleet_.reset();
  auto again = make_fleet(true);
  if (!again.ok()) return again.error();
  outage_fleet_ = std::move(again).value();
  outage_fleet_->start();
  return {};
}

uint64_t Rig::made() const {
  uint64_t n = 0;
  for (const fleet::Fleet* f : {fleet_.get(), outage_fleet_.get()}) {
    if (f == nullptr) continue;
    for (const uint64_t next : f->next_seqs()) n += next - fleet::VirtualMeter::kFirstSeq;
  }
  return n;
}

uint64_t Rig::queued() const {
  uint64_t n = 0;
  if (fleet_) n += fleet_->stats().readings_queued;
  if (outage_fleet_) n += outage_fleet_->stats().readings_queued;
  return n;
}

std::optional<uint64_t> Rig::stored_now() const {
  // Raw buckets (a step below 1 min) over the whole drill: the count of each is the rows the store holds.
  const int64_t from_s = start_ms_ / 1000 - 60;
  const int64_t to_s = system_now_ms() / 1000 + 3600;
  uint64_t total = 0;
  for (const std::string& id : all_ids()) {
    notify::HttpCall c;
    c.method = "GET";
    c.url = "http://127.0.0.1:" + std::to_string(http_port_) + "/api/v1/meters/" + id +
            "/readings?from=" + std::to_string(from_s) + "&to=" + std::to_string(to_s) + "&step=30";
    c.headers = {{"Authorization", "Bearer " + token_}};
    c.timeout_ms = kRequestTimeoutMs;
    c.keep_body_bytes = std::size_t{1} << 20;
    const auto out = notify::http_call(c);
    if (!out.ok()) return std::nullopt;
    const auto j = nlohmann::json::parse(out.body, nullptr, false);
    if (!j.is_object() || !j.contains("points") || !j["points"].is_array()) return std::nullopt;
    for (const auto& p : j["points"]) total += p.value("count", uint64_t{0});
  }
  return total;
}

HealthLook Rig::health() const {
  HealthLook h;
  const std::string base = "http://127.0.0.1:" + std::to_string(http_port_);
  notify::HttpCall ready;
  ready.method = "GET";
  ready.url = base + "/readyz";
  ready.timeout_ms = kRequestTimeoutMs;
  h.ready_status = notify::http_call(ready).status;
  notify::HttpCall health;
  health.method = "GET";
  health.url = base + "/api/v1/health";
  health.headers = {{"Authorization", "Bearer " + token_}};
  health.timeout_ms = kRequestTimeoutMs;
  health.keep_body_bytes = 64 * 1024;
  const auto out = notify::http_call(health);
  if (out.ok()) {
    const auto j = nlohmann::json::parse(out.body, nullptr, false);
    h.status = j.is_object() ? j.value("status", std::string("?")) : std::string("?");
    if (j.is_object() && j.contains("now_ms") && j["now_ms"].is_number()) h.now_ms = j["now_ms"].get<int64_t>();
    if (j.is_object() && j.contains("storage") && j["storage"].is_object() && j["storage"].contains("errors") &&
        j["storage"]["errors"].is_number()) {
      h.storage_errors = j["storage"]["errors"].get<uint64_t>();
    }
  }
  return h;
}

void Rig::pause_meters() {
  if (fleet_) fleet_->pause_measuring(true);
  if (outage_fleet_) outage_fleet_->pause_measuring(true);
}

void Rig::stop_meters(int drain_ms) {
  if (fleet_) fleet_->stop(drain_ms);
  if (outage_fleet_) outage_fleet_->stop(drain_ms);
}

Expected<std::vector<MeterBooks>> Rig::books() {
  std::vector<uint64_t> next;
  for (const fleet::Fleet* f : {fleet_.get(), outage_fleet_.get()}) {
    if (f == nullptr) continue;
    const auto n = f->next_seqs();
    next.insert(next.end(), n.begin(), n.end());
  }
  const auto ids = all_ids();
  if (next.size() != ids.size()) return Error::internal("bench faults: the fleets do not hold every drill meter");
  storage::SqliteOptions so;
  so.path = (server_dir_ / kDatabase).string();
  so.reader_connections = 1;
  auto store = storage::SqliteStore::open(so);
  if (!store.ok()) return failed("reading the database after the drill", std::move(store).error());
  std::vector<MeterBooks> out;
  for (std::size_t k = 0; k < ids.size(); ++k) {
    MeterBooks b;
    b.first_seq = fleet::VirtualMeter::kFirstSeq;
    b.made = next[k] - fleet::VirtualMeter::kFirstSeq;
    // Every row, whatever its time: a reading stored under a jumped clock is still a row.
    auto rows = (*store)->raw_readings(ids[k], 0, INT64_MAX / 4, kMaxRowsPerMeter);
    if (!rows.ok()) return failed("reading " + ids[k] + "'s rows", rows.error());
    for (const auto& r : rows.value()) b.stored_seqs.push_back(r.seq);
    out.push_back(std::move(b));
  }
  return out;
}

std::string Rig::server_log_tail(std::size_t max_bytes) const {
  return read_tail(options_.dir / "serve.log", max_bytes);
}

Rig::~Rig() {
  stop_meters(0);
  fleet_.reset();
  outage_fleet_.reset();
  link_.reset();
  kill_server();
  if (broker_) broker_->stop();
  if (mounted_ && ::umount2(server_dir_.c_str(), 0) != 0) ::umount2(server_dir_.c_str(), MNT_DETACH);
}

}  // namespace wattguard::cli
