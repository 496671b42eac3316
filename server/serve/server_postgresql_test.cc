// `serve` on the PostgreSQL backend: a real Mosquitto, a private PostgreSQL and the whole server; readings
// published over MQTT end up in PostgreSQL, and so do users and sessions (alerts still in the SQLite file in
// data_dir).
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "wattguard/api/auth_store.h"
#include "wattguard/base/clock.h"
#include "wattguard/broker/broker_process.h"
#include "wattguard/serve/server.h"
#include "wattguard/storage/pg_store.h"
#include "wattguard/test_support/postgres_server.h"
#include "wattguard/test_support/temp_dir.h"
#include "wattguard/test_support/test_meters.h"

namespace wattguard::serve {
namespace {

protocol::Reading reading(uint64_t seq, int64_t time_ms) {
  protocol::Reading r;
  r.meter_id = "pg1";
  r.seq = seq;
  r.time_ms = time_ms;
  r.vrms = 230;
  r.irms = 2;
  r.p_w = 460;
  r.s_va = 460;
  r.pf = 1.0;
  r.freq_hz = 50.0;
  r.e_import_wh = 100.0 + static_cast<double>(seq);
  return r;
}

// A broker, the meter "pg1" provisioned in PostgreSQL (as `meters provision` would on this backend) and a server
// on that database, connected to the broker.
struct PgServerRig {
  std::unique_ptr<broker::BrokerProcess> broker;
  std::unique_ptr<Server> server;
};

void start_rig(const test_support::TempDir& dir, const std::string& conninfo, PgServerRig* rig) {
  auto broker = broker::BrokerProcess::start(broker::anonymous_setup(dir.path() / "broker"));
  ASSERT_TRUE(broker.ok()) << broker.error().to_string();
  rig->broker = std::move(broker.value());
  {
    storage::PgOptions po;
    po.conninfo = conninfo;
    auto store = storage::PgStore::open(po);
    ASSERT_TRUE(store.ok()) << store.error().message;
    ASSERT_TRUE((*store)->add_meter({"pg1", "House", "north", "", 0, 0}).ok());
  }
  ServerConfig config;
  config.http.port = 0;
  config.mqtt.port = rig->broker->port();
  config.mqtt.username = "";
  config.mqtt.client_id = "pg-test-" + std::to_string(::getpid());
  config.storage.data_dir = dir.file("data");
  config.storage.backend = "postgresql";
  config.storage.postgresql = conninfo;
  config.auth.password_cost = "min";
  config.log.level = "error";
  apply_log_level(config);
  auto started = Server::start(config);
  ASSERT_TRUE(started.ok()) << config_error_text(started.error());
  rig->server = std::move(started.value());
  for (int i = 0; i < 500 && !rig->server->ingest().connected(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(rig->server->ingest().connected());
}

TEST(ServerOnPostgresql, ReadingsFromTheBrokerAreStoredInPostgresql) {
  test_support::TempDir dir("serve-pg");
  auto pg = test_support::shared_postgres();
  ASSERT_TRUE(pg.ok()) << pg.error().message;
  auto db = pg.value()->create_database();
  ASSERT_TRUE(db.ok()) << db.error().message;
  PgServerRig rig;
  ASSERT_NO_FATAL_FAILURE(start_rig(dir, db.value(), &rig));
  Server& server = *rig.server;

  test_support::TestMeters meters(rig.broker->port(), {});
  const int64_t t0 = system_now_ms() - 60'000;
  for (uint64_t i = 0; i < 10; ++i) meters.publish(reading(i + 1, t0 + static_cast<int64_t>(i) * 5000));
  meters.publish(reading(5, t0 + 4 * 5000));  // a redelivery: stored once
  uint64_t count = 0;
  for (int i = 0; i < 500 && count < 10; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto sum = server.store().seq_summary("pg1");
    ASSERT_TRUE(sum.ok()) << sum.error().message;
    count = sum->count;
  }
  EXPECT_EQ(count, 10u);
  server.stop();

  // What the server stored is in PostgreSQL, read by a store of its own.
  storage::PgOptions po;
  po.conninfo = db.value();
  auto store = storage::PgStore::open(po);
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto raw = (*store)->raw_readings("pg1", 0, INT64_MAX);
  ASSERT_TRUE(raw.ok()) << raw.error().message;
  ASSERT_EQ(raw->size(), 10u);
  EXPECT_EQ(raw->back().seq, 10u);
  auto series = (*store)->readings("pg1", t0 - t0 % 3'600'000, t0 - t0 % 3'600'000 + 2 * 3'600'000, 3'600'000);
  ASSERT_TRUE(series.ok()) << series.error().message;
  uint32_t n = 0;
  for (const auto& p : series->points) n += p.count;
  EXPECT_EQ(n, 10u);  // the hourly rollups were kept in the same transactions
}

// PostgreSQL going away under a running server (stopped like a crash, then started again): readings wait in
// ingest's queue, health says the storage is failing and why, and once PostgreSQL is back every reading is
// stored, each once. The test has a PostgreSQL of its own, since it stops it.
TEST(ServerOnPostgresql, ReadingsWaitWhilePostgresqlIsDownAndAreAllStoredOnceWhenItReturns) {
  test_support::TempDir dir("serve-pg");
  auto pg = test_support::PostgresServer::start();
  ASSERT_TRUE(pg.ok()) << pg.error().message;
  auto db = pg.value()->create_database();
  ASSERT_TRUE(db.ok()) << db.error().message;
  PgServerRig rig;
  ASSERT_NO_FATAL_FAILURE(start_rig(dir, db.value() + " connect_timeout=2", &rig));
  Server& server = *rig.server;

  test_support::TestMeters meters(rig.broker->port(), {});
  const int64_t t0 = system_now_ms() - 120'000;
  for (uint64_t i = 0; i < 10; ++i) meters.publish(reading(i + 1, t0 + static_cast<int64_t>(i) * 5000));
  for (int i = 0; i < 500 && server.ingest().health().readings_stored < 10; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(server.ingest().health().readings_stored, 10u);

  ASSERT_TRUE(pg.value()->stop().ok());
  for (uint64_t i = 10; i < 20; ++i) meters.publish(reading(i + 1, t0 + static_cast<int64_t>(i) * 5000));
  bool told = false;
  for (int i = 0; i < 1000 && !told; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const auto h = server.ingest().health();
    told = h.storage_failing && h.pending_readings > 0;
  }
  const auto during = server.ingest().health();
  EXPECT_TRUE(told) << "storage_failing " << during.storage_failing << ", pending " << during.pending_readings;
  EXPECT_FALSE(during.storage_error.empty());
  EXPECT_EQ(during.readings_stored, 10u);

  ASSERT_TRUE(pg.value()->restart().ok());
  for (int i = 0; i < 3000 && server.ingest().health().readings_stored < 20; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const auto after = server.ingest().health();
  EXPECT_EQ(after.readings_stored, 20u);
  EXPECT_FALSE(after.storage_failing);
  server.stop();
  storage::PgOptions po;
  po.conninfo = db.value();
  auto store = storage::PgStore::open(po);
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto raw = (*store)->raw_readings("pg1", 0, INT64_MAX);
  ASSERT_TRUE(raw.ok()) << raw.error().message;
  ASSERT_EQ(raw->size(), 20u);  // each once
  for (std::size_t i = 0; i < raw->size(); ++i) EXPECT_EQ((*raw)[i].seq, i + 1);
}

// Two servers on one database, each with its own data directory and no broker: a user added through one signs
// in on the other, and a session made on one is valid on the other (a load balancer may send the next request
// to either).
TEST(ServerOnPostgresql, UsersAndSessionsAreSharedByEveryServerOnTheDatabase) {
  test_support::TempDir dir("serve-pg");
  auto pg = test_support::shared_postgres();
  ASSERT_TRUE(pg.ok()) << pg.error().message;
  auto db = pg.value()->create_database();
  ASSERT_TRUE(db.ok()) << db.error().message;
  const auto config_for = [&](const std::string& name) {
    ServerConfig config;
    config.http.port = 0;
    config.mqtt.port = broker::free_port();  // no broker: ingest retries in the background
    config.mqtt.client_id = "pg-users-" + name + "-" + std::to_string(::getpid());
    config.storage.data_dir = dir.file(name);
    config.storage.backend = "postgresql";
    config.storage.postgresql = db.value();
    config.auth.password_cost = "min";
    config.log.level = "error";
    return config;
  };
  auto a = Server::start(config_for("a"));
  ASSERT_TRUE(a.ok()) << config_error_text(a.error());
  auto b = Server::start(config_for("b"));
  ASSERT_TRUE(b.ok()) << config_error_text(b.error());
  ASSERT_TRUE(
      (*a)->auth().add_user("Operator1", api::Role::kOperator, "a long password", api::PasswordCost::kMin, 1).ok());
  const auto user = (*b)->auth().check_password("operator1", "a long password", api::PasswordCost::kMin);
  ASSERT_TRUE(user);
  EXPECT_EQ(user->name, "Operator1");
  const std::string session = (*b)->auth().create_session(user->id, system_now_ms() / 1000, 3600);
  ASSERT_FALSE(session.empty());
  EXPECT_TRUE((*a)->auth().session_user(session, system_now_ms() / 1000));
  (*a)->auth().delete_session(session);  // a sign-out on one ends the session on both
  EXPECT_FALSE((*b)->auth().session_user(session, system_now_ms() / 1000));
  (*a)->stop();
  (*b)->stop();
}

TEST(ServerOnPostgresql, AnUnreachableServerStopsTheStartNamingIt) {
  test_support::TempDir dir("serve-pg");
  const uint16_t port = broker::free_port();  // nothing listens there
  ServerConfig config;
  config.http.port = 0;
  config.storage.data_dir = dir.file("data");
  config.storage.backend = "postgresql";
  config.storage.postgresql = "host=127.0.0.1 port=" + std::to_string(port) + " dbname=wattguard connect_timeout=5";
  config.log.level = "warn";
  apply_log_level(config);
  auto started = Server::start(config);
  ASSERT_FALSE(started.ok());
  const std::string text = config_error_text(started.error());
  EXPECT_NE(text.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << text;
  EXPECT_NE(text.find("storage.postgresql"), std::string::npos) << text;
}

}  // namespace
}  // namespace wattguard::serve
