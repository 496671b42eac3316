// `wattguard bench ingest`: a private broker + the real server + a fleet of virtual meters on this
// machine; measures sustained readings/s, publish-to-stored latency and readings lost. The readings go to
// SQLite in the data directory, or (--storage postgresql) to a fresh database on a private PostgreSQL or on
// the server of --postgresql.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "cli/command_registry.h"
#include "cli/fleet_options_cli.h"
#include "wattguard/demo/local_system.h"
#include "wattguard/fleet/fleet.h"
#include "wattguard/fleet/fleet_options.h"
#include "wattguard/fleet/stop_signals.h"
#include "wattguard/fleet/virtual_meter.h"
#include "wattguard/ingest/ingest_observer.h"
#include "wattguard/pgserver/pg_databases.h"
#include "wattguard/pgserver/postgres_server.h"

namespace wattguard::cli {
namespace {

struct BenchIngestArgs {
  std::size_t meters = 2000;
  int period_s = 5;
  double duration_s = 60;
  bool json = false;
  std::string fidelity = "fast";
  std::string transport = "auto";
  int gateway_connections = 16;
  int threads = 2;
  std::string data;
  std::string storage = "sqlite";
  std::string postgresql;  // libpq connection string of a server to use instead of a private one
  bool keep_data = false;
  bool no_journal = false;
  bool no_progress = false;
  uint64_t seed = 1;
  bool verbose = false;
};

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// CPU seconds (user + system) of a process from /proc, or of this one.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string f;
  double utime = 0, stime = 0;
  for (int k = 3; k <= 15 && fields >> f; ++k) {
    if (k == 14) utime = std::atof(f.c_str());
    if (k == 15) stime = std::atof(f.c_str());
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// CPU seconds of a process and all its children (a PostgreSQL postmaster and its backends), from /proc.
double cpu_seconds_with_children(pid_t parent) {
  double total = cpu_seconds(parent);
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(text.substr(close + 2));
    std::string state;
    pid_t ppid = 0;
    if (fields >> state >> ppid && ppid == parent) total += cpu_seconds(std::atoi(name.c_str()));
  }
  return total;
}

// Stamps publishes (fleet side) and measures when each reading is committed (server side).
class LatencyProbe final : public fleet::FleetObserver, public ingest::IngestObserver {
 public:
  static constexpr std::size_t kRing = 32;

  explicit LatencyProbe(const std::vector<std::string>& ids) : stamps_(ids.size() * kRing) {
    index_.reserve(ids.size());
    for (std::size_t k = 0; k < ids.size(); ++k) index_.emplace(ids[k], k);
  }

  void on_reading_published(uint32_t meter, uint64_t seq, bool) override {
    Stamp& s = stamps_[meter * kRing + seq % kRing];
    s.t_ns.store(steady_ns(), std::memory_order_relaxed);
    s.seq.store(seq, std::memory_order_release);
  }

  void on_reading(const protocol::Reading& r) override {
    const int64_t now = steady_ns();
    stored_.fetch_add(1, std::memory_order_relaxed);
    auto it = index_.find(r.meter_id);
    if (it == index_.end()) return;
    const Stamp& s = stamps_[it->second * kRing + r.seq % kRing];
    if (s.seq.load(std::memory_order_acquire) != r.seq) return;
    const double ms = static_cast<double>(now - s.t_ns.load(std::memory_order_relaxed)) / 1e6;
    std::lock_guard lock(mutex_);
    if (measuring_) {
      latencies_ms_.push_back(static_cast<float>(ms));
      ++stored_in_window_;
    }
  }

  void set_measuring(bool on) {
    std::lock_guard lock(mutex_);
    measuring_ = on;
  }
  uint64_t stored() const { return stored_.load(); }
  uint64_t stored_in_window() {
    std::lock_guard lock(mutex_);
    return stored_in_window_;
  }
  // Percentile (0..100) of the latencies so far, ms; 0 when none.
  double percentile(double p) {
    std::lock_guard lock(mutex_);
    if (latencies_ms_.empty()) return 0;
    std::vector<float> v = latencies_ms_;
    const auto k =
        static_cast<std::size_t>(std::min<double>(v.size() - 1, std::floor(p / 100.0 * (v.size() - 1) + 0.5)));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
  }
  double max_ms() {
    std::lock_guard lock(mutex_);
    return latencies_ms_.empty() ? 0 : *std::max_element(latencies_ms_.begin(), latencies_ms_.end());
  }
  std::size_t samples() {
    std::lock_guard lock(mutex_);
    return latencies_ms_.size();
  }

