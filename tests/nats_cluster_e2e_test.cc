// The clustered broker (docs/scale-out.md): a 3-node NATS cluster whose MQTT listeners take the meters and the
// server. Meters spread over the nodes (MQTT 3.1.1, NATS's only version); the real ingest service stores into
// SQLite from node 0. A node killed with -9 mid-run moves its meters to the others and loses nothing: every
// reading is stored once, none is missing. And a meter's login may not publish as another meter.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "wattguard/broker/nats_cluster_process.h"
#include "wattguard/fleet/credentials.h"
#include "wattguard/fleet/fleet.h"
#include "wattguard/fleet/fleet_options.h"
#include "wattguard/ingest/ingest_service.h"
#include "wattguard/protocol/codec.h"
#include "wattguard/protocol/topics.h"
#include "wattguard/storage/sqlite_store.h"
#include "wattguard/test_support/temp_dir.h"
#include "wattguard/test_support/test_client.h"

namespace wattguard::e2e {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kServerUser = "wattguard-server";
constexpr int kNodes = 3;
constexpr int kServerNode = 0;  // the node ingest connects to

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto end = Clock::now() + timeout;
  while (Clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

class NatsClusterE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    if (broker::nats_server_binary().empty()) {
      GTEST_SKIP() << "nats-server is not installed (apt install nats-server; scripts/install-deps.sh installs it)";
    }
  }

  void TearDown() override {
    if (fleet_) fleet_->stop(0);
    fleet_.reset();
    if (ingest_) ingest_->stop();
    ingest_.reset();
    store_.reset();
    cluster_.reset();
  }

  // The cluster with a server user and one user per meter, a SQLite store that knows the meters, and ingest on
  // node kServerNode.
  void start_system(std::size_t meters) {
    fleet::FleetConfig probe;
    probe.meters = meters;
    ids_ = fleet::fleet_meter_ids(probe);
    broker::NatsClusterSetup setup;
    setup.dir = dir_.path() / "nats";
    setup.nodes = kNodes;
    setup.server = {kServerUser, fleet::random_password()};
    for (const auto& id : ids_) {
      const fleet::BrokerLogin login{id, fleet::random_password(), std::nullopt};
      credentials_.meters.emplace(id, login);
      setup.meters.push_back({id, login.password});
    }
    const auto started = Clock::now();
    auto cluster = broker::NatsCluster::start(setup);
    ASSERT_TRUE(cluster.ok()) << cluster.error().to_string();
    cluster_ = std::move(cluster).value();
    std::printf("[figures] cluster of %d nodes ready in %.2f s (meta leader node-%d)\n", kNodes, seconds_since(started),
                cluster_->meta_leader());

    auto store = storage::SqliteStore::open(storage::SqliteOptions{.path = (dir_.path() / "db").string()});
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(store).value();
    std::vector<storage::MeterInfo> infos;
    for (const auto& id : ids_) {
      storage::MeterInfo m;
      m.id = id;
      infos.push_back(m);
    }
    ASSERT_TRUE(store_->add_meters(infos).ok());

    ingest::IngestConfig c;
    c.port = cluster_->mqtt_port(kServerNode);
    c.username = kServerUser;
    c.password = setup.server.password;
    c.client_id = "wattguard-server-1";
    // Back-off up to 2 s: when its node is killed, ingest (one host) reconnects soon after the node is back.
    c.reconnect_max_s = 2;
    ingest_ = std::make_unique<ingest::IngestService>(c, *store_);
    ASSERT_TRUE(ingest_->start().ok());
    ASSERT_TRUE(eventually([&] { return ingest_->connected(); }, 30s)) << cluster_->log_tail();
    // Its QoS 1 subscriptions are JetStream consumers, created after the SUBACK's request: let them settle.
    std::this_thread::sleep_for(500ms);
  }

