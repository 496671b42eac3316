// Integration tests of IngestService against a real Mosquitto broker on a free loopback port.
#include "wattguard/ingest/ingest_service.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <thread>

#include "wattguard/broker/broker_process.h"
#include "wattguard/ingest/command_key_file.h"
#include "wattguard/ingest/provisioning.h"
#include "wattguard/protocol/codec.h"
#include "wattguard/protocol/topics.h"
#include "wattguard/storage/sqlite_store.h"
#include "wattguard/test_support/temp_dir.h"
#include "wattguard/test_support/test_client.h"

namespace wattguard::ingest {
namespace {

namespace fs = std::filesystem;
using protocol::TopicKind;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "m1".."mN" (the provisioning tests cover the zero-padded bulk form).
std::vector<std::string> meter_ids(int n) {
  std::vector<std::string> ids;
  for (int i = 1; i <= n; ++i) ids.push_back("m" + std::to_string(i));
  return ids;
}

bool wait_until(const std::function<bool()>& pred, int timeout_ms = 30000) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return pred();
}

protocol::Reading reading(const std::string& meter, uint64_t seq) {
  protocol::Reading r;
  r.meter_id = meter;
  r.seq = seq;
  r.time_ms = now_ms() - 3'600'000 + static_cast<int64_t>(seq) * 5000;
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

// Counts what observers receive.
struct CountingObserver : IngestObserver {
  std::atomic<int> readings{0}, statuses{0}, events{0};
  std::mutex mu;
  std::vector<storage::CommandRecord> commands;
  std::vector<MeterLive> states;
  void on_reading(const protocol::Reading&) override { ++readings; }
  void on_status(const MeterLive& s) override {
    ++statuses;
    std::lock_guard lk(mu);
    states.push_back(s);
  }
  void on_event(const storage::StoredEvent&) override { ++events; }
  void on_ack(const storage::CommandRecord& c) override {
    std::lock_guard lk(mu);
    commands.push_back(c);
  }
  std::optional<storage::CommandState> state_of(const std::string& id) {
    std::lock_guard lk(mu);
    std::optional<storage::CommandState> s;
    for (const auto& c : commands) {
      if (c.id == id) s = c.state;
    }
    return s;
  }
};

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (broker::mosquitto_binary().empty()) GTEST_SKIP() << "mosquitto is not installed";
    auto s =
        storage::SqliteStore::open(storage::SqliteOptions{.path = (dir_ / "db").string(), .reader_connections = 2});
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(s.value());
    auto prepared = broker::BrokerProcess::prepare(broker::caller_files_setup(dir_ / "broker"));
    ASSERT_TRUE(prepared.ok()) << prepared.error().to_string();
    broker_ = std::move(prepared).value();
    const BrokerAuthFiles files{broker_->password_file(), broker_->acl_file()};
    std::vector<storage::MeterInfo> meters;
    for (const auto& id : meter_ids(10)) {
      storage::MeterInfo m;
      m.id = id;
      meters.push_back(m);
    }
    auto creds = provision_meters(*store_, files, meters);
    ASSERT_TRUE(creds.ok()) << creds.error().message;
    for (const auto& c : creds.value()) passwords_[c.meter_id] = c.password;
    auto spw = set_broker_user(files, kDefaultServerUser, std::nullopt);
    ASSERT_TRUE(spw.ok());
    server_password_ = spw.value();
    auto gpw = set_broker_user(files, "ghost", std::nullopt);  // broker user, never registered as a meter
    ASSERT_TRUE(gpw.ok());
    passwords_["ghost"] = gpw.value();
    auto launched = broker_->launch();
    ASSERT_TRUE(launched.ok()) << launched.error().to_string();
  }

  void TearDown() override {
    clients_.clear();
    if (service_) service_->stop();
    service_.reset();
    broker_.reset();
    store_.reset();
  }

  IngestConfig config() {
    IngestConfig c;
    c.port = broker_->port();
    c.password = server_password_;
    c.client_id = "wattguard-test-server";
    c.flush_interval_ms = 50;
    return c;
  }