 private:
  struct Stamp {
    std::atomic<uint64_t> seq{0};
    std::atomic<int64_t> t_ns{0};
  };
  std::vector<Stamp> stamps_;
  std::unordered_map<std::string, std::size_t> index_;
  std::atomic<uint64_t> stored_{0};
  std::mutex mutex_;
  bool measuring_ = false;
  uint64_t stored_in_window_ = 0;
  std::vector<float> latencies_ms_;
};

// Where the readings go with --storage postgresql: a database of the run's own (so that every sequence number
// counted as stored was stored by this run), on a private server (initdb'd for the run, removed with it) or on
// the server of --postgresql (the database dropped at the end unless --keep-data).
class BenchDatabase {
 public:
  static Expected<std::unique_ptr<BenchDatabase>> open(const std::string& server_conninfo, bool keep) {
    std::unique_ptr<BenchDatabase> db(new BenchDatabase());
    if (server_conninfo.empty()) {
      // Durable like a head-end's (fsync on, initdb's 128 MB of shared buffers): the figures are meant for one.
      pgserver::PostgresServerOptions options;
      options.durable = true;
      options.shared_buffers = "128MB";
      options.max_connections = 100;
      auto started = pgserver::PostgresServer::start(options);
      if (!started.ok()) return started.error();
      db->server_ = std::move(started).value();
      db->server_conninfo_ = db->server_->conninfo("postgres");
      db->where_ = "a private PostgreSQL on 127.0.0.1:" + std::to_string(db->server_->port()) + " (fsync on)";
    } else {
      db->server_conninfo_ = server_conninfo;
      db->keep_ = keep;
      db->where_ = "the PostgreSQL of --postgresql";
    }
    db->name_ = "wattguard_bench_" + std::to_string(::getpid());
    auto created = pgserver::create_database(db->server_conninfo_, db->name_);
    if (!created.ok()) return created.error();
    db->created_ = true;
    db->conninfo_ = std::move(created).value();
    db->where_ = "database " + db->name_ + " on " + db->where_;
    return db;
  }
  ~BenchDatabase() {
    if (!created_ || server_ || keep_) return;
    if (auto r = pgserver::drop_database(server_conninfo_, name_); !r.ok()) {
      std::fprintf(stderr, "bench ingest: leaving database %s behind: %s\n", name_.c_str(), r.error().message.c_str());
    }
  }
  BenchDatabase(const BenchDatabase&) = delete;
  BenchDatabase& operator=(const BenchDatabase&) = delete;

  const std::string& conninfo() const { return conninfo_; }
  const std::string& where() const { return where_; }
  // The private server's postmaster, or 0 with --postgresql (whose CPU this machine may not even see).
  pid_t postmaster_pid() const { return server_ ? server_->postmaster_pid() : 0; }

