// MQTT over TLS end to end: a real Mosquitto with a TLS listener (a self-signed certificate made by tls/), the
// server's ingest on real SQLite and virtual meters, all verifying the broker; and what must fail: a client that
// trusts another authority, a plaintext client on the TLS port, a password readable on the wire.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <limits>
#include <mutex>
#include <thread>

#include "wattguard/broker/broker_process.h"
#include "wattguard/demo/local_system.h"
#include "wattguard/fleet/credentials.h"
#include "wattguard/fleet/fd_limit.h"
#include "wattguard/fleet/fleet.h"
#include "wattguard/ingest/ingest_service.h"
#include "wattguard/storage/sqlite_store.h"
#include "wattguard/test_support/temp_dir.h"
#include "wattguard/test_support/test_client.h"
#include "wattguard/tls/certificate_files.h"
#include "wattguard/tls/self_signed.h"

namespace wattguard {
namespace {

using namespace std::chrono_literals;
using test_support::TempDir;
using test_support::TestClient;

constexpr const char* kServerUser = "wattguard-server";

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(25ms);
  }
  return pred();
}

// Relays one TCP connection at a time from its own loopback port to `target`, keeping every byte the client sent:
// what anyone on the meters' network would read.
class RecordingProxy {
 public:
  explicit RecordingProxy(uint16_t target) : target_(target) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(listen_fd_, 4) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("proxy: cannot listen");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~RecordingProxy() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }
  uint16_t port() const { return port_; }
  std::string client_bytes() const {
    std::lock_guard lock(mutex_);
    return client_bytes_;
  }

 private:
  void run() {
    while (!stop_) {
      pollfd listening{listen_fd_, POLLIN, 0};
      if (::poll(&listening, 1, 50) <= 0) continue;
      const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      const int upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(target_);
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (::connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) relay(client, upstream);
      ::close(upstream);
      ::close(client);
    }
  }

  void relay(int client, int upstream) {
    char buffer[16384];
    while (!stop_) {
      pollfd fds[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};
      if (::poll(fds, 2, 50) <= 0) continue;
      for (int side = 0; side < 2; ++side) {
        if (fds[side].revents == 0) continue;
        const ssize_t n = ::read(fds[side].fd, buffer, sizeof(buffer));
        if (n <= 0) return;
        if (side == 0) {
          std::lock_guard lock(mutex_);
          client_bytes_.append(buffer, static_cast<std::size_t>(n));
        }
        if (::send(fds[1 - side].fd, buffer, static_cast<std::size_t>(n), MSG_NOSIGNAL) != n) return;
      }
    }
  }

  uint16_t target_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mutex_;
  std::string client_bytes_;
};

class MqttTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (broker::mosquitto_binary().empty()) GTEST_SKIP() << "mosquitto is not installed";
    // The broker's certificate, and another that signed nothing of this broker's.
    for (const auto& [cert, key] : {std::pair{cert_file_, dir_.path() / "broker-key.pem"},
                                    std::pair{other_cert_file_, dir_.path() / "other-key.pem"}}) {
      auto pair = tls::make_self_signed({});
      ASSERT_TRUE(pair.ok()) << pair.error().to_string();
      ASSERT_TRUE(tls::write_certificate_files(pair.value(), cert, key).ok());
    }
    fleet::FleetConfig ids_of;
    ids_of.meters = 2;
    ids_ = fleet::fleet_meter_ids(ids_of);

    broker::BrokerSetup setup;
    setup.dir = dir_.path() / "broker";
    server_password_ = fleet::random_password();
    setup.server = {kServerUser, server_password_};
    for (const std::string& id : ids_) {
      const std::string password = fleet::random_password();
      setup.meters.push_back({id, password});
      credentials_.meters[id] = fleet::BrokerLogin{id, password, std::nullopt};
    }
    setup.tls = broker::BrokerTlsListener{0, cert_file_, dir_.path() / "broker-key.pem", {}};
    fleet::raise_fd_limit();
    auto started = broker::BrokerProcess::start(setup);
    ASSERT_TRUE(started.ok()) << started.error().to_string();
    broker_ = std::move(started).value();
    ASSERT_NE(broker_->tls_port(), 0);

    auto opened = storage::SqliteStore::open(
        storage::SqliteOptions{.path = (dir_.path() / "db").string(), .reader_connections = 2});
    ASSERT_TRUE(opened.ok()) << opened.error().to_string();
    store_ = std::move(opened).value();
    std::vector<storage::MeterInfo> meters;
    for (const std::string& id : ids_) {
      storage::MeterInfo meter;
      meter.id = id;
      meters.push_back(meter);
    }
    ASSERT_TRUE(store_->add_meters(meters).ok());
  }

  void TearDown() override {
    if (service_) service_->stop();
    service_.reset();
    broker_.reset();
  }

  tls::MqttClientTls trusting(const std::filesystem::path& ca) const { return {true, ca.string(), false}; }

  // The server's ingest on the TLS listener, verifying the broker against `ca`.
  void start_server(const std::filesystem::path& ca) {
    ingest::IngestConfig c;
    c.port = broker_->tls_port();
    c.username = kServerUser;
    c.password = server_password_;
    c.client_id = "wattguard-tls-server";
    c.tls = trusting(ca);
    service_ = std::make_unique<ingest::IngestService>(c, *store_);
    auto started = service_->start();
    ASSERT_TRUE(started.ok()) << started.error().to_string();
  }

  std::unique_ptr<fleet::Fleet> start_fleet(const std::filesystem::path& ca) {
    fleet::FleetConfig c;
    c.meters = ids_.size();
    c.broker_port = broker_->tls_port();
    c.tls = trusting(ca);
    c.credentials = credentials_;
    c.speed = 20;
    c.fidelity = fleet::Fidelity::kFast;
    c.keepalive_s = 10;
    auto created = fleet::Fleet::create(c);
    if (!created.ok()) throw std::runtime_error(created.error().to_string());
    auto f = std::move(created).value();
    f->start();
    return f;
  }

  // A test client that logs in as meter `id`.
  TestClient::Options login_of(const std::string& id) const {
    TestClient::Options options;
    options.client_id = id;
    options.username = id;
    options.password = credentials_.meters.at(id).password;
    return options;
  }

  std::size_t stored(const std::string& id) {
    auto rows = store_->raw_readings(id, 0, std::numeric_limits<int64_t>::max());
    return rows.ok() ? rows.value().size() : 0;
  }

  TempDir dir_{"mqtt-tls"};
  std::filesystem::path cert_file_ = dir_.path() / "broker-cert.pem";
  std::filesystem::path other_cert_file_ = dir_.path() / "other-cert.pem";
  std::vector<std::string> ids_;
  std::string server_password_;
  fleet::CredentialSet credentials_;
  std::unique_ptr<broker::BrokerProcess> broker_;
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<ingest::IngestService> service_;
};

TEST_F(MqttTlsTest, TheServerStoresEveryReadingVirtualMetersSendOverTls) {
  start_server(cert_file_);
  ASSERT_TRUE(wait_until([&] { return service_->connected(); }, 15s)) << broker_->log_tail();
  auto f = start_fleet(cert_file_);
  ASSERT_TRUE(wait_until([&] { return stored(ids_[0]) >= 5 && stored(ids_[1]) >= 5; }, 60s))
      << "stored " << stored(ids_[0]) << " and " << stored(ids_[1]);
  f->stop();
  const auto stats = f->stats();
  EXPECT_EQ(stats.readings_made, stats.readings_acked);
  EXPECT_TRUE(wait_until([&] { return stored(ids_[0]) + stored(ids_[1]) == stats.readings_made; }, 10s))
      << stats.readings_made << " made";
  EXPECT_EQ(service_->health().rejected_total, 0u);
}

TEST_F(MqttTlsTest, MetersThatTrustAnotherAuthorityNeverLogInAndNothingIsStored) {
  start_server(cert_file_);
  ASSERT_TRUE(wait_until([&] { return service_->connected(); }, 15s));
  auto f = start_fleet(other_cert_file_);
  // The fleet measures and queues all along; at speed 20 it would have sent dozens of readings by now.
  std::this_thread::sleep_for(4s);
  const auto stats = f->stats();
  f->stop();
  EXPECT_GT(stats.readings_made, 10u);
  EXPECT_EQ(stats.links_connected, 0u);
  EXPECT_EQ(stats.connects, 0u);
  EXPECT_EQ(stats.readings_acked, 0u);
  EXPECT_EQ(stored(ids_[0]) + stored(ids_[1]), 0u);
  EXPECT_EQ(service_->health().messages_received, 0u);
}

