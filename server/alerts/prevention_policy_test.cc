// End to end through a real Mosquitto: a meter's tamper event becomes an alert, the area's policy
// disconnects the meter (relay_off acknowledged, or retried after timeouts), everything audited.
#include "wattguard/alerts/prevention_policy.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "wattguard/alerts/alert_json.h"
#include "wattguard/alerts/ingest_alerts.h"
#include "wattguard/broker/broker_process.h"
#include "wattguard/ingest/provisioning.h"
#include "wattguard/protocol/codec.h"
#include "wattguard/protocol/topics.h"
#include "wattguard/storage/sqlite_store.h"
#include "wattguard/test_support/temp_dir.h"
#include "wattguard/test_support/test_client.h"

namespace wattguard::alerts {
namespace {

namespace fs = std::filesystem;
using protocol::TopicKind;
using test_support::TestClient;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool wait_until(const std::function<bool()>& pred, int timeout_ms = 30'000) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return pred();
}

class PolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (broker::mosquitto_binary().empty()) GTEST_SKIP() << "mosquitto is not installed";
    const std::string db = (dir_ / "wattguard.db").string();
    auto s = storage::SqliteStore::open(storage::SqliteOptions{.path = db, .reader_connections = 2});
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(s.value());
    auto prepared = broker::BrokerProcess::prepare(broker::caller_files_setup(dir_ / "broker"));
    ASSERT_TRUE(prepared.ok()) << prepared.error().to_string();
    broker_ = std::move(prepared).value();
    const ingest::BrokerAuthFiles files{broker_->password_file(), broker_->acl_file()};
    std::vector<storage::MeterInfo> meters;
    for (const char* id : {"m1", "m2", "m3"}) {
      storage::MeterInfo m;
      m.id = id;
      m.area = std::string(id) == "m3" ? "south" : "north";
      meters.push_back(m);
    }
    auto creds = ingest::provision_meters(*store_, files, meters);
    ASSERT_TRUE(creds.ok()) << creds.error().message;
    for (const auto& c : creds.value()) passwords_[c.meter_id] = c.password;
    auto spw = ingest::set_broker_user(files, ingest::kDefaultServerUser, std::nullopt);
    ASSERT_TRUE(spw.ok());
    auto launched = broker_->launch();
    ASSERT_TRUE(launched.ok()) << launched.error().to_string();

    AlertServiceOptions ao;
    ao.database_path = db;
    auto opened = AlertService::open(ao);
    ASSERT_TRUE(opened.ok()) << opened.error().to_string();
    alerts_ = std::move(opened).value();

    ingest::IngestConfig ic;
    ic.port = broker_->port();
    ic.password = spw.value();
    ic.client_id = "wattguard-policy-test";
    ic.flush_interval_ms = 50;
    ic.liveness_check_ms = 100;
    ingest_ = std::make_unique<ingest::IngestService>(ic, *store_);

