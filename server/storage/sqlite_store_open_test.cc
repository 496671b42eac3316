// Tests of SqliteStore's own life cycle: staged batches across crashes, compaction in steps and its
// interruption, damaged chunks and staging rows, files that are not (or newer) databases, two handles on a file.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "server/storage/sqlite_store_test_support.h"
#include "wattguard/storage/sqlite_store.h"

namespace wattguard::storage {
namespace {

using namespace store_test;  // NOLINT: the helpers are what these tests are written in

// Password hashes and everyone's consumption: a new database and its WAL are the owner's alone, whatever umask.
TEST(SqliteStoreOpen, ANewDatabaseAndItsWalAreReadableByTheOwnerOnly) {
  TempDb db;
  const mode_t old_umask = ::umask(022);
  auto store = SqliteStore::open(SqliteOptions{.path = db.path(), .reader_connections = 1});
  ::umask(old_umask);
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_TRUE((*store)->add_meter(meter("m1")).ok());
  for (const std::string& file : {db.path(), db.path() + "-wal"}) {
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0) << file;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << file;
  }
}

TEST(SqliteStoreOpen, StagedBatchesSurviveACrashAndAreCompactedOnReopen) {
  TempDb db;
  const auto rs = steady("m1", 3000);
  AggregateSeries before;
  {
    SqliteOptions o{.path = db.path(), .reader_connections = 1};
    o.compact_on_close = false;  // as if the process were killed
    o.staging_max_readings = 1'000'000;
    o.staging_max_age_ms = 1'000'000;
    auto store = SqliteStore::open(o);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->add_meter(meter("m1")).ok());
    for (std::size_t i = 0; i < rs.size(); i += 500) {
      ASSERT_TRUE((*store)->append_readings(std::span(rs).subspan(i, 500), kT0).ok());
    }
    before = (*store)->readings("m1", kT0, kT0 + 86'400'000, 15 * kMin).value();
  }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.path().c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "SELECT count(*) FROM staging", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 6);  // nothing was compacted
  sqlite3_finalize(st);
  sqlite3_close(raw);

  auto store = db.open();
  auto raw_back = store->raw_readings("m1", 0, INT64_MAX);
  ASSERT_TRUE(raw_back.ok());
  ASSERT_EQ(raw_back->size(), rs.size());
  for (std::size_t i = 0; i < rs.size(); ++i) ASSERT_EQ((*raw_back)[i], rs[i]);
  auto after = store->readings("m1", kT0, kT0 + 86'400'000, 15 * kMin);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->points.size(), before.points.size());
  for (std::size_t i = 0; i < before.points.size(); ++i) {
    EXPECT_EQ(after->points[i].count, before.points[i].count);
    EXPECT_NEAR(after->points[i].p_avg_w, before.points[i].p_avg_w, 1e-9);
    EXPECT_NEAR(after->points[i].energy_import_wh, before.points[i].energy_import_wh, 1e-9);
  }
  EXPECT_EQ(store->append_readings(rs, kT0)->duplicates, rs.size());
}