  // ~`meters` virtual meters at 1 s, real time, spread over every node, speaking MQTT 3.1.1.
  void start_fleet() {
    fleet::FleetConfig f;
    f.meters = ids_.size();
    f.period_ms = 1000;
    f.speed = 1.0;
    f.fidelity = fleet::Fidelity::kFast;
    f.threads = 1;
    f.keepalive_s = 10;
    f.mqtt_version = fleet::MqttVersion::kV311;
    for (int k = 0; k < kNodes; ++k) f.broker_nodes.push_back({"127.0.0.1", cluster_->mqtt_port(k)});
    f.credentials = credentials_;
    auto created = fleet::Fleet::create(f);
    ASSERT_TRUE(created.ok()) << created.error().message;
    fleet_ = std::move(created).value();
    fleet_->start();
    ASSERT_TRUE(eventually([&] { return fleet_->stats().links_connected == ids_.size(); }, 60s))
        << fleet::describe_stats(fleet_->stats(), ids_.size());
  }

  uint64_t stored(const std::string& id) {
    auto s = store_->seq_summary(id);
    return s.ok() ? s->count : 0;
  }

  // Kills node `victim` with -9 after `before`, restarts it after `down`, runs `after` more, then stops the
  // fleet and checks that every reading each meter made is stored, once.
  void run_with_node_killed(int victim, std::chrono::seconds before, std::chrono::seconds down,
                            std::chrono::seconds after) {
    start_fleet();
    std::this_thread::sleep_for(before);
    const auto at_kill = fleet_->stats();
    const auto killed = Clock::now();
    cluster_->kill(victim);
    // Its meters (a third) lose their connection and fail over to the next node.
    ASSERT_TRUE(eventually([&] { return fleet_->stats().connection_losses > at_kill.connection_losses; }, 30s));
    ASSERT_TRUE(eventually([&] { return fleet_->stats().links_connected == ids_.size(); }, 60s))
        << fleet::describe_stats(fleet_->stats(), ids_.size());
    const double reconnected_s = seconds_since(killed);
    std::this_thread::sleep_for(down);
    const auto restarted = Clock::now();
    ASSERT_TRUE(cluster_->restart(victim).ok()) << cluster_->log_tail();
    const double restart_s = seconds_since(restarted);
    ASSERT_TRUE(eventually([&] { return ingest_->connected(); }, 30s));
    const double ingest_back_s = seconds_since(restarted);
    std::this_thread::sleep_for(after);

    fleet_->stop(30000);
    const auto next = fleet_->next_seqs();
    const auto stats = fleet_->stats();
    uint64_t made = 0;
    for (uint64_t n : next) made += n - 1;
    const bool all = eventually(
        [&] {
          for (std::size_t k = 0; k < ids_.size(); ++k) {
            if (stored(ids_[k]) < next[k] - 1) return false;
          }
          return true;
        },
        60s);
    const auto health = ingest_->health();
    uint64_t stored_total = 0, missing = 0;
    for (std::size_t k = 0; k < ids_.size(); ++k) {
      auto s = store_->seq_summary(ids_[k]);
      ASSERT_TRUE(s.ok());
      stored_total += s->count;
      missing += next[k] - 1 - std::min(s->count, next[k] - 1);
      EXPECT_EQ(s->count, next[k] - 1) << ids_[k];
      EXPECT_EQ(s->min_seq, 1u) << ids_[k];
      EXPECT_EQ(s->max_seq, next[k] - 1) << ids_[k] << ": a reading was lost (or one never made is stored)";
    }
    EXPECT_TRUE(all);
    EXPECT_EQ(stats.readings_dropped, 0u);
    EXPECT_EQ(stats.readings_queued, 0u);
    EXPECT_EQ(health.rejected_total, 0u);
    std::printf(
        "[figures] %zu meters @1 s, node-%d killed (-9) at %.0f s: readings made %llu, stored %llu, lost %llu, "
        "stored twice 0 (unique (meter, seq); %llu duplicates delivered and ignored), published %llu, replayed %llu; "
        "fleet connection losses %llu; all meters connected again %.2f s after the kill; node restart to cluster "
        "ready %.2f s, to ingest connected %.2f s; ingest connects %llu\n",
        ids_.size(), victim, static_cast<double>(before.count()), static_cast<unsigned long long>(made),
        static_cast<unsigned long long>(stored_total), static_cast<unsigned long long>(missing),
        static_cast<unsigned long long>(health.readings_duplicate),
        static_cast<unsigned long long>(stats.readings_published),
        static_cast<unsigned long long>(stats.readings_replayed),
        static_cast<unsigned long long>(stats.connection_losses), reconnected_s, restart_s, ingest_back_s,
        static_cast<unsigned long long>(health.connects));
  }