  // 1-s default periods, checked every 100 ms: a silent meter turns offline after `missed` seconds.
  IngestConfig fast_liveness_config(int missed) {
    IngestConfig c = config();
    c.default_period_s = 1;
    c.missed_periods = missed;
    c.liveness_check_ms = 100;
    return c;
  }

  void start_service(IngestConfig c) {
    service_ = std::make_unique<IngestService>(std::move(c), *store_);
    service_->add_observer(&observer_);
    auto started = service_->start();
    ASSERT_TRUE(started.ok()) << started.error().to_string();
    ASSERT_TRUE(wait_until([&] { return service_->connected(); }, 10000));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // subscriptions settle
  }

  test_support::TestClient& meter_client(const std::string& id, bool clean = false) {
    auto c = std::make_unique<test_support::TestClient>(
        broker_->port(), test_support::TestClient::Options{"meter-" + id, id, passwords_[id], clean, std::nullopt});
    EXPECT_EQ(c->connect(), 0);
    clients_.push_back(std::move(c));
    return *clients_.back();
  }

  void publish_readings(test_support::TestClient& c, const std::string& id, uint64_t first, uint64_t count) {
    for (uint64_t s = first; s < first + count; ++s) {
      ASSERT_TRUE(c.publish(protocol::make_topic(id, TopicKind::kReading), protocol::encode(reading(id, s))));
    }
  }

  uint64_t stored(const std::string& id) {
    auto s = store_->seq_summary(id);
    return s.ok() ? s->count : 0;
  }

  test_support::TempDir temp_dir_{"ingest"};  // first: removed after everything that uses it
  const fs::path dir_ = temp_dir_.path();
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<broker::BrokerProcess> broker_;
  std::map<std::string, std::string> passwords_;
  std::string server_password_;
  std::vector<std::unique_ptr<test_support::TestClient>> clients_;
  CountingObserver observer_;
  std::unique_ptr<IngestService> service_;
};

TEST_F(IngestTest, EveryReadingOfEveryMeterIsStored) {
  start_service(config());
  const auto ids = meter_ids(10);
  for (const auto& id : ids) publish_readings(meter_client(id), id, 0, 40);
  for (auto& c : clients_) ASSERT_TRUE(c->wait_acked());
  ASSERT_TRUE(wait_until([&] { return service_->health().readings_stored == 400; }))
      << service_->health().readings_stored;
  for (const auto& id : ids) {
    const auto s = store_->seq_summary(id).value();
    EXPECT_EQ(s.count, 40u) << id;
    EXPECT_EQ(s.max_seq, 39u);
  }
  const IngestHealth h = service_->health();
  EXPECT_EQ(h.readings_received, 400u);
  EXPECT_EQ(h.rejected_total, 0u);
  EXPECT_EQ(h.rejected.at("malformed_json"), 0u);  // every reason is listed
  EXPECT_TRUE(wait_until([&] { return observer_.readings == 400; }));
  auto live = service_->live_state("m3");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->connectivity, Connectivity::kOnline);
  ASSERT_TRUE(live->last_reading);
  EXPECT_EQ(live->last_reading->seq, 39u);
}