TEST(SqliteStoreOpen, CompactionInSmallStepsGivesTheSameData) {
  TempDb db;
  SqliteOptions o{.path = db.path(), .reader_connections = 1};
  o.staging_max_readings = 700;  // compaction steps run inside the appends
  o.compact_step_readings = 300;
  o.compact_step_meters = 1;  // cycles of several steps
  auto store = SqliteStore::open(o);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->add_meter(meter("m1")).ok());
  ASSERT_TRUE((*store)->add_meter(meter("m2")).ok());
  std::vector<Reading> rs = steady("m1", 5000);
  for (const Reading& r : steady("m2", 5000, 0, 300)) rs.push_back(r);
  std::sort(rs.begin(), rs.end(), [](const Reading& a, const Reading& b) { return a.time_ms < b.time_ms; });
  std::mt19937 rng(5);  // arrival order shuffled within windows of 400: some readings come late
  for (std::size_t i = 0; i < rs.size(); i += 400) {
    std::shuffle(rs.begin() + static_cast<long>(i), rs.begin() + static_cast<long>(std::min(i + 400, rs.size())), rng);
  }
  for (std::size_t i = 0; i < rs.size(); i += 250) {
    ASSERT_TRUE((*store)->append_readings(std::span(rs).subspan(i, 250), kT0).ok());
  }
  for (const char* id : {"m1", "m2"}) {
    EXPECT_EQ((*store)->seq_summary(id)->count, 5000u) << id;
    auto raw = (*store)->raw_readings(id, 0, INT64_MAX);
    ASSERT_EQ(raw->size(), 5000u);
    for (std::size_t i = 0; i < raw->size(); ++i) ASSERT_EQ((*raw)[i].seq, i);
    auto hourly = (*store)->readings(id, kT0, kT0 + 86'400'000, 3'600'000);
    uint32_t n = 0;
    double energy = 0;
    for (const auto& p : hourly->points) {
      n += p.count;
      energy += p.energy_import_wh;
    }
    EXPECT_EQ(n, 5000u);
    EXPECT_NEAR(energy, raw->back().e_import_wh - raw->front().e_import_wh, 1e-6);
  }
}

TEST(SqliteStoreOpen, ACompactionCycleInterruptedByACrashResumesWithoutLossOrDuplicates) {
  TempDb db;
  const auto m1 = steady("m1", 400), m2 = steady("m2", 400, 0, 300), m3 = steady("m3", 400, 0, 700);
  {
    SqliteOptions o{.path = db.path(), .reader_connections = 1};
    o.compact_on_close = false;
    o.staging_max_readings = 1050;
    o.compact_step_meters = 1;
    auto store = SqliteStore::open(o);
    ASSERT_TRUE(store.ok());
    for (const char* id : {"m1", "m2", "m3"}) ASSERT_TRUE((*store)->add_meter(meter(id)).ok());
    for (std::size_t i = 0; i < 400; i += 100) {
      for (const auto* rs : {&m1, &m2, &m3}) {
        ASSERT_TRUE((*store)->append_readings(std::span(*rs).subspan(i, 100), kT0).ok());
      }
    }
    // 1,100 staged > 1,050: the last two appends ran two steps of a three-step cycle.
  }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.path().c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "SELECT count(*) FROM compaction_progress", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 1);  // a cycle was under way
  sqlite3_finalize(st);
  sqlite3_close(raw);

  auto store = db.open();
  for (const auto* rs : {&m1, &m2, &m3}) {
    const std::string id = rs->front().meter_id;
    auto back = store->raw_readings(id, 0, INT64_MAX);
    ASSERT_TRUE(back.ok());
    ASSERT_EQ(back->size(), 400u) << id;
    for (std::size_t i = 0; i < 400; ++i) ASSERT_EQ((*back)[i], (*rs)[i]) << id;
    auto day = store->readings(id, kT0, kT0 + 86'400'000, 86'400'000);
    ASSERT_TRUE(day.ok());
    ASSERT_EQ(day->points.size(), 1u);
    EXPECT_EQ(day->points[0].count, 400u) << id;  // rollups counted each reading once
  }
}

