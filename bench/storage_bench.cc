// Storage benchmarks: the ingest ceiling (batched appends with rollups, many meters interleaved) and the
// month-of-5-s-readings query as 1,000 points (issue 4 targets: >= 200,000 readings/s, < 50 ms), on SQLite and
// on PostgreSQL (issue 16). The PostgreSQL runs need a server: WATTGUARD_BENCH_PG is a libpq connection
// string of a role that may create databases (each benchmark creates its own and drops it); without it they
// are skipped.
#include <benchmark/benchmark.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "wattguard/storage/pg_store.h"
#include "wattguard/storage/sqlite_store.h"

namespace {

namespace fs = std::filesystem;
using wattguard::protocol::Reading;
using wattguard::storage::MeterInfo;
using wattguard::storage::PgOptions;
using wattguard::storage::PgStore;
using wattguard::storage::ReadingStore;
using wattguard::storage::SqliteOptions;
using wattguard::storage::SqliteStore;

constexpr int64_t kT0 = 1'750'032'000'000;  // 2025-06-16 00:00 UTC
constexpr int64_t kPeriodMs = 5000;

enum Backend : int64_t { kSqlite = 0, kPostgresql = 1 };

const char* pg_conninfo() { return std::getenv("WATTGUARD_BENCH_PG"); }

// Runs one statement on the server of WATTGUARD_BENCH_PG (creating and dropping the bench's databases).
void pg_admin(const std::string& sql) {
  PGconn* conn = PQconnectdb(pg_conninfo());
  PGresult* res = PQstatus(conn) == CONNECTION_OK ? PQexec(conn, sql.c_str()) : nullptr;
  const bool ok = res != nullptr && PQresultStatus(res) == PGRES_COMMAND_OK;
  const std::string why = PQerrorMessage(conn);
  PQclear(res);
  PQfinish(conn);
  if (!ok) throw std::runtime_error(sql + ": " + why);
}

// A fresh database: a SQLite file on disk (not tmpfs: $TMPDIR or /tmp is the root disk on this machine), or
// a new database on the PostgreSQL server, dropped afterwards.
class BenchDb {
 public:
  BenchDb(const std::string& tag, Backend backend) {
    const std::string name = "wattguard_bench_" + tag + "_" + std::to_string(::getpid());
    if (backend == kPostgresql) {
      pg_admin("CREATE DATABASE " + name);
      pg_db_ = name;
      PgOptions options;
      options.conninfo = std::string(pg_conninfo()) + " dbname=" + name;  // the last dbname wins
      options.reader_connections = 1;
      auto s = PgStore::open(options);
      if (!s.ok()) throw std::runtime_error(s.error().message);
      store = std::move(s.value());
      return;
    }
    dir_ = fs::temp_directory_path() / name;
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto s = SqliteStore::open(SqliteOptions{.path = (dir_ / "bench.db").string(), .reader_connections = 1});
    if (!s.ok()) throw std::runtime_error(s.error().message);
    store = std::move(s.value());
  }
  ~BenchDb() {
    store.reset();
    if (pg_db_.empty()) {
      std::error_code ignored;
      fs::remove_all(dir_, ignored);
      return;
    }
    try {
      pg_admin("DROP DATABASE " + pg_db_ + " WITH (FORCE)");
    } catch (const std::exception& e) {
      std::fprintf(stderr, "leaving database %s behind: %s\n", pg_db_.c_str(), e.what());
    }
  }
  std::unique_ptr<ReadingStore> store;

 private:
  fs::path dir_;
  std::string pg_db_;
};

// CPU seconds used so far by every PostgreSQL server process on this machine (backends, WAL writer,
// checkpointer): the server's half of an append, which the benchmark's own CPU time leaves out. Meant for the
// private server the bench runs against, with nothing else using PostgreSQL meanwhile.
double postgres_cpu_s() {
  double ticks = 0;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string pid = entry.path().filename().string();
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    const auto open = line.find('('), close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos || line.compare(open + 1, 8, "postgres") != 0) {
      continue;
    }
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    double utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::stod(field);
      if (i == 15) stime = std::stod(field);
    }
    ticks += utime + stime;
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// False (and the benchmark skipped) for PostgreSQL without a server to run on.
bool backend_available(benchmark::State& state, Backend backend) {
  if (backend == kPostgresql && pg_conninfo() == nullptr) {
    state.SkipWithError("set WATTGUARD_BENCH_PG to a libpq connection string to measure PostgreSQL");
    return false;
  }
  return true;
}