    config_.disconnect_attempts = 2;
    config_.disconnect_timeout_s = 1;
    config_.areas = {{"north", "Asha", "", "", {"neutral_mismatch", "energy_balance"}}, {"south", "Ravi", "", "", {}}};
    bridge_ = std::make_unique<IngestAlerts>(*alerts_, *store_, true);
    policy_ = std::make_unique<PreventionPolicy>(*alerts_, *ingest_, *store_, config_);
    ingest_->add_observer(bridge_.get());
    policy_->attach();
    auto started = ingest_->start();
    ASSERT_TRUE(started.ok()) << started.error().to_string();
    ASSERT_TRUE(wait_until([&] { return ingest_->connected(); }, 10'000));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // subscriptions settle
  }

  void TearDown() override {
    clients_.clear();
    if (policy_) policy_->detach();
    if (ingest_) {
      ingest_->remove_observer(bridge_.get());
      ingest_->stop();
    }
    bridge_.reset();
    policy_.reset();
    ingest_.reset();
    alerts_.reset();
    broker_.reset();
    store_.reset();
  }

  // A meter client; `answer` = it acknowledges relay commands.
  TestClient& meter(const std::string& id, bool answer) {
    auto c = std::make_unique<TestClient>(broker_->port(),
                                          TestClient::Options{"meter-" + id, id, passwords_[id], true, std::nullopt});
    EXPECT_EQ(c->connect(), 0);
    TestClient* raw = c.get();
    if (answer) {
      raw->on_message = [raw, id](const std::string& topic, const std::string& payload) {
        auto cmd = protocol::decode_command(payload, protocol::DecodeContext{now_ms(), id});
        if (!cmd.ok() || topic != protocol::make_topic(id, TopicKind::kCmd)) return;
        protocol::CommandAck ack{cmd->id, id, true, "relay opened", protocol::RelayState::kOff, 0, now_ms()};
        raw->publish(protocol::make_topic(id, TopicKind::kCmdAck), protocol::encode(ack), false, 1000);
      };
    }
    EXPECT_TRUE(raw->subscribe(protocol::make_topic(id, TopicKind::kCmd)));
    clients_.push_back(std::move(c));
    return *raw;
  }

  void send_event(TestClient& c, const std::string& id, protocol::EventKind kind, protocol::EventEdge edge) {
    protocol::MeterEvent e{id, kind, edge, now_ms(), "neutral 4.1 A vs phase 0.2 A"};
    ASSERT_TRUE(c.publish(protocol::make_topic(id, TopicKind::kEvent), protocol::encode(e)));
  }

  std::optional<Alert> alert_of(const std::string& meter, const std::string& kind) {
    AlertQuery q;
    q.meter_id = meter;
    for (const auto& a : alerts_->list(q))
      if (a.kind == kind) return a;
    return std::nullopt;
  }

  static bool has_action(const Alert& a, const std::string& action, const std::string& detail_part) {
    for (const auto& x : a.actions)
      if (x.action == action && x.detail.find(detail_part) != std::string::npos) return true;
    return false;
  }

  test_support::TempDir temp_dir_{"policy"};  // first: removed after everything that uses it
  const fs::path dir_ = temp_dir_.path();
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<broker::BrokerProcess> broker_;
  std::map<std::string, std::string> passwords_;
  std::vector<std::unique_ptr<TestClient>> clients_;
  std::unique_ptr<AlertService> alerts_;
  std::unique_ptr<ingest::IngestService> ingest_;
  AlertsConfig config_;
  std::unique_ptr<IngestAlerts> bridge_;
  std::unique_ptr<PreventionPolicy> policy_;
};

TEST_F(PolicyTest, TamperOnsetRaisesAlertAndPolicyDisconnectsWithAudit) {
  auto& m1 = meter("m1", true);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  send_event(m1, "m1", protocol::EventKind::kNeutralMismatch, protocol::EventEdge::kOnset);
  ASSERT_TRUE(wait_until([&] {
    const auto a = alert_of("m1", "neutral_mismatch");
    return a && has_action(*a, "disconnect_result", "acked");
  })) << (alert_of("m1", "neutral_mismatch") ? alert_to_json(*alert_of("m1", "neutral_mismatch")).dump() : "no alert");
  const auto a = alert_of("m1", "neutral_mismatch");
  EXPECT_EQ(a->area, "north");
  EXPECT_DOUBLE_EQ(a->score, 1.0);
  EXPECT_EQ(a->evidence.at(0).at("details"), "neutral 4.1 A vs phase 0.2 A");
  EXPECT_TRUE(has_action(*a, "disconnect", "relay_off command"));
  EXPECT_EQ(a->actions.back().actor, "policy:north");
  EXPECT_EQ(ingest_->live_state("m1")->relay, protocol::RelayState::kOff);

  const auto audit = store_->audit("m1");
  ASSERT_TRUE(audit.ok());
  bool command = false, result = false;
  for (const auto& e : *audit) {
    if (e.action == "command.relay_off" && e.actor == "policy:north" &&
        e.details.find("alert " + std::to_string(a->id)) != std::string::npos)
      command = true;
    if (e.action == "policy.disconnect_result" && e.details.find("acked") != std::string::npos) result = true;
  }
  EXPECT_TRUE(command);
  EXPECT_TRUE(result);

  // The clear edge clears the alert (it stays for the reader to close).
  send_event(m1, "m1", protocol::EventKind::kNeutralMismatch, protocol::EventEdge::kClear);
  ASSERT_TRUE(wait_until([&] { return alert_of("m1", "neutral_mismatch")->cleared_ms > 0; }));
}

TEST_F(PolicyTest, UnansweredDisconnectIsRetriedThenRecordedAsTimedOut) {
  meter("m2", false);
  NewAlert n;
  n.kind = "energy_balance";
  n.meter_id = "m2";
  n.area = "north";
  n.score = 0.7;
  const int64_t id = alerts_->raise(n);
  ASSERT_TRUE(wait_until([&] { return has_action(*alerts_->get(id), "disconnect_result", "timed_out"); }));
  const auto a = alerts_->get(id);
  int sends = 0;
  for (const auto& x : a->actions) sends += x.action == "disconnect";
  EXPECT_EQ(sends, 2);
  EXPECT_TRUE(has_action(*a, "disconnect_result", "after 2 attempts"));
}

TEST_F(PolicyTest, KindsNotInTheAreaPolicyDoNotDisconnect) {
  auto& m3 = meter("m3", true);
  auto& m1 = meter("m1", true);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  send_event(m3, "m3", protocol::EventKind::kNeutralMismatch, protocol::EventEdge::kOnset);  // south: no policy
  send_event(m1, "m1", protocol::EventKind::kCoverOpen, protocol::EventEdge::kOnset);        // not in north's list
  ASSERT_TRUE(wait_until([&] { return alert_of("m3", "neutral_mismatch") && alert_of("m1", "cover_open"); }));
  bridge_->drain();
  policy_->drain();
  EXPECT_TRUE(alert_of("m3", "neutral_mismatch")->actions.empty());
  EXPECT_TRUE(alert_of("m1", "cover_open")->actions.empty());
  auto cmds = store_->commands("m3", 10);
  ASSERT_TRUE(cmds.ok());
  EXPECT_TRUE(cmds->empty());
}

TEST_F(PolicyTest, OfflineMeterRaisesAnOfflineAlertClosedWhenBack) {
  auto& m1 = meter("m1", false);
  protocol::StatusMessage st;
  st.meter_id = "m1";
  st.online = false;
  st.time_ms = now_ms();
  ASSERT_TRUE(m1.publish(protocol::make_topic("m1", TopicKind::kStatus), protocol::encode(st), true));
  ASSERT_TRUE(wait_until([&] { return alert_of("m1", "offline").has_value(); }));
  EXPECT_EQ(alert_of("m1", "offline")->state, AlertState::kOpen);
  st.online = true;
  st.time_ms = now_ms();
  ASSERT_TRUE(m1.publish(protocol::make_topic("m1", TopicKind::kStatus), protocol::encode(st), true));
  ASSERT_TRUE(wait_until([&] { return alert_of("m1", "offline")->state == AlertState::kClosed; }));
}

TEST_F(PolicyTest, AMeterNeverHeardFromRaisesNoOfflineAlert) {
  // Ingest marks every silent meter offline, including ones provisioned but never installed (or read only
  // through imports); only a meter that was heard and then fell silent is alerted on.
  ingest::MeterLive never;
  never.meter_id = "m2";
  never.connectivity = ingest::Connectivity::kOffline;
  never.since_ms = now_ms();
  never.offline_reason = "missed_periods";
  bridge_->on_status(never);
  ingest::MeterLive fell_silent = never;
  fell_silent.meter_id = "m3";
  fell_silent.last_seen_ms = now_ms() - 20'000;
  bridge_->on_status(fell_silent);
  // The bridge handles statuses in order: once m3's alert is there, m2's status was handled too.
  ASSERT_TRUE(wait_until([&] { return alert_of("m3", "offline").has_value(); }));
  EXPECT_FALSE(alert_of("m2", "offline").has_value());
}

}  // namespace
}  // namespace wattguard::alerts