TEST(SqliteStoreOpen, ADamagedChunkIsSkippedNotReadPast) {
  TempDb db;
  {
    auto store = db.open();
    ASSERT_TRUE(store->add_meter(meter("m1")).ok());
    ASSERT_TRUE(store->append_readings(steady("m1", 300), kT0).ok());
    ASSERT_TRUE(store->compact().ok());
  }
  // Truncate the first chunk's blob: its header says 128 records, the data holds 3 bytes.
  raw_sql(db.path(), "UPDATE raw_chunks SET data=x'010203' WHERE id=(SELECT min(id) FROM raw_chunks)");
  auto store = db.open();
  auto raw = store->raw_readings("m1", 0, INT64_MAX);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->size(), 300u - 128u);  // the other chunks still read back
  EXPECT_EQ(raw->front().seq, 128u);
  auto agg = store->readings("m1", kT0, kT0 + 3'600'000, 60'000);
  ASSERT_TRUE(agg.ok());  // rollups are unaffected
  // New readings are still accepted and duplicates of intact chunks still detected.
  auto more = store->append_readings(steady("m1", 10, 295), kT0);
  ASSERT_TRUE(more.ok());
  EXPECT_EQ(more->stored, 5u);
  EXPECT_EQ(more->duplicates, 5u);
}

TEST(SqliteStoreOpen, ADamagedStagingBatchIsReportedAndKept) {
  TempDb db;
  {
    SqliteOptions o{.path = db.path(), .reader_connections = 1};
    o.compact_on_close = false;
    auto store = SqliteStore::open(o);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->add_meter(meter("m1")).ok());
    ASSERT_TRUE((*store)->append_readings(steady("m1", 10), kT0).ok());
  }
  raw_sql(db.path(), "UPDATE staging SET data=x'00'");
  auto reopened = SqliteStore::open(SqliteOptions{.path = db.path()});
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.error().code, ErrorCode::kCorruption);
  EXPECT_NE(reopened.error().message.find("staging batch"), std::string::npos);
  // Nothing was thrown away: the damaged batch is still there for inspection.
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.path().c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "SELECT count(*) FROM staging", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 1);
  sqlite3_finalize(st);
  sqlite3_close(raw);
}

TEST(SqliteStoreOpen, RefusesAFileThatIsNotADatabase) {
  TempDb db;
  {
    std::ofstream f(db.path(), std::ios::binary);
    f << std::string(8192, 'x');
  }
  auto s = SqliteStore::open(SqliteOptions{.path = db.path()});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kCorruption);
  // And the file is left as it was.
  EXPECT_EQ(fs::file_size(db.path()), 8192u);
}

TEST(SqliteStoreOpen, RefusesANewerSchema) {
  TempDb db;
  { ASSERT_TRUE(db.open()); }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.path().c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "INSERT INTO schema_version VALUES(99)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  auto s = SqliteStore::open(SqliteOptions{.path = db.path()});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kCorruption);
  EXPECT_NE(s.error().message.find("newer"), std::string::npos);
}

TEST(SqliteStoreOpen, TwoHandlesOnOneFileSeeEachOthersWrites) {
  TempDb db;
  auto a = db.open();
  auto b = db.open();
  ASSERT_TRUE(a->add_meter(meter("m1")).ok());
  EXPECT_TRUE(b->has_meter("m1"));  // provisioned by "another process"
  EXPECT_TRUE(a->is_primary_writer());
  EXPECT_FALSE(b->is_primary_writer());
  ASSERT_TRUE(a->append_readings(steady("m1", 5), kT0).ok());
  EXPECT_EQ(b->seq_summary("m1")->count, 0u);  // still staged in a
  ASSERT_TRUE(a->compact().ok());
  EXPECT_EQ(b->seq_summary("m1")->count, 5u);
  // b's writer must notice a's rows: a rollback relative to them is detected, duplicates ignored.
  auto r =
      b->append_readings(std::vector<Reading>{make("m1", 4, kT0 + 20'000, 1, 0), make("m1", 5, kT0 + 25'000, 1, 0)},
                         kT0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->duplicates, 1u);
  EXPECT_EQ(r->rollbacks, 1u);
  // ...and a sees b's row, and does not store it again.
  auto again = a->append_readings(std::vector<Reading>{make("m1", 5, kT0 + 25'000, 1, 0)}, kT0);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->duplicates, 1u);
  EXPECT_EQ(a->seq_summary("m1")->count, 6u);
}

}  // namespace
}  // namespace wattguard::storage