// A 1 MiB publish never reaches the server: the broker (max_packet_size) cuts the client off, others flow on.
TEST_F(IngestTest, AnOversizedPublishIsStoppedAtTheBrokerAndOthersFlowOn) {
  start_service(config());
  auto& flooder = meter_client("m1");
  auto& good = meter_client("m2");
  std::string huge = protocol::encode(reading("m1", 1));
  huge.insert(huge.size() - 1, ",\"pad\":\"" + std::string(std::size_t{1} << 20, 'x') + "\"");
  flooder.publish(protocol::make_topic("m1", TopicKind::kReading), huge, false, 3000);
  publish_readings(good, "m2", 0, 3);
  ASSERT_TRUE(wait_until([&] { return stored("m2") == 3; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const IngestHealth h = service_->health();
  EXPECT_EQ(h.rejected_total, 0u) << "the payload reached the server";
  EXPECT_EQ(h.readings_received, 3u);
  EXPECT_EQ(stored("m1"), 0u);
}

TEST_F(IngestTest, BadPayloadsAreCountedPerReasonLoggedOnceAndOthersFlowOn) {
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink));
  start_service(config());
  auto& bad = meter_client("m1");
  auto& good = meter_client("m2");
  auto& ghost = meter_client("ghost");
  const std::string topic = protocol::make_topic("m1", TopicKind::kReading);
  std::string huge = protocol::encode(reading("m1", 1));
  huge.insert(huge.size() - 1, ",\"pad\":\"" + std::string(5000, 'x') + "\"");
  protocol::Reading neg = reading("m1", 2), high = reading("m1", 3), future = reading("m1", 4),
                    other = reading("m2", 5);
  neg.irms = -1;
  high.vrms = 1500;
  future.time_ms = now_ms() + 2 * 86'400'000;
  std::string nan_payload = protocol::encode(reading("m1", 6));
  nan_payload.replace(nan_payload.find("\"vrms\":") + 7, 3, "nan");
  const std::vector<std::string> payloads = {"{not json",
                                             "{not json either",
                                             "[]",
                                             huge,
                                             protocol::encode(neg),
                                             protocol::encode(high),
                                             protocol::encode(future),
                                             protocol::encode(other),
                                             nan_payload};
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    ASSERT_TRUE(bad.publish(topic, payloads[i]));
    publish_readings(good, "m2", i * 3, 3);  // the good meter keeps flowing in between
  }
  ASSERT_TRUE(ghost.publish(protocol::make_topic("ghost", TopicKind::kReading), protocol::encode(reading("ghost", 1))));
  ASSERT_TRUE(wait_until([&] {
    return stored("m2") == payloads.size() * 3 && service_->health().rejected_total == 10;
  })) << service_->health().rejected_total;
  const IngestHealth h = service_->health();
  EXPECT_EQ(h.rejected.at("malformed_json"), 3u);
  EXPECT_EQ(h.rejected.at("payload_too_large"), 1u);
  EXPECT_EQ(h.rejected.at("negative_current"), 1u);
  EXPECT_EQ(h.rejected.at("voltage_too_high"), 1u);
  EXPECT_EQ(h.rejected.at("time_in_future"), 1u);
  EXPECT_EQ(h.rejected.at("meter_id_mismatch"), 1u);
  EXPECT_EQ(h.rejected.at("not_finite"), 1u);
  EXPECT_EQ(h.rejected.at("unknown_meter"), 1u);
  EXPECT_EQ(stored("m1"), 0u);
  EXPECT_FALSE(store_->has_meter("ghost"));
  // Three malformed payloads from m1, one log line for (m1, malformed_json).
  int malformed_lines = 0;
  for (const auto& line : sink->last_formatted()) {
    if (line.find("'m1'") != std::string::npos && line.find("malformed_json") != std::string::npos) ++malformed_lines;
  }
  EXPECT_EQ(malformed_lines, 1);
  spdlog::set_default_logger(previous);
}

TEST_F(IngestTest, AMeterCannotPublishUnderAnothersId) {
  start_service(config());
  auto& m1 = meter_client("m1");
  // The broker's ACL drops it (QoS 1 is still acknowledged to the sender in MQTT 3.1.1).
  ASSERT_TRUE(m1.publish(protocol::make_topic("m2", TopicKind::kReading), protocol::encode(reading("m2", 1))));
  ASSERT_TRUE(m1.publish(protocol::make_topic("m2", TopicKind::kStatus), R"({"meter":"m2","state":"offline"})"));
  // A control message that does get through, so we know the earlier ones had their chance.
  ASSERT_TRUE(m1.publish(protocol::make_topic("m1", TopicKind::kReading), protocol::encode(reading("m1", 1))));
  ASSERT_TRUE(m1.wait_acked());
  ASSERT_TRUE(wait_until([&] { return stored("m1") == 1; }));
  EXPECT_EQ(stored("m2"), 0u);
  EXPECT_EQ(service_->health().messages_received, 1u);
  EXPECT_NE(service_->live_state("m2")->connectivity, Connectivity::kOffline);
}