 private:
  BenchDatabase() = default;
  std::unique_ptr<pgserver::PostgresServer> server_;  // null with --postgresql
  std::string server_conninfo_, name_, conninfo_, where_;
  bool created_ = false;
  bool keep_ = false;
};

void progress_line(double done, double elapsed_s, double total_s, double rate, double p99, uint64_t queued) {
  const int width = 30, filled = static_cast<int>(std::clamp(done, 0.0, 1.0) * width);
  std::fprintf(stderr, "\r[%.*s%*s] %3.0f%% %4.0f/%.0f s  %7.0f readings/s  p99 %6.0f ms  queued %-8llu", filled,
               "##############################", width - filled, "", 100 * std::clamp(done, 0.0, 1.0), elapsed_s,
               total_s, rate, p99, static_cast<unsigned long long>(queued));
  std::fflush(stderr);
}

Expected<void> run_bench_ingest(const BenchIngestArgs& a) {
  using namespace wattguard::fleet;
  using namespace wattguard::demo;
  if (!a.verbose) spdlog::set_level(spdlog::level::warn);
  if (!spdlog::get("wattguard")) {
    auto logger = spdlog::stderr_color_mt("wattguard");
    logger->set_pattern("%H:%M:%S.%e %^%-5l%$ %v");
    spdlog::set_default_logger(logger);
    if (!a.verbose) spdlog::set_level(spdlog::level::warn);
  }
  const bool bar = !a.no_progress && isatty(STDERR_FILENO) && std::getenv("CI") == nullptr;
  if (a.storage != "sqlite" && a.storage != "postgresql") {
    return option_error("--storage", a.storage, "'" + a.storage + "' is not sqlite or postgresql");
  }
  if (!a.postgresql.empty() && a.storage != "postgresql") {
    return option_error("--postgresql", a.postgresql, "--postgresql needs --storage postgresql");
  }
  if (!a.postgresql.empty()) {
    if (auto parsed = pgserver::with_database(a.postgresql, "postgres"); !parsed.ok()) {
      return option_error("--postgresql", a.postgresql, parsed.error().message);
    }
  }

  LocalSystemOptions o;
  const bool temp_data = a.data.empty();
  o.data_dir = temp_data ? std::filesystem::temp_directory_path() / ("wattguard-bench-" + std::to_string(::getpid()))
                         : std::filesystem::path(a.data);
  if (temp_data) std::filesystem::remove_all(o.data_dir);
  o.http_port = 0;
  o.create_operator = false;
  o.password_cost = "min";
  o.fleet_state = !a.no_journal;
  o.start_fleet = false;
  // The fleet stops at the end of the run and every meter then goes offline: those are not alerts anyone wants
  // (thousands of log lines after the figures).
  std::unique_ptr<BenchDatabase> database;
  if (a.storage == "postgresql") {
    auto opened = BenchDatabase::open(a.postgresql, a.keep_data);
    if (!opened.ok()) return as_failure(opened.error(), "bench ingest: PostgreSQL: " + opened.error().message);
    database = std::move(opened).value();
  }
  o.configure_server = [pg = database ? database->conninfo() : std::string()](serve::ServerConfig& config) {
    config.alerts.offline_alerts = false;
    if (!pg.empty()) {
      config.storage.backend = "postgresql";
      config.storage.postgresql = pg;
    }
  };
  FleetConfig& c = o.fleet;
  c.meters = a.meters;
  c.period_ms = static_cast<uint32_t>(a.period_s) * 1000u;
  c.seed = a.seed;
  c.threads = a.threads;
  c.gateway_connections = a.gateway_connections;
  if (a.transport == "per-meter" || (a.transport == "auto" && a.meters <= 15000)) {
    c.transport = Transport::kPerMeter;
  } else if (a.transport == "gateway" || a.transport == "auto") {
    c.transport = Transport::kGateway;
  } else {
    return option_error("--transport", a.transport, "'" + a.transport + "' is not auto, per-meter or gateway");
  }
  const auto chosen = fidelity_option(a.fidelity, a.meters, 1.0);
  if (!chosen.ok()) return chosen.error();
  const FidelityChoice& choice = chosen.value();
  c.fidelity = choice.fidelity;
  c.sample_rate_hz = choice.sample_rate_hz;

  StopSignals signals;
  const double cpu0 = cpu_seconds(::getpid());
  auto started = LocalSystem::start(o);
  // The options are checked above: a system that does not start is a failure of the run (exit 1).
  if (!started.ok()) return as_failure(started.error(), "bench ingest: " + started.error().message);
  auto sys = std::move(started).value();
  const pid_t broker_pid = sys->broker().pid();
  LatencyProbe probe(sys->fleet().meter_ids());
  sys->fleet().set_observer(&probe);
  sys->server().ingest().add_observer(&probe);
  if (!a.json) {
    std::printf("bench ingest: %zu meters, a reading every %d s (%.0f readings/s offered), %.0f s measured\n", a.meters,
                a.period_s, static_cast<double>(a.meters) / a.period_s, a.duration_s);
    std::printf("  fidelity   %s\n", choice.reason.c_str());
    std::printf("  transport  %s (%llu MQTT connection(s)); journal %s\n", transport_name(c.transport),
                static_cast<unsigned long long>(sys->fleet().stats().links), a.no_journal ? "off" : "on (fsync'd)");
    std::printf("  storage    %s\n",
                database ? ("postgresql: " + database->where()).c_str() : "sqlite (data directory)");
    std::fflush(stdout);
  }

  const auto t_connect0 = std::chrono::steady_clock::now();
  sys->fleet().start();
  bool interrupted = false;
  // Connections first; the measurement starts once every link is up.
  while (sys->fleet().stats().links_connected < sys->fleet().stats().links) {
    if (std::chrono::steady_clock::now() - t_connect0 > std::chrono::seconds(120)) {
      return Error::unavailable("bench ingest: only " + std::to_string(sys->fleet().stats().links_connected) + " of " +
                                std::to_string(sys->fleet().stats().links) + " connections up after 120 s");
    }
    if (signals.wait(std::chrono::milliseconds(50)) != 0) {
      interrupted = true;
      break;
    }
  }
  const double connect_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_connect0).count();
  const double cpu_w0 = cpu_seconds(::getpid()), broker_w0 = cpu_seconds(broker_pid);
  const pid_t pg_pid = database ? database->postmaster_pid() : 0;
  const double pg_w0 = pg_pid > 0 ? cpu_seconds_with_children(pg_pid) : 0;