  test_support::TempDir dir_{"nats-cluster"};  // first: removed after everything that uses it
  std::vector<std::string> ids_;
  fleet::CredentialSet credentials_;
  std::unique_ptr<broker::NatsCluster> cluster_;
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<ingest::IngestService> ingest_;
  std::unique_ptr<fleet::Fleet> fleet_;
};

TEST_F(NatsClusterE2e, ANodeKilledMidRunLosesNoReadingAndStoresNoneTwice) {
  start_system(50);
  if (HasFatalFailure()) return;
  run_with_node_killed(1, 8s, 6s, 6s);
}

// The server's own node: ingest (one host) is disconnected until the node is back; its session and consumers are
// replicated on the other two, which take and acknowledge the meters' readings meanwhile.
TEST_F(NatsClusterE2e, TheServersNodeKilledMidRunLosesNoReadingOnceItIsBack) {
  start_system(50);
  if (HasFatalFailure()) return;
  run_with_node_killed(kServerNode, 8s, 6s, 6s);
}

protocol::Reading reading(const std::string& meter, uint64_t seq) {
  protocol::Reading r;
  r.meter_id = meter;
  r.seq = seq;
  r.time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                  .count() -
              60'000 + static_cast<int64_t>(seq) * 1000;
  r.vrms = 231;
  r.irms = 2;
  r.p_w = 430;
  r.s_va = 462;
  r.q_var = 169;
  r.pf = 0.93;
  r.freq_hz = 50;
  r.e_import_wh = 1000 + static_cast<double>(seq) * 0.6;
  return r;
}

TEST_F(NatsClusterE2e, AMetersLoginCannotPublishAsAnotherMeter) {
  start_system(2);
  if (HasFatalFailure()) return;
  const std::string& mallory = ids_[0];
  const std::string& victim = ids_[1];
  // Mallory on node 1, the server on node 0: the permissions hold across the cluster.
  test_support::TestClient client(
      cluster_->mqtt_port(1),
      test_support::TestClient::Options{mallory, mallory, credentials_.meters.at(mallory).password, true, {}, {}});
  ASSERT_EQ(client.connect(), 0);
  // MQTT 3.1.1 has no way to refuse a publish: NATS acknowledges it and drops it (a permissions violation).
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    EXPECT_TRUE(client.publish(protocol::make_topic(victim, protocol::TopicKind::kReading),
                               protocol::encode(reading(victim, seq))));
  }
  // Its own topic works, so the check above can fail: once this one is stored, the forged ones had their chance.
  ASSERT_TRUE(client.publish(protocol::make_topic(mallory, protocol::TopicKind::kReading),
                             protocol::encode(reading(mallory, 1))));
  ASSERT_TRUE(eventually([&] { return stored(mallory) == 1; }, 20s));
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(stored(victim), 0u) << "a meter's login published a reading as another meter";

  // A wrong password is refused (CONNACK 4 or 5).
  test_support::TestClient impostor(
      cluster_->mqtt_port(2), test_support::TestClient::Options{victim, victim, "not-the-password", true, {}, {}});
  EXPECT_NE(impostor.connect(), 0);
}

}  // namespace
}  // namespace wattguard::e2e
