// Tests of what only the PostgreSQL store has: its partitions and their retention, the (meter, seq) ledger
// shared by several stores (servers) on one database, schema versions, and PostgreSQL away or restarted.
#include "wattguard/storage/pg_store.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <algorithm>
#include <thread>

#include "server/storage/store_test_backends.h"
#include "wattguard/broker/broker_process.h"

// libpqxx 6.4 leaks the PGresult of a BEGIN that fails on a connection PostgreSQL dropped (once per broken
// connection, which the store then replaces; pqxx::dbtransaction::do_begin, seen with
// ASAN_OPTIONS=fast_unwind_on_malloc=0): not ours to fix, and only PostgresqlAway... provokes it. The stack
// of the default (fast) unwinder stops inside the library, so it is matched by module.
extern "C" const char* __lsan_default_suppressions() {  // NOLINT: the sanitizer's hook has this name
  return "leak:libpqxx-6.4.so\n";
}

namespace wattguard::storage {
namespace {

using namespace store_test;  // NOLINT: the helpers are what these tests are written in

// Runs one SQL statement behind the store's back.
void raw_pg_sql(const std::string& conninfo, const std::string& sql) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  PGresult* res = PQexec(conn, sql.c_str());
  const ExecStatusType status = PQresultStatus(res);
  EXPECT_TRUE(status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) << PQerrorMessage(conn);
  PQclear(res);
  PQfinish(conn);
}

constexpr int64_t kDay = 86'400'000;

TEST(PgStore, UnreachableServerIsAnErrorNamingHostAndPort) {
  const uint16_t port = broker::free_port();  // nothing listens there
  PgOptions options;
  options.conninfo = "host=127.0.0.1 port=" + std::to_string(port) + " dbname=wattguard connect_timeout=5";
  auto s = PgStore::open(options);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kIoError);
  EXPECT_NE(s.error().message.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << s.error().message;
}

TEST(PgStore, RefusesANewerSchemaNamingBothVersions) {
  PgBackend backend;
  ASSERT_TRUE(backend.open_pg());
  raw_pg_sql(backend.conninfo(), "INSERT INTO schema_version(version) VALUES(99)");
  PgOptions options;
  options.conninfo = backend.conninfo();
  auto s = PgStore::open(options);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kCorruption);
  EXPECT_NE(s.error().message.find("version 99 is newer than this build's " + std::to_string(PgStore::kSchemaVersion)),
            std::string::npos)
      << s.error().message;
}

TEST(PgStore, MonthsGetPartitionsAndRetentionDropsWholeOnes) {
  PgBackend backend;
  auto store = backend.open_pg();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->add_meter(meter("m1")).ok());
  // One reading an hour from 2025-04-01 to 2025-06-30 (kT0 is 2025-06-16).
  const int64_t april = 1'743'465'600'000;  // 2025-04-01 00:00 UTC
  std::vector<Reading> rs;
  for (uint64_t h = 0; h < 91 * 24; ++h) {
    rs.push_back(make("m1", h, april + static_cast<int64_t>(h) * 3600'000, 100, static_cast<double>(h)));
  }
  auto appended = store->append_readings(rs, kT0);
  ASSERT_TRUE(appended.ok()) << appended.error().message;
  EXPECT_EQ(appended->stored, rs.size());
  auto parts = store->reading_partitions();
  ASSERT_TRUE(parts.ok());
  for (const char* p : {"readings_p202504", "readings_p202505", "readings_p202506"}) {
    EXPECT_NE(std::find(parts->begin(), parts->end(), p), parts->end()) << p;
  }
  // Keep 20 days before 2025-06-20 12:00: April goes whole (a dropped partition), May row by row.
  ASSERT_TRUE(store->set_retention(RetentionPolicy{20, 0, 0, 0, 0}).ok());
  const int64_t now = april + (30 + 31 + 19) * kDay + 12 * 3600'000;  // 2025-06-20 12:00
  const int64_t cutoff = now - 20 * kDay;                             // 2025-05-31 12:00
  const auto expected_deleted =
      static_cast<uint64_t>(std::count_if(rs.begin(), rs.end(), [&](const Reading& r) { return r.time_ms < cutoff; }));
  auto r = store->apply_retention(now);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->deleted[0], expected_deleted);
  parts = store->reading_partitions();
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(std::find(parts->begin(), parts->end(), "readings_p202504"), parts->end());  // dropped whole
  EXPECT_NE(std::find(parts->begin(), parts->end(), "readings_p202505"), parts->end());  // cutoff falls in May
  auto raw = store->raw_readings("m1", 0, INT64_MAX);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->size(), rs.size() - expected_deleted);
  EXPECT_GE(raw->front().time_ms, cutoff);
  EXPECT_EQ(store->seq_summary("m1")->count, rs.size() - expected_deleted);
  // The ledger forgot the deleted ones with them: nothing is left that would call a replay a duplicate.
  EXPECT_EQ(store->append_readings(std::vector<Reading>(rs.begin(), rs.begin() + 3), kT0)->stored, 3u);
}