  probe.set_measuring(true);
  const auto t0 = std::chrono::steady_clock::now();
  double elapsed = 0;
  uint64_t last_stored = probe.stored();
  auto last_t = t0;
  double rate = 0;
  while (!interrupted && elapsed < a.duration_s) {
    if (signals.wait(std::chrono::milliseconds(500)) != 0) interrupted = true;
    const auto now = std::chrono::steady_clock::now();
    elapsed = std::chrono::duration<double>(now - t0).count();
    const uint64_t stored = probe.stored();
    rate = static_cast<double>(stored - last_stored) / std::chrono::duration<double>(now - last_t).count();
    last_stored = stored;
    last_t = now;
    if (bar)
      progress_line(elapsed / a.duration_s, elapsed, a.duration_s, rate, probe.percentile(99),
                    sys->fleet().stats().readings_queued);
  }
  const double window_s = std::min(elapsed, a.duration_s);
  const double cpu_w1 = cpu_seconds(::getpid()), broker_w1 = cpu_seconds(broker_pid);
  const double pg_w1 = pg_pid > 0 ? cpu_seconds_with_children(pg_pid) : 0;
  const uint64_t stored_in_window = probe.stored_in_window();

  // Drain: no new readings; everything made must reach the store.
  sys->fleet().pause_measuring(true);
  const auto drain0 = std::chrono::steady_clock::now();
  uint64_t made = 0;
  for (;;) {
    const auto s = sys->fleet().stats();
    made = s.readings_made;
    if (s.readings_queued == 0 && probe.stored() >= made) break;
    if (std::chrono::steady_clock::now() - drain0 > std::chrono::seconds(60)) break;
    signals.wait(std::chrono::milliseconds(100));
  }
  sys->server().ingest().flush(10000);
  probe.set_measuring(false);
  if (bar) std::fprintf(stderr, "\r%*s\r", 110, "");

  // Lost: every sequence number made must be in the store (fresh data directory: from 1).
  const auto next = sys->fleet().next_seqs();
  const auto& ids = sys->fleet().meter_ids();
  uint64_t stored_total = 0, lost = 0, sent = 0;
  for (std::size_t k = 0; k < ids.size(); ++k) {
    const uint64_t made_k = next[k] - fleet::VirtualMeter::kFirstSeq;
    sent += made_k;
    auto summary = sys->server().store().seq_summary(ids[k]);
    const uint64_t have = summary.ok() ? summary->count : 0;
    stored_total += have;
    if (have < made_k) lost += made_k - have;
  }
  const auto fstats = sys->fleet().stats();
  const double p50 = probe.percentile(50), p99 = probe.percentile(99), pmax = probe.max_ms();
  const double readings_per_s = window_s > 0 ? static_cast<double>(stored_in_window) / window_s : 0;
  const double cpu_self = window_s > 0 ? 100 * (cpu_w1 - cpu_w0) / window_s : 0;
  const double cpu_broker = window_s > 0 ? 100 * (broker_w1 - broker_w0) / window_s : 0;
  const double cpu_postgresql = window_s > 0 ? 100 * (pg_w1 - pg_w0) / window_s : 0;
  (void)cpu0;
  sys->server().ingest().remove_observer(&probe);
  sys->stop(1000);
  if (temp_data && !a.keep_data) std::filesystem::remove_all(o.data_dir);

