// `wattguard bench blynk`: N simulated Blynk devices (a separate process from the server) log in, write V0..V5
// every period and ping; the run reports write-to-stored latency (the device's last pin write of a period until
// the reading arrives on the server's live WebSocket, which pushes a reading once it is stored) and readings lost.
// By default it prepares a data directory (meters, tokens, a read token), starts a private broker and
// `wattguard serve` as a child process and measures that; with --port it drives a server already running.
#include <fcntl.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "cli/command_registry.h"
#include "wattguard/api/auth_store.h"
#include "wattguard/broker/broker_process.h"
#include "wattguard/demo/blynk_devices.h"
#include "wattguard/demo/live_feed_client.h"
#include "wattguard/fleet/fd_limit.h"
#include "wattguard/fleet/stop_signals.h"
#include "wattguard/ingest/device_keys.h"
#include "wattguard/storage/sqlite_store.h"

namespace wattguard::cli {
namespace {

using SteadyClock = std::chrono::steady_clock;

struct BenchBlynkArgs {
  std::size_t devices = 1000;
  int period_s = 5;
  double duration_s = 60;
  double drain_s = 10;
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: start a server of our own
  std::string tokens_file;
  uint16_t api_port = 0;
  std::string api_token;
  std::string data;
  bool keep_data = false;
  std::string login = "current";
  int threads = 2;
  int heartbeat_s = 10;
  double connect_spread_s = -1;  // -1: the period
  bool json = false;
  bool verbose = false;
};

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch()).count();
}

// CPU time (user + system) of a process in seconds: fields 14 and 15 of /proc/<pid>/stat, counted after the
// command name's closing parenthesis (the name may hold spaces).
double process_cpu_s(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto paren = text.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream rest(text.substr(paren + 1));
  std::string field;
  double ticks = 0;
  for (int k = 3; k <= 15 && rest >> field; ++k) {
    if (k >= 14) ticks += std::atof(field.c_str());
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Resident memory of a process in MiB (VmRSS).
double process_rss_mib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atof(line.c_str() + 6) / 1024.0;
  }
  return 0;
}

// Matches each period a device wrote with the reading the live feed pushes for its meter, in order.
class WriteToStored {
 public:
  explicit WriteToStored(const std::vector<demo::BlynkDevice>& devices) : pending_(devices.size()) {
    for (std::size_t k = 0; k < devices.size(); ++k) index_.emplace(devices[k].meter_id, k);
  }

  void written(std::size_t device, int64_t t_ns) {
    std::lock_guard lock(mutex_);
    pending_[device].push_back({t_ns, measuring_});
    if (measuring_) ++sent_in_window_;
  }

  void stored(const std::string& meter) {
    const int64_t now = steady_ns();
    std::lock_guard lock(mutex_);
    ++stored_total_;
    auto it = index_.find(meter);
    if (it == index_.end() || pending_[it->second].empty()) {
      ++unmatched_;
      return;
    }
    const Sent s = pending_[it->second].front();
    pending_[it->second].pop_front();
    if (!s.in_window) return;
    ++stored_in_window_;
    latencies_ms_.push_back(static_cast<float>(static_cast<double>(now - s.t_ns) / 1e6));
  }

  void set_measuring(bool on) {
    std::lock_guard lock(mutex_);
    measuring_ = on;
  }
  uint64_t sent_in_window() {
    std::lock_guard lock(mutex_);
    return sent_in_window_;
  }
  uint64_t stored_in_window() {
    std::lock_guard lock(mutex_);
    return stored_in_window_;
  }
  uint64_t unmatched() {
    std::lock_guard lock(mutex_);
    return unmatched_;
  }
  double percentile(double p) {
    std::lock_guard lock(mutex_);
    if (latencies_ms_.empty()) return 0;
    std::vector<float> v = latencies_ms_;
    const auto k =
        static_cast<std::size_t>(std::min<double>(static_cast<double>(v.size() - 1),
                                                  std::floor(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5)));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
  }