TEST_F(IngestTest, BrokerRestartMidStreamLosesNothing) {
  start_service(config());  // plain subscriptions (the default): restored from the broker's persistence
  const auto ids = meter_ids(5);
  std::vector<test_support::TestClient*> cs;
  for (const auto& id : ids) cs.push_back(&meter_client(id));
  for (std::size_t i = 0; i < ids.size(); ++i) publish_readings(*cs[i], ids[i], 0, 30);
  ASSERT_TRUE(broker_->restart().ok());  // graceful: persistence saved, sessions and queues restored
  for (std::size_t i = 0; i < ids.size(); ++i) publish_readings(*cs[i], ids[i], 30, 30);
  for (auto* c : cs) ASSERT_TRUE(c->wait_acked(30000));
  for (const auto& id : ids) {
    ASSERT_TRUE(wait_until([&] { return stored(id) == 60; })) << id << " stored " << stored(id) << "\n"
                                                              << broker_->log_tail();
    const auto s = store_->seq_summary(id).value();
    EXPECT_EQ(s.max_seq - s.min_seq + 1, s.count) << id;
  }
  EXPECT_GE(service_->health().connects, 2u);
}

// A store that refuses writes (here: another connection holds the database's write lock) is retried with
// nothing dropped; health says so while it lasts, and meters that kept reporting are not called offline.
TEST_F(IngestTest, WhileTheStoreFailsHealthSaysSoAndReportingMetersStayOnlineAndAfterItNothingIsMissing) {
  store_.reset();
  auto reopened = storage::SqliteStore::open(
      storage::SqliteOptions{.path = (dir_ / "db").string(), .reader_connections = 2, .busy_timeout_ms = 100});
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  store_ = std::move(reopened).value();
  start_service(fast_liveness_config(2));  // silent for 2 s: offline
  auto& m1 = meter_client("m1");
  publish_readings(m1, "m1", 0, 3);
  ASSERT_TRUE(wait_until([&] { return stored("m1") == 3; }));

  sqlite3* locker = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "db").string().c_str(), &locker), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(locker, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  for (uint64_t s = 3; s < 23; ++s) {  // 4 s of readings, twice the offline limit
    publish_readings(m1, "m1", s, 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  const IngestHealth during = service_->health();
  EXPECT_TRUE(during.storage_failing);
  EXPECT_NE(during.storage_error.find("locked"), std::string::npos) << during.storage_error;
  EXPECT_GT(during.storage_failing_since_ms, 0);
  EXPECT_GE(during.pending_readings, 15u);  // the real backlog, the batch being retried included
  ASSERT_EQ(sqlite3_exec(locker, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(locker);

  ASSERT_TRUE(wait_until([&] { return stored("m1") == 23; })) << stored("m1");
  ASSERT_TRUE(wait_until([&] { return !service_->health().storage_failing; }));
  const IngestHealth after = service_->health();
  EXPECT_EQ(after.readings_duplicate, 0u);
  EXPECT_EQ(after.pending_readings, 0u);
  EXPECT_TRUE(after.storage_error.empty());
  ASSERT_TRUE(m1.publish(protocol::make_topic("m1", TopicKind::kReading), protocol::encode(reading("m1", 23))));
  ASSERT_TRUE(wait_until([&] { return observer_.readings == 24; }));
  const auto live = service_->live_state("m1");
  ASSERT_TRUE(live && live->last_reading);
  EXPECT_EQ(live->last_reading->seq, 23u);
  EXPECT_EQ(live->connectivity, Connectivity::kOnline);
  std::lock_guard lk(observer_.mu);
  for (const MeterLive& st : observer_.states) {
    EXPECT_FALSE(st.meter_id == "m1" && st.connectivity == Connectivity::kOffline) << "m1 was called offline";
  }
}

// With a shared subscription, as several servers would use it: the broker queues for the group
// while the server is down.
TEST_F(IngestTest, ServerRestartResumesWithNoGapAndNoDuplicate) {
  IngestConfig shared = config();
  shared.share_group = "wattguard";
  start_service(shared);
  const auto ids = meter_ids(4);
  std::vector<test_support::TestClient*> cs;
  for (const auto& id : ids) cs.push_back(&meter_client(id));
  for (std::size_t i = 0; i < ids.size(); ++i) publish_readings(*cs[i], ids[i], 0, 25);
  for (auto* c : cs) ASSERT_TRUE(c->wait_acked());
  ASSERT_TRUE(wait_until([&] { return service_->health().readings_stored == 100; }));
  service_->stop();
  service_.reset();
  // While the server is down the broker queues for its persistent session.
  for (std::size_t i = 0; i < ids.size(); ++i) publish_readings(*cs[i], ids[i], 25, 25);
  for (auto* c : cs) ASSERT_TRUE(c->wait_acked());
  // Some readings are redelivered too (QoS 1): they must not be stored twice.
  for (std::size_t i = 0; i < ids.size(); ++i) publish_readings(*cs[i], ids[i], 20, 5);
  start_service(shared);
  for (const auto& id : ids) {
    ASSERT_TRUE(wait_until([&] { return stored(id) == 50; })) << id << " stored " << stored(id);
    const auto s = store_->seq_summary(id).value();
    EXPECT_EQ(s.min_seq, 0u);
    EXPECT_EQ(s.max_seq, 49u);
  }
  ASSERT_TRUE(wait_until([&] { return service_->health().readings_duplicate == 20; }))
      << service_->health().readings_duplicate;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (const auto& id : ids) EXPECT_EQ(stored(id), 50u);
}

// With a master key, every command on the wire carries the meter's signature and a nonce that grows.
TEST_F(IngestTest, CommandsAreSignedWithTheMetersOwnKeyAndGrowingNonces) {
  IngestConfig c = config();
  const protocol::CommandKey master = protocol::random_command_key();
  c.command_master_key = master;
  start_service(c);
  auto& m1 = meter_client("m1");
  std::mutex mu;
  std::vector<protocol::Command> received;
  m1.on_message = [&](const std::string& topic, const std::string& payload) {
    auto cmd = protocol::decode_command(payload, protocol::DecodeContext{now_ms(), "m1"});
    if (!cmd.ok() || topic != protocol::make_topic("m1", TopicKind::kCmd)) return;
    std::lock_guard lock(mu);
    received.push_back(cmd.value());
  };
  ASSERT_TRUE(m1.subscribe(protocol::make_topic("m1", TopicKind::kCmd)));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (int k = 0; k < 2; ++k) {
    ASSERT_TRUE(service_->send_command({"m1", protocol::CommandKind::kPing, std::nullopt, "op", "", 0}).ok());
  }
  ASSERT_TRUE(wait_until([&] {
    std::lock_guard lock(mu);
    return received.size() == 2;
  }));
  const protocol::CommandKey key = protocol::derive_command_key(master, "m1");
  std::lock_guard lock(mu);
  EXPECT_EQ(protocol::check_command_signature(received[0], key, 0), protocol::SignatureCheck::kValid);
  EXPECT_EQ(protocol::check_command_signature(received[1], key, received[0].nonce), protocol::SignatureCheck::kValid);
  EXPECT_GT(received[1].nonce, received[0].nonce);
  // Another meter's key does not verify it.
  EXPECT_EQ(protocol::check_command_signature(received[0], protocol::derive_command_key(master, "m2"), 0),
            protocol::SignatureCheck::kForged);
}

TEST(CommandKeyFile, IsMadeOncePrivateAndReadBackAndAForeignFileIsRefused) {
  test_support::TempDir dir("command-key");
  const auto path = dir.path() / "data" / kCommandKeyFileName;
  auto first = load_or_create_command_key(path);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ((std::filesystem::status(path).permissions() & std::filesystem::perms::all),
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto again = load_or_create_command_key(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value(), first.value());
  std::ofstream(path, std::ios::trunc) << "not a key\n";
  auto bad = load_or_create_command_key(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().source, path.string());
}

TEST_F(IngestTest, CommandsAreAcknowledgedOrTimeOut) {
  IngestConfig c = config();
  c.liveness_check_ms = 100;
  start_service(c);
  auto& m1 = meter_client("m1");
  m1.on_message = [&m1](const std::string& topic, const std::string& payload) {
    auto cmd = protocol::decode_command(payload, protocol::DecodeContext{now_ms(), "m1"});
    if (!cmd.ok() || topic != protocol::make_topic("m1", TopicKind::kCmd)) return;
    protocol::CommandAck ack{cmd->id, "m1", true, "relay opened", protocol::RelayState::kOff, 0, now_ms()};
    m1.publish(protocol::make_topic("m1", TopicKind::kCmdAck), protocol::encode(ack), false, 1000);
  };
  ASSERT_TRUE(m1.subscribe(protocol::make_topic("m1", TopicKind::kCmd)));
  meter_client("m2");  // connected, but never answers
  std::this_thread::sleep_for(std::chrono::milliseconds(200));

  CommandRequest off{"m1", protocol::CommandKind::kRelayOff, std::nullopt, "operator1", "theft alert", 0};
  auto sent = service_->send_command(off);
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  ASSERT_TRUE(wait_until([&] { return observer_.state_of(sent->id) == storage::CommandState::kAcked; }));
  auto rec = store_->get_command(sent->id);
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->state, storage::CommandState::kAcked);
  EXPECT_EQ(rec->relay, protocol::RelayState::kOff);
  EXPECT_GT(rec->sent_ms, 0);
  EXPECT_EQ(service_->live_state("m1")->relay, protocol::RelayState::kOff);
  auto audit = store_->audit("m1");
  ASSERT_FALSE(audit->empty());
  EXPECT_EQ((*audit)[0].actor, "operator1");
  EXPECT_EQ((*audit)[0].action, "command.relay_off");

  CommandRequest ping{"m2", protocol::CommandKind::kPing, std::nullopt, "operator1", "", 300};
  auto lost = service_->send_command(ping);
  ASSERT_TRUE(lost.ok());
  ASSERT_TRUE(wait_until([&] { return observer_.state_of(lost->id) == storage::CommandState::kTimedOut; }));
  EXPECT_EQ(store_->get_command(lost->id)->state, storage::CommandState::kTimedOut);

  auto unknown = service_->send_command(CommandRequest{"m99", protocol::CommandKind::kPing, std::nullopt, "", "", 0});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  auto no_period =
      service_->send_command(CommandRequest{"m1", protocol::CommandKind::kSetPeriod, std::nullopt, "", "", 0});
  ASSERT_FALSE(no_period.ok());
  EXPECT_EQ(no_period.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(no_period.error().field, "period_s");
}

TEST_F(IngestTest, AnImportedReadingIsShownButIsNoSignOfLife) {
  // m2's newest stored reading came from `import readings`, m3's from the meter itself (before a restart).
  protocol::Reading imported = reading("m2", 1);
  imported.flags = protocol::kFlagImported;
  ASSERT_TRUE(store_->append_readings(std::vector<protocol::Reading>{imported, reading("m3", 1)}, now_ms()).ok());
  start_service(config());
  const MeterLive m2 = service_->live_state("m2").value();
  ASSERT_TRUE(m2.last_reading);
  EXPECT_EQ(m2.last_reading->flags & protocol::kFlagImported, protocol::kFlagImported);
  EXPECT_EQ(m2.last_seen_ms, 0);  // never heard from over MQTT: no offline alert will be raised for it
  EXPECT_GT(service_->live_state("m3")->last_seen_ms, 0);
}

TEST_F(IngestTest, AMeterNeverHeardFromStaysUnknownNotOffline) {
  start_service(fast_liveness_config(2));
  // m1 reports once and falls silent: offline. m3 never reports: still unknown after the same checks.
  auto& m1 = meter_client("m1");
  publish_readings(m1, "m1", 0, 1);
  ASSERT_TRUE(wait_until([&] { return service_->live_state("m1")->connectivity == Connectivity::kOffline; }, 10000));
  EXPECT_EQ(service_->live_state("m3")->connectivity, Connectivity::kUnknown);
}

TEST_F(IngestTest, OfflineFromLastWillAndFromMissedPeriods) {
  start_service(fast_liveness_config(3));
  // m1 announces itself online with a last will, then vanishes without a DISCONNECT.
  auto will = test_support::TestClient::Options{"meter-m1", "m1", passwords_["m1"], false,
                                                std::make_pair(protocol::make_topic("m1", TopicKind::kStatus),
                                                               std::string(R"({"meter":"m1","state":"offline"})"))};
  auto m1 = std::make_unique<test_support::TestClient>(broker_->port(), will);
  ASSERT_EQ(m1->connect(), 0);
  ASSERT_TRUE(m1->publish(protocol::make_topic("m1", TopicKind::kStatus),
                          protocol::encode(protocol::StatusMessage{"m1", true, now_ms(), 60, "test"}), true));
  ASSERT_TRUE(m1->wait_acked());
  ASSERT_TRUE(wait_until([&] { return service_->live_state("m1")->connectivity == Connectivity::kOnline; }));
  EXPECT_EQ(service_->live_state("m1")->period_s, 60u);
  m1->drop_connection();
  ASSERT_TRUE(wait_until([&] { return service_->live_state("m1")->connectivity == Connectivity::kOffline; }, 30000));
  EXPECT_EQ(service_->live_state("m1")->offline_reason, "status");

  // m2 reports once, then goes silent: offline after 3 missed 1-s periods, last values kept.
  auto& m2 = meter_client("m2");
  publish_readings(m2, "m2", 0, 1);
  ASSERT_TRUE(wait_until([&] { return service_->live_state("m2")->connectivity == Connectivity::kOnline; }));
  ASSERT_TRUE(wait_until([&] { return service_->live_state("m2")->connectivity == Connectivity::kOffline; }, 10000));
  const MeterLive m2_state = service_->live_state("m2").value();
  EXPECT_EQ(m2_state.offline_reason, "missed_periods");
  ASSERT_TRUE(m2_state.last_reading);  // the truth, not a zero
  EXPECT_DOUBLE_EQ(m2_state.last_reading->p_w, 430);
  auto events = store_->events([] {
    storage::EventQuery q;
    q.meter_id = "m2";
    q.kind = protocol::EventKind::kCommLoss;
    return q;
  }());
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].event.edge, protocol::EventEdge::kOnset);
  // It comes back: online again, and the comm_loss clears.
  publish_readings(m2, "m2", 1, 1);
  ASSERT_TRUE(wait_until([&] { return service_->live_state("m2")->connectivity == Connectivity::kOnline; }));
  EXPECT_TRUE(wait_until([&] {
    storage::EventQuery q;
    q.meter_id = "m2";
    return store_->events(q)->size() == 2;
  }));
}

TEST_F(IngestTest, ASilentMeterIsPushedAsStaleBeforeItTurnsOffline) {
  start_service(fast_liveness_config(5));  // 1-s periods: stale after 3 s of silence, offline after 5 s
  auto& m1 = meter_client("m1");
  publish_readings(m1, "m1", 0, 1);
  ASSERT_TRUE(wait_until([&] { return service_->live_state("m1")->connectivity == Connectivity::kStale; }, 10000));
  EXPECT_EQ(service_->live_state("m1")->offline_reason, "");
  ASSERT_TRUE(wait_until([&] { return service_->health().meters_stale == 1; }));
  ASSERT_TRUE(wait_until([&] { return service_->live_state("m1")->connectivity == Connectivity::kOffline; }, 10000));
  std::vector<Connectivity> pushed;
  {
    std::lock_guard lk(observer_.mu);
    for (const MeterLive& s : observer_.states) {
      if (s.meter_id == "m1") pushed.push_back(s.connectivity);
    }
  }
  EXPECT_EQ(pushed, (std::vector<Connectivity>{Connectivity::kOnline, Connectivity::kStale, Connectivity::kOffline}));
  // Late is not lost: only the offline transition is a comm_loss onset.
  storage::EventQuery q;
  q.meter_id = "m1";
  q.kind = protocol::EventKind::kCommLoss;
  ASSERT_EQ(store_->events(q)->size(), 1u);
  // A reading brings it back from stale or offline alike.
  publish_readings(m1, "m1", 1, 1);
  ASSERT_TRUE(wait_until([&] { return service_->live_state("m1")->connectivity == Connectivity::kOnline; }));
}

// Readings from other protocols' adapters: numbered after the meter's last, stored and observed like MQTT ones;
// unknown, retired and out-of-range ones refused with the field named and counted.
TEST_F(IngestTest, SubmittedReadingsAreNumberedAfterTheMetersLastAndRefusedWhenBad) {
  start_service(config());
  auto& c = meter_client("m1");
  publish_readings(c, "m1", 1, 3);
  ASSERT_TRUE(wait_until([&] { return store_->seq_summary("m1").ok() && store_->seq_summary("m1")->count == 3; }));
  for (int i = 0; i < 2; ++i) {
    protocol::Reading r = reading("m1", 0);
    r.time_ms = now_ms() - 1000 + i;
    ASSERT_TRUE(service_->submit_reading(r, now_ms()).ok());
  }
  ASSERT_TRUE(service_->flush(10000));
  auto stored = store_->raw_readings("m1", 0, INT64_MAX);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 5U);
  EXPECT_EQ(stored->back().seq, 5U);
  EXPECT_EQ((*stored)[3].seq, 4U);

  const auto unknown = service_->submit_reading(reading("nobody", 0), now_ms());
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(unknown.error().field, "meter");
  protocol::Reading bad = reading("m2", 0);
  bad.vrms = -5;
  const auto refused = service_->submit_reading(bad, now_ms());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(refused.error().field, "vrms");
  EXPECT_GE(service_->health().rejected_total, 2U);

  // A retired meter is refused once ingest re-reads the registry.
  auto info = store_->get_meter("m3");
  ASSERT_TRUE(info.ok());
  info->retired_ms = now_ms();
  ASSERT_TRUE(store_->update_meter(info.value()).ok());
  service_->reload_meters();
  EXPECT_EQ(service_->submit_reading(reading("m3", 0), now_ms()).error().code, ErrorCode::kNotFound);
}

// A meter on a link (a Blynk connection) gets its commands there, not over MQTT, and its device's confirmation
// finishes the command; once detached, commands go over MQTT again.
TEST_F(IngestTest, CommandsForALinkedMeterGoToTheLinkAndTheDevicesAckFinishesThem) {
  start_service(config());
  std::mutex mu;
  std::vector<protocol::Command> delivered;
  service_->attach_link("m4", [&](const protocol::Command& c) {
    std::lock_guard lk(mu);
    delivered.push_back(c);
    return true;
  });
  CommandRequest req;
  req.meter_id = "m4";
  req.kind = protocol::CommandKind::kRelayOff;
  req.requested_by = "test";
  auto sent = service_->send_command(req);
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  {
    std::lock_guard lk(mu);
    ASSERT_EQ(delivered.size(), 1U);
    EXPECT_EQ(delivered[0].id, sent->id);
    EXPECT_EQ(delivered[0].kind, protocol::CommandKind::kRelayOff);
  }
  ASSERT_TRUE(wait_until([&] { return observer_.state_of(sent->id) == storage::CommandState::kSent; }, 10000));
  protocol::CommandAck ack;
  ack.id = sent->id;
  ack.meter_id = "m4";
  ack.ok = true;
  ack.relay = protocol::RelayState::kOff;
  service_->submit_ack(ack, now_ms());
  ASSERT_TRUE(wait_until([&] { return observer_.state_of(sent->id) == storage::CommandState::kAcked; }, 10000));
  EXPECT_EQ(service_->live_state("m4")->relay, protocol::RelayState::kOff);

  service_->detach_link("m4");
  auto over_mqtt = service_->send_command(req);
  ASSERT_TRUE(over_mqtt.ok());
  std::lock_guard lk(mu);
  EXPECT_EQ(delivered.size(), 1U) << "a detached link gets nothing more";
}

}  // namespace
}  // namespace wattguard::ingest