  if (a.json) {
    nlohmann::json j{{"meters", a.meters},
                     {"period_s", a.period_s},
                     {"duration_s", window_s},
                     {"fidelity", fidelity_name(c.fidelity)},
                     {"transport", transport_name(c.transport)},
                     {"storage", a.storage},
                     {"connections", fstats.links},
                     {"journal", !a.no_journal},
                     {"readings_offered_per_s", static_cast<double>(a.meters) / a.period_s},
                     {"readings_sent", sent},
                     {"readings_stored", stored_total},
                     {"lost", lost},
                     {"readings_per_s", readings_per_s},
                     {"latency_p50_ms", p50},
                     {"latency_p99_ms", p99},
                     {"latency_max_ms", pmax},
                     {"latency_samples", probe.samples()},
                     {"replayed", fstats.readings_replayed},
                     {"dropped", fstats.readings_dropped},
                     {"connect_s", connect_s},
                     {"cpu_process_pct", cpu_self},
                     {"cpu_broker_pct", cpu_broker},
                     {"interrupted", interrupted}};
    if (pg_pid > 0) j["cpu_postgresql_pct"] = cpu_postgresql;
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("  connected  in %.1f s\n", connect_s);
    std::printf("  sustained  %.0f readings/s stored over %.0f s (offered %.0f/s)\n", readings_per_s, window_s,
                static_cast<double>(a.meters) / a.period_s);
    std::printf("  latency    publish -> stored: p50 %.0f ms, p99 %.0f ms, max %.0f ms (%zu readings)\n", p50, p99,
                pmax, probe.samples());
    std::printf("  readings   sent %llu, stored %llu, lost %llu, replayed %llu, dropped %llu\n",
                static_cast<unsigned long long>(sent), static_cast<unsigned long long>(stored_total),
                static_cast<unsigned long long>(lost), static_cast<unsigned long long>(fstats.readings_replayed),
                static_cast<unsigned long long>(fstats.readings_dropped));
    std::printf("  cpu        this process (fleet + server) %.0f%%, broker %.0f%% (of one core)\n", cpu_self,
                cpu_broker);
    if (pg_pid > 0) std::printf("  cpu        PostgreSQL (every server process) %.0f%% of one core\n", cpu_postgresql);
    if (interrupted) std::printf("  (interrupted before the end)\n");
  }
  return {};
}

void add_bench_ingest(CLI::App& app) {
  auto a = std::make_shared<BenchIngestArgs>();
  auto* bench = command_group(app, "bench", "Benchmarks: simulated workloads that print measured figures");
  auto* cmd = bench->add_subcommand(
      "ingest",
      "Ingest load test on this machine: a private Mosquitto, the real server (SQLite, or PostgreSQL) and virtual "
      "meters; reports readings/s stored, publish-to-stored latency p50/p99 and readings lost");
  cmd->add_option("--meters", a->meters, "Virtual meters")->check(CLI::Range(1, 1000000));
  cmd->add_option("--period", a->period_s, "Report period, seconds")->check(CLI::Range(1, 3600));
  cmd->add_option("--duration", a->duration_s, "Seconds measured (after all connections are up)")
      ->check(CLI::Range(1.0, 86400.0));
  cmd->add_flag("--json", a->json,
                "One JSON object: meters, readings_sent, readings_stored, lost, readings_per_s, latency_p50_ms, "
                "latency_p99_ms and more");
  cmd->add_option("--fidelity", a->fidelity, "fast (default), samples or auto (see `wattguard fleet --help`)");
  cmd->add_option("--transport", a->transport,
                  "auto (per-meter up to 15,000 meters, else gateway), per-meter or gateway");
  cmd->add_option("--gateway-connections", a->gateway_connections, "Connections for the gateway transport")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--threads", a->threads, "Fleet event-loop threads")->check(CLI::Range(1, 64));
  cmd->add_option("--data", a->data, "Data directory (default: a temporary one, removed afterwards)");
  cmd->add_option("--storage", a->storage,
                  "sqlite (default: in the data directory) or postgresql (a fresh database on a private PostgreSQL, "
                  "initdb'd in a temporary directory and removed at the end, or on the server of --postgresql)");
  cmd->add_option("--postgresql", a->postgresql,
                  "With --storage postgresql: a libpq connection string of a server and a role that may create "
                  "databases; the run creates its own database there and drops it at the end");
  cmd->add_flag("--keep-data", a->keep_data,
                "Keep the temporary data directory (and the database on the server of --postgresql)");
  cmd->add_flag("--no-journal", a->no_journal, "Run the fleet without its store-and-forward journal");
  cmd->add_flag("--no-progress", a->no_progress, "No progress bar on stderr");
  cmd->add_option("--seed", a->seed, "Seed for the households");
  cmd->add_flag("--verbose", a->verbose, "Log at info level (default: warnings only)");
  cmd->callback([a] { finish(run_bench_ingest(*a)); });
}

const bool kRegistered = register_commands("bench_ingest", &add_bench_ingest);

}  // namespace
}  // namespace wattguard::cli