 private:
  struct Sent {
    int64_t t_ns;
    bool in_window;
  };
  std::mutex mutex_;
  std::unordered_map<std::string, std::size_t> index_;
  std::vector<std::deque<Sent>> pending_;
  bool measuring_ = false;
  uint64_t sent_in_window_ = 0, stored_in_window_ = 0, stored_total_ = 0, unmatched_ = 0;
  std::vector<float> latencies_ms_;
};

Expected<std::vector<demo::BlynkDevice>> read_tokens(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error::not_found("--tokens " + path + ": cannot read");
  std::vector<demo::BlynkDevice> out;
  std::string meter, token;
  while (in >> meter >> token) out.push_back({meter, token});
  if (out.empty()) return Error::invalid("--tokens", path, "--tokens " + path + ": no 'meter token' lines");
  return out;
}

// A server of our own: the meters and their tokens, a read token, a private broker, `wattguard serve`.
struct OwnServer {
  std::filesystem::path dir;
  std::unique_ptr<broker::BrokerProcess> broker;
  pid_t pid = -1;
  uint16_t blynk_port = 0;
  uint16_t http_port = 0;
  std::string api_token;
  std::vector<demo::BlynkDevice> devices;

  ~OwnServer() { stop(); }
  void stop() {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      int status = 0;
      ::waitpid(pid, &status, 0);
      pid = -1;
    }
    if (broker) broker->stop();
  }
};

Expected<void> enrol(OwnServer& s, std::size_t n) {
  const std::string db = (s.dir / "wattguard.db").string();
  const auto tokens_path = s.dir / "blynk-tokens.txt";
  if (auto have = read_tokens(tokens_path.string()); have.ok() && have->size() >= n) {
    s.devices.assign(have->begin(), have->begin() + static_cast<std::ptrdiff_t>(n));
  } else {
    storage::SqliteOptions so;
    so.path = db;
    auto store = storage::SqliteStore::open(so);
    if (!store.ok()) return std::move(store).error();
    auto keys = ingest::DeviceKeys::open(db);
    if (!keys.ok()) return std::move(keys).error();
    std::vector<storage::MeterInfo> meters;
    char id[32];
    for (std::size_t k = 0; k < n; ++k) {
      std::snprintf(id, sizeof id, "bl-%06zu", k + 1);
      storage::MeterInfo m;
      m.id = id;
      m.name = "Blynk bench device";
      m.area = "bench";
      meters.push_back(m);
      s.devices.push_back({id, ingest::generate_device_token()});
    }
    if (auto added = (*store)->add_meters(meters); !added.ok()) return added;
    const int64_t now =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    for (const auto& d : s.devices) {
      if (auto set = (*keys)->set(d.meter_id, ingest::DeviceProtocol::kBlynk, d.token, now); !set.ok()) return set;
    }
    std::ofstream out(tokens_path);
    for (const auto& d : s.devices) out << d.meter_id << ' ' << d.token << '\n';
  }
  auto auth = api::AuthStore::open(db);
  if (!auth.ok()) return std::move(auth).error();
  s.api_token = "wgt_" + ingest::generate_device_token();
  return (*auth)->add_token(s.api_token, api::TokenScope::kRead, "bench blynk", std::time(nullptr));
}

Expected<void> start_own_server(OwnServer& s, const BenchBlynkArgs& a) {
  auto broker = broker::BrokerProcess::start(broker::anonymous_setup(s.dir / "broker"));
  if (!broker.ok()) return std::move(broker).error();
  s.broker = std::move(broker).value();
  s.blynk_port = broker::free_port();
  s.http_port = broker::free_port();
  const auto config = s.dir / "bench-blynk.toml";
  {
    std::ofstream out(config);
    out << "[http]\nbind = \"127.0.0.1\"\nport = " << s.http_port << "\n"
        << "[mqtt]\nhost = \"127.0.0.1\"\nport = " << s.broker->port() << "\nusername = \"\"\n"
        << "[storage]\ndata_dir = \"" << s.dir.string() << "\"\n"
        << "[ingest]\nperiod_s = " << a.period_s << "\n"
        << "[alerts]\noffline_alerts = false\n"
        << "[log]\nlevel = \"" << (a.verbose ? "info" : "warn") << "\"\n"
        << "[blynk]\nenabled = true\nbind = \"127.0.0.1\"\nport = " << s.blynk_port << "\nthreads = " << a.threads
        << "\n";
  }
  const std::string log = (s.dir / "serve.log").string();
  const std::string config_text = config.string();
  s.pid = ::fork();
  if (s.pid < 0) return Error::unavailable("cannot fork the server");
  if (s.pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
    }
    // The parent blocks SIGINT and SIGTERM for its own waiting; the server must receive them.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execl("/proc/self/exe", "wattguard", "serve", "--config", config_text.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Ready when the live feed opens (the HTTP server starts after the Blynk listener).
  return {};
}