TEST(PgStore, TwoStoresOnOneDatabaseStoreEachReadingOnce) {
  PgBackend backend;
  auto a = backend.open_pg();
  auto b = backend.open_pg();
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->add_meter(meter("m1")).ok());
  const auto rs = steady("m1", 2000);
  // Both "servers" get every batch (a redelivery after a failover), at the same time.
  std::size_t stored_a = 0, stored_b = 0;
  auto feed = [&](PgStore* store, std::size_t* stored) {
    for (std::size_t i = 0; i < rs.size(); i += 100) {
      auto r = store->append_readings(
          std::vector<Reading>(rs.begin() + static_cast<long>(i), rs.begin() + static_cast<long>(i + 100)), kT0);
      ASSERT_TRUE(r.ok()) << r.error().message;
      *stored += r->stored;
    }
  };
  std::thread ta(feed, a.get(), &stored_a), tb(feed, b.get(), &stored_b);
  ta.join();
  tb.join();
  EXPECT_EQ(stored_a + stored_b, rs.size());
  EXPECT_EQ(a->seq_summary("m1")->count, rs.size());
  auto agg = b->readings("m1", kT0, kT0 + kDay, kDay);
  ASSERT_TRUE(agg.ok());
  ASSERT_EQ(agg->points.size(), 1u);
  EXPECT_EQ(agg->points[0].count, rs.size());  // the rollups counted each reading once
}

TEST(PgStore, PostgresqlAwayIsAnErrorAndItsReturnIsARecovery) {
  auto server = test_support::PostgresServer::start();
  ASSERT_TRUE(server.ok()) << server.error().message;
  auto db = server.value()->create_database();
  ASSERT_TRUE(db.ok()) << db.error().message;
  PgOptions options;
  options.conninfo = db.value();
  auto store = PgStore::open(options);
  ASSERT_TRUE(store.ok()) << store.error().message;
  PgStore& s = *store.value();
  ASSERT_TRUE(s.add_meter(meter("m1")).ok());
  const auto rs = steady("m1", 30);
  ASSERT_EQ(s.append_readings(std::vector<Reading>(rs.begin(), rs.begin() + 10), kT0)->stored, 10u);

  ASSERT_TRUE(server.value()->stop().ok());
  auto failed = s.append_readings(std::vector<Reading>(rs.begin() + 10, rs.begin() + 20), kT0);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::kIoError);
  EXPECT_NE(failed.error().message.find("127.0.0.1:" + std::to_string(server.value()->port())), std::string::npos)
      << failed.error().message;
  EXPECT_FALSE(s.raw_readings("m1", 0, INT64_MAX).ok());

  ASSERT_TRUE(server.value()->restart().ok());
  auto retried = s.append_readings(std::vector<Reading>(rs.begin() + 10, rs.end()), kT0);
  ASSERT_TRUE(retried.ok()) << retried.error().message;
  EXPECT_EQ(retried->stored, 20u);  // the failed batch left nothing behind
  auto raw = s.raw_readings("m1", 0, INT64_MAX);
  ASSERT_TRUE(raw.ok()) << raw.error().message;
  EXPECT_EQ(raw->size(), 30u);
}

}  // namespace
}  // namespace wattguard::storage