std::string meter_name(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "m%05d", i);
  return buf;
}

// Household-like readings: each meter has its own base load and a slowly wandering appliance
// load, with occasional steps (kettle, pump); registers integrate the power exactly.
class FleetGenerator {
 public:
  explicit FleetGenerator(int meters) : rng_(42), state_(static_cast<std::size_t>(meters)) {
    std::uniform_real_distribution<double> base(80, 400);
    for (auto& m : state_) m.base_w = base(rng_);
  }

  // One report period of every meter, in arrival order (interleaved, slightly shuffled).
  void next_round(std::vector<Reading>* out) {
    std::normal_distribution<double> walk(0, 40);
    std::uniform_real_distribution<double> u(0, 1);
    const std::size_t start = out->size();
    for (std::size_t i = 0; i < state_.size(); ++i) {
      MeterState& m = state_[i];
      m.extra_w = std::clamp(m.extra_w + walk(rng_), 0.0, 3000.0);
      if (u(rng_) < 0.002) m.extra_w = m.extra_w > 1500 ? 0 : 2200;
      const double p = m.base_w + m.extra_w;
      m.import_wh += p * kPeriodMs / 3'600'000.0;
      Reading r;
      r.meter_id = meter_name(static_cast<int>(i));
      r.seq = m.seq++;
      r.time_ms = kT0 + static_cast<int64_t>(r.seq) * kPeriodMs + static_cast<int64_t>(i % 997);
      r.vrms = 228 + 4 * u(rng_);
      r.pf = 0.85 + 0.1 * u(rng_);
      r.s_va = p / r.pf;
      r.irms = r.s_va / r.vrms;
      r.p_w = p;
      r.q_var = std::sqrt(std::max(0.0, r.s_va * r.s_va - p * p));
      r.freq_hz = 49.95 + 0.1 * u(rng_);
      r.e_import_wh = m.import_wh;
      r.flags = 8;
      out->push_back(std::move(r));
    }
    // Messages from different meters arrive in no particular order.
    std::shuffle(out->begin() + static_cast<long>(start), out->end(), rng_);
  }

 private:
  struct MeterState {
    double base_w = 0, extra_w = 0, import_wh = 0;
    uint64_t seq = 0;
  };
  std::mt19937_64 rng_;
  std::vector<MeterState> state_;
};

void provision(ReadingStore& store, int meters) {
  std::vector<MeterInfo> infos;
  for (int i = 0; i < meters; ++i) {
    MeterInfo m;
    m.id = meter_name(i);
    m.area = "area" + std::to_string(i % 20);
    infos.push_back(m);
  }
  if (!store.add_meters(infos).ok()) throw std::runtime_error("provisioning failed");
}

// args: meters, batch size. Each iteration appends one batch to a growing database, so the
// figure includes B-tree growth, rollup upserts and WAL checkpoints (steady state, not a warm cache trick).
void BM_IngestReadings(benchmark::State& state) {
  const auto backend = static_cast<Backend>(state.range(0));
  if (!backend_available(state, backend)) return;
  const int meters = static_cast<int>(state.range(1));
  const auto batch = static_cast<std::size_t>(state.range(2));
  BenchDb db("ingest", backend);
  provision(*db.store, meters);
  FleetGenerator gen(meters);
  std::vector<Reading> pending;
  std::size_t stored = 0;
  std::vector<double> append_ms;  // per call: a compaction step makes some calls slower
  const double server_cpu_before = backend == kPostgresql ? postgres_cpu_s() : 0;
  std::size_t batches = 0;
  for (auto _ : state) {
    ++batches;
    state.PauseTiming();
    while (pending.size() < batch) gen.next_round(&pending);
    std::vector<Reading> chunk(pending.begin(), pending.begin() + static_cast<long>(batch));
    pending.erase(pending.begin(), pending.begin() + static_cast<long>(batch));
    state.ResumeTiming();
    const auto t0 = std::chrono::steady_clock::now();
    auto r = db.store->append_readings(chunk, kT0);
    append_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    if (!r.ok()) {
      state.SkipWithError(r.error().message.c_str());
      break;
    }
    stored += r->stored;
  }
  state.SetItemsProcessed(static_cast<int64_t>(stored));
  state.counters["stored"] = static_cast<double>(stored);
  if (backend == kPostgresql && batches > 0) {
    state.counters["server_cpu_ms_per_batch"] = (postgres_cpu_s() - server_cpu_before) * 1000 / batches;
  }
  if (!append_ms.empty()) {
    std::sort(append_ms.begin(), append_ms.end());
    state.counters["append_p99_ms"] = append_ms[append_ms.size() * 99 / 100];
    state.counters["append_max_ms"] = append_ms.back();
  }
}
BENCHMARK(BM_IngestReadings)
    ->ArgNames({"pg", "meters", "batch"})
    ->ArgsProduct({{kSqlite, kPostgresql}, {100}, {1000}})
    ->ArgsProduct({{kSqlite, kPostgresql}, {1000}, {1000, 5000}})
    ->ArgsProduct({{kSqlite, kPostgresql}, {20000}, {5000}})
    ->MinTime(3.0)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// One month (30 days) of 5-s readings of one meter: 518,400 rows, loaded once per backend.