Expected<void> run_bench_blynk(const BenchBlynkArgs& a) {
  if (!a.verbose) spdlog::set_level(spdlog::level::warn);
  demo::BlynkLogin login = demo::BlynkLogin::kCurrent;
  if (a.login == "legacy") {
    login = demo::BlynkLogin::kLegacy;
  } else if (a.login == "mixed") {
    login = demo::BlynkLogin::kMixed;
  } else if (a.login != "current") {
    return option_error("--login", a.login, "'" + a.login + "' is not current, legacy or mixed");
  }
  fleet::StopSignals signals;
  fleet::raise_fd_limit();  // a socket per device (the server started here raises its own)
  OwnServer own;
  std::vector<demo::BlynkDevice> devices;
  uint16_t port = a.port, api_port = a.api_port;
  std::string api_token = a.api_token;
  const bool temp_data = a.data.empty();
  if (a.port == 0) {
    own.dir = temp_data
                  ? std::filesystem::temp_directory_path() / ("wattguard-bench-blynk-" + std::to_string(::getpid()))
                  : std::filesystem::absolute(a.data);
    std::filesystem::create_directories(own.dir);
    if (auto e = enrol(own, a.devices); !e.ok())
      return as_failure(e.error(), "bench blynk: enrolling: " + e.error().message);
    if (auto s = start_own_server(own, a); !s.ok()) return as_failure(s.error(), "bench blynk: " + s.error().message);
    devices = own.devices;
    port = own.blynk_port;
    api_port = own.http_port;
    api_token = own.api_token;
  } else {
    if (a.tokens_file.empty()) return option_error("--tokens", "", "--port needs --tokens FILE ('meter token' lines)");
    auto read = read_tokens(a.tokens_file);
    if (!read.ok()) return as_bad_input(read.error());
    devices = std::move(read).value();
    if (devices.size() > a.devices && a.devices > 0) devices.resize(a.devices);
  }
  const pid_t server_pid = own.pid;

  WriteToStored probe(devices);
  std::unique_ptr<demo::LiveFeedClient> feed;
  if (api_port != 0 && !api_token.empty()) {
    demo::LiveFeedOptions fo;
    fo.host = a.host;
    fo.port = api_port;
    fo.token = api_token;
    fo.on_reading = [&probe](const std::string& meter, uint64_t) { probe.stored(meter); };
    feed = std::make_unique<demo::LiveFeedClient>(fo);
    if (auto opened = feed->start(60'000); !opened.ok()) {
      return as_failure(opened.error(), "bench blynk: " + opened.error().message +
                                            (own.dir.empty() ? "" : " (see " + (own.dir / "serve.log").string() + ")"));
    }
  }

  demo::BlynkDevicesOptions o;
  o.host = a.host;
  o.port = port;
  o.devices = devices;
  o.period_ms = a.period_s * 1000;
  o.threads = a.threads;
  o.login = login;
  o.heartbeat_s = a.heartbeat_s;
  o.connect_spread_ms = static_cast<int>((a.connect_spread_s < 0 ? a.period_s : a.connect_spread_s) * 1000);
  o.on_period_written = [&probe](std::size_t device, int64_t t_ns) { probe.written(device, t_ns); };
  demo::BlynkDevices simulated(o);
  if (!a.json) {
    std::printf("bench blynk: %zu devices writing V0..V5 every %d s (%.0f readings/s), %.0f s measured\n",
                devices.size(), a.period_s, static_cast<double>(devices.size()) / a.period_s, a.duration_s);
    std::fflush(stdout);
  }
  const auto t_connect0 = SteadyClock::now();
  simulated.start();
  bool interrupted = false;
  // Every device logged in, and one more period so they all write in steady state.
  while (simulated.stats().logins_ok < devices.size()) {
    if (SteadyClock::now() - t_connect0 > std::chrono::seconds(120) ||
        signals.wait(std::chrono::milliseconds(50)) != 0) {
      interrupted = true;
      break;
    }
  }
  const double connect_s = std::chrono::duration<double>(SteadyClock::now() - t_connect0).count();
  if (!interrupted && signals.wait(std::chrono::milliseconds(a.period_s * 1000)) != 0) interrupted = true;

  const double cpu_server0 = server_pid > 0 ? process_cpu_s(server_pid) : 0, cpu_self0 = process_cpu_s(::getpid());
  probe.set_measuring(true);
  const auto t0 = SteadyClock::now();
  double elapsed = 0;
  while (!interrupted && elapsed < a.duration_s) {
    if (signals.wait(std::chrono::milliseconds(200)) != 0) interrupted = true;
    elapsed = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  }
  probe.set_measuring(false);
  const double window_s = std::min(elapsed, a.duration_s);
  const double cpu_server =
      server_pid > 0 && window_s > 0 ? 100 * (process_cpu_s(server_pid) - cpu_server0) / window_s : 0;
  const double cpu_self = window_s > 0 ? 100 * (process_cpu_s(::getpid()) - cpu_self0) / window_s : 0;
  const double rss_server = server_pid > 0 ? process_rss_mib(server_pid) : 0;
  const auto dstats = simulated.stats();
  // Drain: what was written in the window must come out of the store.
  const auto drain0 = SteadyClock::now();
  while (feed && probe.stored_in_window() < probe.sent_in_window() &&
         std::chrono::duration<double>(SteadyClock::now() - drain0).count() < a.drain_s) {
    signals.wait(std::chrono::milliseconds(50));
  }
  simulated.stop();
  const uint64_t sent = probe.sent_in_window(), stored = probe.stored_in_window();
  const uint64_t lost = feed ? sent - std::min(sent, stored) : 0;
  const double p50 = probe.percentile(50), p99 = probe.percentile(99), pmax = probe.percentile(100);
  if (feed) feed->stop();
  own.stop();
  if (!own.dir.empty() && temp_data && !a.keep_data) std::filesystem::remove_all(own.dir);

  if (a.json) {
    nlohmann::json j{{"devices", devices.size()},
                     {"period_s", a.period_s},
                     {"duration_s", window_s},
                     {"connect_s", connect_s},
                     {"connects", dstats.connects},
                     {"logins_ok", dstats.logins_ok},
                     {"logins_refused", dstats.logins_refused},
                     {"disconnects", dstats.disconnects},
                     {"devices_online", dstats.devices_online},
                     {"readings_sent", sent},
                     {"readings_stored", stored},
                     {"lost", lost},
                     {"measured", feed != nullptr},
                     {"latency_p50_ms", p50},
                     {"latency_p99_ms", p99},
                     {"latency_max_ms", pmax},
                     {"unmatched_readings", probe.unmatched()},
                     {"pings_sent", dstats.pings_sent},
                     {"ping_answers", dstats.ping_answers},
                     {"sync_values", dstats.sync_values},
                     {"relay_writes", dstats.relay_writes},
                     {"error_statuses", dstats.error_statuses},
                     {"feed_connects", feed ? feed->connects() : 0},
                     {"cpu_server_pct", cpu_server},
                     {"cpu_devices_pct", cpu_self},
                     {"rss_server_mib", rss_server},
                     {"interrupted", interrupted}};
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("  connected  %llu devices in %.1f s (%llu connects, %llu refused)\n",
                static_cast<unsigned long long>(dstats.logins_ok), connect_s,
                static_cast<unsigned long long>(dstats.connects),
                static_cast<unsigned long long>(dstats.logins_refused));
    if (feed) {
      std::printf("  latency    last pin write -> stored (live feed): p50 %.0f ms, p99 %.0f ms, max %.0f ms\n", p50,
                  p99, pmax);
      std::printf("  readings   sent %llu, stored %llu, lost %llu over %.0f s\n", static_cast<unsigned long long>(sent),
                  static_cast<unsigned long long>(stored), static_cast<unsigned long long>(lost), window_s);
    } else {
      std::printf("  readings   sent %llu over %.0f s (no --api-port/--api-token: not checked)\n",
                  static_cast<unsigned long long>(sent), window_s);
    }
    std::printf("  pings      %llu sent, %llu answered; disconnects %llu\n",
                static_cast<unsigned long long>(dstats.pings_sent),
                static_cast<unsigned long long>(dstats.ping_answers),
                static_cast<unsigned long long>(dstats.disconnects));
    if (server_pid > 0) {
      std::printf("  server     cpu %.0f%% of one core, rss %.0f MiB; devices' process cpu %.0f%%\n", cpu_server,
                  rss_server, cpu_self);
    }
    if (interrupted) std::printf("  (interrupted before the end)\n");
  }
  if (interrupted && dstats.logins_ok < devices.size()) {
    return Error::unavailable("bench blynk: only " + std::to_string(dstats.logins_ok) + " of " +
                              std::to_string(devices.size()) + " devices logged in");
  }
  return {};
}

void add_bench_blynk(CLI::App& app) {
  auto a = std::make_shared<BenchBlynkArgs>();
  auto* bench = command_group(app, "bench", "Benchmarks: simulated workloads that print measured figures");
  auto* cmd = bench->add_subcommand(
      "blynk",
      "Blynk load test: simulated Blynk devices in this process against `wattguard serve` (started here unless "
      "--port is given); reports write-to-stored latency p50/p99/max and readings lost");
  cmd->add_option("--devices", a->devices, "Devices (with --tokens: at most this many of the file's)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{200000}));
  cmd->add_option("--period-s", a->period_s, "Seconds between a device's V0..V5 writes")->check(CLI::Range(1, 3600));
  cmd->add_option("--duration-s", a->duration_s, "Seconds measured, after every device logged in")
      ->check(CLI::Range(1.0, 86400.0));
  cmd->add_option("--drain-s", a->drain_s, "Longest wait for the last readings after the window")
      ->check(CLI::Range(0.0, 600.0));
  cmd->add_option("--host", a->host, "Server host");
  cmd->add_option("--port", a->port, "Blynk port of a running server (default: start one)");
  cmd->add_option("--tokens", a->tokens_file, "With --port: a file of 'meter token' lines");
  cmd->add_option("--api-port", a->api_port, "With --port: the server's HTTP port, for the live feed");
  cmd->add_option("--api-token", a->api_token, "With --port: an API token with read scope, for the live feed");
  cmd->add_option("--data", a->data, "Data directory of the server started here (default: a temporary one)");
  cmd->add_flag("--keep-data", a->keep_data, "Keep the temporary data directory");
  cmd->add_option("--login", a->login, "current (command 29), legacy (command 2) or mixed");
  cmd->add_option("--threads", a->threads, "I/O threads of the devices (and of the server started here)")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--heartbeat-s", a->heartbeat_s, "The devices' heartbeat (a ping every this many seconds)")
      ->check(CLI::Range(1, 3600));
  cmd->add_option("--connect-spread-s", a->connect_spread_s,
                  "Spread the first connections over this (default: the period)");
  cmd->add_flag("--json", a->json, "One JSON object with every figure");
  cmd->add_flag("--verbose", a->verbose, "Log at info level");
  cmd->callback([a] { finish(run_bench_blynk(*a)); });
}

const bool kRegistered = register_commands("bench_blynk", &add_bench_blynk);

}  // namespace
}  // namespace wattguard::cli