TEST_F(MqttTlsTest, AServerThatTrustsAnotherAuthorityNeverConnects) {
  start_server(other_cert_file_);
  std::this_thread::sleep_for(3s);
  EXPECT_FALSE(service_->connected());
  EXPECT_EQ(service_->health().connects, 0u);
}

TEST_F(MqttTlsTest, APlainClientCannotSpeakToTheTlsPortButCanToThePlainOne) {
  const TestClient::Options meter = login_of(ids_[0]);
  TestClient on_tls_port(broker_->tls_port(), meter);
  EXPECT_NE(on_tls_port.connect(3000), 0);
  on_tls_port.disconnect();
  TestClient on_plain_port(broker_->port(), meter);
  EXPECT_EQ(on_plain_port.connect(3000), 0);  // the same login works where no TLS is expected
}

TEST_F(MqttTlsTest, AMetersPasswordNeverCrossesTheTlsPortInTheClear) {
  const std::string password = credentials_.meters.at(ids_[0]).password;
  const auto connect_through = [&](uint16_t target, bool use_tls) {
    RecordingProxy proxy(target);
    TestClient::Options meter = login_of(ids_[0]);
    if (use_tls) meter.tls = trusting(cert_file_);
    TestClient client(proxy.port(), meter);
    EXPECT_EQ(client.connect(5000), 0) << (use_tls ? "over TLS" : "plain");
    EXPECT_TRUE(client.publish("wattguard/v1/" + ids_[0] + "/status", R"({"online":true})"));
    EXPECT_TRUE(client.wait_acked(5000));
    client.disconnect();
    return proxy.client_bytes();
  };
  const std::string over_tls = connect_through(broker_->tls_port(), true);
  EXPECT_GT(over_tls.size(), 200u);  // a handshake and records went through
  EXPECT_EQ(over_tls.find(password), std::string::npos);
  EXPECT_EQ(over_tls.find(ids_[0]), std::string::npos);
  // The same client on the plain port shows what the TLS port hides.
  const std::string plain = connect_through(broker_->port(), false);
  EXPECT_NE(plain.find(password), std::string::npos);
}

// `wattguard demo`'s set-up: the server (serve's wiring of mqtt.tls) and the fleet on the TLS listener with the
// demo's own certificate, which a second run on the same data keeps.
TEST(DemoOverTls, TheServerAndTheMetersOfTheDemoTalkOverTlsAndKeepTheirCertificate) {
  if (broker::mosquitto_binary().empty()) GTEST_SKIP() << "mosquitto is not installed";
  TempDir data("mqtt-tls-demo");
  demo::LocalSystemOptions o;
  o.data_dir = data.path();
  o.http_port = 0;
  o.password_cost = "min";
  o.create_operator = false;
  o.demo_accounts = false;
  o.mqtt_tls = demo::MqttTlsUse::kClients;
  o.fleet.meters = 3;
  o.fleet.speed = 20;
  o.fleet.fidelity = fleet::Fidelity::kFast;
  o.fleet.journal_fsync = false;
  std::string first_fingerprint;
  for (int run = 0; run < 2; ++run) {
    auto started = demo::LocalSystem::start(o);
    ASSERT_TRUE(started.ok()) << started.error().to_string();
    auto sys = std::move(started).value();
    EXPECT_EQ(sys->server().config().mqtt.port, sys->broker().tls_port());
    EXPECT_TRUE(sys->server().config().mqtt.tls);
    EXPECT_EQ(sys->mqtt_certificate_file(), data.path() / "tls" / "mqtt-cert.pem");
    EXPECT_EQ(sys->mqtt_certificate_fingerprint().size(), 95u);  // 32 bytes as "AB:" x 31 + "CD"
    if (run == 0) first_fingerprint = sys->mqtt_certificate_fingerprint();
    EXPECT_EQ(sys->mqtt_certificate_fingerprint(), first_fingerprint);
    const auto& ids = sys->fleet().meter_ids();
    EXPECT_TRUE(wait_until(
        [&] {
          for (const auto& id : ids) {
            auto summary = sys->server().store().seq_summary(id);
            if (!summary.ok() || summary->count < static_cast<uint64_t>(3 * (run + 1))) return false;
          }
          return true;
        },
        60s));
    EXPECT_GT(sys->fleet().stats().connects, 0u);
    sys->stop();
  }
}

}  // namespace
}  // namespace wattguard
