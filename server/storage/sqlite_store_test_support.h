// Helpers of the SqliteStore tests: a temporary database, meters and readings to append, raw SQL behind the
// store's back. Test-only.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wattguard/storage/sqlite_store.h"
#include "wattguard/test_support/temp_dir.h"

namespace wattguard::storage::store_test {

namespace fs = std::filesystem;
using protocol::Reading;

constexpr int64_t kT0 = 1'750'032'000'000;  // 2025-06-16 00:00:00 UTC (a day boundary)
constexpr int64_t kMin = 60'000;

class TempDb {
 public:
  std::string path() const { return dir_.file("wattguard.db"); }
  std::unique_ptr<SqliteStore> open() const {
    auto s = SqliteStore::open(SqliteOptions{.path = path(), .reader_connections = 2});
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
    return s.ok() ? std::move(s.value()) : nullptr;
  }

 private:
  test_support::TempDir dir_{"store"};
};

inline MeterInfo meter(const std::string& id) {
  MeterInfo m;
  m.id = id;
  return m;
}

inline EventQuery query(const std::string& meter_id = "", std::optional<protocol::EventKind> kind = std::nullopt,
                        int64_t from_ms = INT64_MIN, int64_t to_ms = INT64_MAX) {
  EventQuery q;
  q.meter_id = meter_id;
  q.kind = kind;
  q.from_ms = from_ms;
  q.to_ms = to_ms;
  return q;
}

inline Reading make(const std::string& meter, uint64_t seq, int64_t t, double p_w, double imp_wh, double exp_wh = 0) {
  Reading r;
  r.meter_id = meter;
  r.seq = seq;
  r.time_ms = t;
  r.vrms = 230;
  r.irms = std::fabs(p_w) / 230;
  r.p_w = p_w;
  r.s_va = std::fabs(p_w);
  r.q_var = 0;
  r.pf = 1;
  r.freq_hz = 50;
  r.e_import_wh = imp_wh;
  r.e_export_wh = exp_wh;
  return r;
}

// A meter drawing a constant 1200 W from kT0, one reading every 5 s, registers exact.
inline std::vector<Reading> steady(const std::string& meter, int count, uint64_t first_seq = 0, double p_w = 1200) {
  std::vector<Reading> out;
  for (int i = 0; i < count; ++i) {
    const uint64_t seq = first_seq + static_cast<uint64_t>(i);
    const int64_t t = kT0 + static_cast<int64_t>(seq) * 5000;
    out.push_back(make(meter, seq, t, p_w, p_w * static_cast<double>(seq) * 5.0 / 3600.0));
  }
  return out;
}

// Runs one SQL statement on the file behind the store's back (simulating damage).
inline void raw_sql(const std::string& path, const char* sql) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(raw);
  sqlite3_close(raw);
}

}  // namespace wattguard::storage::store_test