class MonthFixture {
 public:
  explicit MonthFixture(Backend backend) : db_("month", backend) {
    provision(*db_.store, 1);
    FleetGenerator gen(1);
    std::vector<Reading> batch;
    for (int i = 0; i < kRows; ++i) {
      gen.next_round(&batch);
      if (batch.size() == 5000 || i == kRows - 1) {
        if (!db_.store->append_readings(batch, kT0).ok()) throw std::runtime_error("load failed");
        batch.clear();
      }
    }
    // Steady state: a live server has at most a minute of readings staged.
    if (auto* sqlite = dynamic_cast<SqliteStore*>(db_.store.get()); sqlite && !sqlite->compact().ok()) {
      throw std::runtime_error("compaction failed");
    }
  }
  ReadingStore& store() { return *db_.store; }
  static constexpr int kRows = 30 * 24 * 720;  // 518,400

 private:
  BenchDb db_;
};

MonthFixture& month(Backend backend) {
  static std::unique_ptr<MonthFixture> fixtures[2];
  auto& f = fixtures[backend];
  if (!f) f = std::make_unique<MonthFixture>(backend);
  return *f;
}

void BM_MonthQuery1000Points(benchmark::State& state) {
  const auto backend = static_cast<Backend>(state.range(0));
  if (!backend_available(state, backend)) return;
  ReadingStore& store = month(backend).store();
  const int64_t from = kT0;
  const int64_t to = kT0 + 30LL * 86'400'000;
  const int64_t step = (to - from) / 1000;
  std::size_t points = 0;
  uint64_t readings = 0;
  for (auto _ : state) {
    auto r = store.readings("m00000", from, to, step);
    if (!r.ok()) {
      state.SkipWithError(r.error().message.c_str());
      break;
    }
    points = r->points.size();
    readings = 0;
    for (const auto& p : r->points) readings += p.count;
    benchmark::DoNotOptimize(r->points.data());
  }
  state.counters["points"] = static_cast<double>(points);
  state.counters["readings_covered"] = static_cast<double>(readings);
}
BENCHMARK(BM_MonthQuery1000Points)
    ->ArgName("pg")
    ->Arg(kSqlite)
    ->Arg(kPostgresql)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The same month at 1-minute steps (43,200 points from the 1-minute rollups), and a whole-month
// raw scan, for scale.
void BM_MonthQuery1MinSteps(benchmark::State& state) {
  const auto backend = static_cast<Backend>(state.range(0));
  if (!backend_available(state, backend)) return;
  ReadingStore& store = month(backend).store();
  for (auto _ : state) {
    auto r = store.readings("m00000", kT0, kT0 + 30LL * 86'400'000, 60'000);
    if (!r.ok()) {
      state.SkipWithError(r.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(r->points.data());
  }
}
BENCHMARK(BM_MonthQuery1MinSteps)
    ->ArgName("pg")
    ->Arg(kSqlite)
    ->Arg(kPostgresql)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_MonthRawScan(benchmark::State& state) {
  const auto backend = static_cast<Backend>(state.range(0));
  if (!backend_available(state, backend)) return;
  ReadingStore& store = month(backend).store();
  for (auto _ : state) {
    auto r = store.raw_readings("m00000", kT0, kT0 + 30LL * 86'400'000, 1'000'000);
    if (!r.ok()) {
      state.SkipWithError(r.error().message.c_str());
      break;
    }
    state.counters["rows"] = static_cast<double>(r->size());
  }
}
BENCHMARK(BM_MonthRawScan)->ArgName("pg")->Arg(kSqlite)->Arg(kPostgresql)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
