// Blynk end to end: a real broker, the real server with its Blynk listener, and Blynk devices in a separate
// process (`wattguard bench blynk`, whose client is written from the wire format): logins with both commands,
// six pins every second, pings, sync, a relay command from the API reaching the device as `vw 10 0` and acked by
// its echo, a server restart the devices reconnect across; readings in storage, the live state and the API.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "wattguard/broker/broker_process.h"
#include "wattguard/notify/http_client.h"
#include "wattguard/serve/server.h"
#include "wattguard/test_support/temp_dir.h"
#include "wattguard/tls/certificate_files.h"

extern char** environ;

namespace wattguard {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kAdminToken = "wgt_blynk-e2e-admin-token-0123456789";
const std::vector<std::string> kMeters = {"bk-1", "bk-2", "bk-3"};
constexpr const char* kOwnMapMeter = "bk-own";  // not in the devices' process; has its own pin map

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return pred();
}

class BlynkEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    if (broker::mosquitto_binary().empty()) GTEST_SKIP() << "mosquitto is not installed";
    auto b = broker::BrokerProcess::start(broker::anonymous_setup(dir_.path() / "broker"));
    ASSERT_TRUE(b.ok()) << b.error().message;
    broker_ = std::move(b).value();
    config_.http.bind = "127.0.0.1";
    config_.http.port = broker::free_port();
    config_.mqtt.host = "127.0.0.1";
    config_.mqtt.port = broker_->port();
    config_.mqtt.username = "";
    config_.storage.data_dir = (dir_.path() / "data").string();
    config_.ingest.period_s = 1;
    config_.ingest.flush_interval_ms = 50;
    config_.ingest.command_timeout_s = 20;
    config_.auth.password_cost = "min";
    config_.blynk.enabled = true;
    config_.blynk.bind = "127.0.0.1";
    config_.blynk.port = broker::free_port();
    // The TLS listener too, with a self-signed certificate the raw TLS device below pins.
    auto certificate =
        tls::ensure_self_signed(dir_.path() / "tls" / "server.crt", dir_.path() / "tls" / "server.key", {});
    ASSERT_TRUE(certificate.ok()) << certificate.error().message;
    certificate_pem_ = certificate->pair.certificate_pem;
    config_.blynk.tls_port = broker::free_port();
    config_.blynk.tls_cert_file = (dir_.path() / "tls" / "server.crt").string();
    config_.blynk.tls_key_file = (dir_.path() / "tls" / "server.key").string();
    // One meter whose sketch writes other pins: voltage on V20, power on V7.
    config_.blynk.pin_maps = {{kOwnMapMeter, "V20=vrms,V7=p_w,V10=relay"}};
    start_server();
    // Three meters speaking Blynk, and their tokens for the devices' process.
    std::vector<storage::MeterInfo> meters;
    for (const auto& id : {kMeters[0], kMeters[1], kMeters[2], std::string(kOwnMapMeter)}) {
      storage::MeterInfo m;
      m.id = id;
      m.name = "Blynk " + id;
      meters.push_back(m);
    }
    ASSERT_TRUE(server_->store().add_meters(meters).ok());
    std::ofstream tokens(tokens_file());
    for (const auto& id : kMeters) {
      const std::string token = ingest::generate_device_token();
      ASSERT_TRUE(server_->device_keys().set(id, ingest::DeviceProtocol::kBlynk, token, now_ms()).ok());
      tokens << id << ' ' << token << '\n';
      tokens_[id] = token;
    }
    tokens_[kOwnMapMeter] = ingest::generate_device_token();
    ASSERT_TRUE(
        server_->device_keys().set(kOwnMapMeter, ingest::DeviceProtocol::kBlynk, tokens_[kOwnMapMeter], now_ms()).ok());
    server_->meters_changed();
    ASSERT_TRUE(server_->auth().add_token(kAdminToken, api::TokenScope::kAdmin, "e2e", now_ms() / 1000).ok());
  }

  void TearDown() override {
    if (devices_pid_ > 0) {
      ::kill(devices_pid_, SIGTERM);
      ::waitpid(devices_pid_, nullptr, 0);
    }
    if (server_) server_->stop();
  }

  void start_server() {
    auto s = serve::Server::start(config_);
    ASSERT_TRUE(s.ok()) << serve::config_error_text(s.error());
    server_ = std::move(s).value();
  }

  std::string tokens_file() const { return (dir_.path() / "tokens.txt").string(); }
  std::string devices_output() const { return (dir_.path() / "devices.json").string(); }

  // `wattguard bench blynk` against this server: its own process, its output in a file.
  void start_devices(double duration_s) {
    const std::string port = std::to_string(config_.blynk.port), api = std::to_string(config_.http.port),
                      duration = std::to_string(duration_s);
    std::vector<std::string> args = {WATTGUARD_BINARY,
                                     "bench",
                                     "blynk",
                                     "--port",
                                     port,
                                     "--tokens",
                                     tokens_file(),
                                     "--api-port",
                                     api,
                                     "--api-token",
                                     kAdminToken,
                                     "--period-s",
                                     "1",
                                     "--duration-s",
                                     duration,
                                     "--login",
                                     "mixed",
                                     "--heartbeat-s",
                                     "2",
                                     "--connect-spread-s",
                                     "0",
                                     "--drain-s",
                                     "3",
                                     "--json"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, devices_output().c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    // Not the server's sockets: a listener kept open in the child would block the restarted server's ports.
    posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
    ASSERT_EQ(posix_spawn(&devices_pid_, WATTGUARD_BINARY, &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
  }

  // The devices' report once their process ended.
  json devices_report() {
    int status = 0;
    ::waitpid(devices_pid_, &status, 0);
    devices_pid_ = -1;
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "bench blynk exited with " << status;
    std::ifstream in(devices_output());
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = json::parse(text.str(), nullptr, false);
    EXPECT_TRUE(parsed.is_object()) << text.str();
    return parsed.is_object() ? parsed : json::object();
  }

  // A plain GET without the API's credentials (the Blynk HTTP API authenticates by the device token).
  notify::HttpOutcome get(const std::string& path) {
    notify::HttpCall c;
    c.method = "GET";
    c.url = server_->url() + path;
    c.keep_body_bytes = 4096;
    return notify::http_call(c);
  }

  json api(const std::string& method, const std::string& path, const std::string& body = "") {
    notify::HttpCall c;
    c.method = method;
    c.url = server_->url() + path;
    c.body = body;
    c.headers = {{"Authorization", std::string("Bearer ") + kAdminToken}, {"Content-Type", "application/json"}};
    c.keep_body_bytes = std::size_t{1} << 20;
    const auto out = notify::http_call(c);
    auto parsed = json::parse(out.body, nullptr, false);
    return parsed.is_object() ? parsed : json::object();
  }

  uint64_t stored(const std::string& meter) {
    auto s = server_->store().seq_summary(meter);
    return s.ok() ? s->count : 0;
  }

  test_support::TempDir dir_{"blynk-e2e"};
  std::unique_ptr<broker::BrokerProcess> broker_;
  serve::ServerConfig config_;
  std::unique_ptr<serve::Server> server_;
  pid_t devices_pid_ = -1;
  std::map<std::string, std::string> tokens_;
  std::string certificate_pem_;
};

TEST_F(BlynkEndToEnd, SketchesLogInWriteGetARelayCommandAndSurviveAServerRestart) {
  start_devices(25);
  // Readings from every device reach storage, the live state and the API.
  ASSERT_TRUE(wait_until(
      [&] {
        for (const auto& id : kMeters) {
          if (stored(id) < 3) return false;
        }
        return true;
      },
      30s))
      << "readings: " << stored("bk-1") << " " << stored("bk-2") << " " << stored("bk-3");
  for (const auto& id : kMeters) {
    const auto live = server_->ingest().live_state(id);
    ASSERT_TRUE(live && live->last_reading) << id;
    EXPECT_EQ(live->connectivity, ingest::Connectivity::kOnline) << id;
    EXPECT_NEAR(live->last_reading->vrms, 230, 5);
    EXPECT_GT(live->last_reading->p_w, 0);
    EXPECT_GT(live->last_reading->e_import_wh, 0);  // V5, kWh -> Wh
    const json meter = api("GET", "/api/v1/meters/" + id);
    ASSERT_TRUE(meter.contains("meter")) << meter.dump();
    EXPECT_EQ(meter["meter"]["status"], "online") << meter.dump();
  }

  // A relay command from the API reaches the device as `vw 10 0`; its echo acknowledges it.
  const json sent = api("POST", "/api/v1/meters/bk-2/commands", R"({"kind": "relay_off", "reason": "e2e"})");
  ASSERT_TRUE(sent.contains("command")) << sent.dump();
  const std::string command_id = sent["command"]["id"];
  std::string state;
  ASSERT_TRUE(wait_until(
      [&] {
        state = api("GET", "/api/v1/meters/bk-2/commands/" + command_id)["command"].value("state", "");
        return state == "acked";
      },
      15s))
      << "command state " << state;
  ASSERT_TRUE(
      wait_until([&] { return server_->ingest().live_state("bk-2")->relay == protocol::RelayState::kOff; }, 5s));
  // The device's readings now say the relay is open: that is what a restarted server reads back.
  ASSERT_TRUE(wait_until(
      [&] {
        const auto live = server_->ingest().live_state("bk-2");
        return live->last_reading && (live->last_reading->flags & protocol::kFlagRelayOpen) != 0;
      },
      5s));
  ASSERT_TRUE(server_->ingest().flush(5000));

  // A restart: every device reconnects and goes on writing into the new server.
  server_->stop();
  server_.reset();
  std::this_thread::sleep_for(500ms);
  start_server();
  ASSERT_NE(server_, nullptr);
  std::map<std::string, uint64_t> before;
  for (const auto& id : kMeters) before[id] = stored(id);
  ASSERT_TRUE(wait_until(
      [&] {
        for (const auto& id : kMeters) {
          if (stored(id) < before[id] + 3) return false;
        }
        return true;
      },
      30s));
  EXPECT_EQ(server_->ingest().live_state("bk-2")->relay, protocol::RelayState::kOff);  // kept across the restart
  const auto stats = server_->blynk()->stats();
  EXPECT_GE(stats.logins_ok, 3u);
  EXPECT_EQ(stats.logins_failed, 0u);
  EXPECT_GE(stats.readings, 9u);

  const json report = devices_report();
  EXPECT_EQ(report.value("logins_refused", -1), 0);
  EXPECT_GE(report.value("logins_ok", 0), 6);  // three devices, twice (login 29 and 2: --login mixed)
  EXPECT_GE(report.value("relay_writes", 0), 1);
  EXPECT_GE(report.value("sync_values", 0), 1);  // V10 = 0 answered to the reconnected device's sync
  EXPECT_GT(report.value("ping_answers", 0), 0);
  EXPECT_EQ(report.value("error_statuses", -1), 0);
  EXPECT_GT(report.value("readings_stored", 0), 0);  // seen on the live feed
  EXPECT_GE(report.value("feed_connects", 0), 2);    // it reconnected after the restart too
}

TEST_F(BlynkEndToEnd, ScriptsUpdateAndReadPinsOverTheHttpApiOfBothServerGenerations) {
  const std::string& token = tokens_.at("bk-3");
  // Blynk IoT's form: every pin of a period in one request makes one reading.
  auto updated = get("/external/api/update?token=" + token + "&V0=231.5&V1=2&V2=400&V3=462&V4=0.866&V5=1.25");
  EXPECT_EQ(updated.status, 200) << updated.describe();
  ASSERT_TRUE(wait_until([&] { return stored("bk-3") == 1; }, 5s));
  auto live = server_->ingest().live_state("bk-3");
  ASSERT_TRUE(live && live->last_reading);
  EXPECT_DOUBLE_EQ(live->last_reading->vrms, 231.5);
  EXPECT_DOUBLE_EQ(live->last_reading->e_import_wh, 1250);
  // The archived server's form, one pin per request: the period ends after the quiet time.
  EXPECT_EQ(get("/" + token + "/update/V0?value=229").status, 200);
  EXPECT_EQ(get("/" + token + "/update/V2?value=100").status, 200);
  ASSERT_TRUE(wait_until([&] { return stored("bk-3") == 2; }, 5s));
  const auto v0 = get("/" + token + "/get/V0");
  EXPECT_EQ(v0.status, 200);
  EXPECT_EQ(v0.body, "[\"229.000\"]");
  EXPECT_EQ(get("/external/api/get?token=" + token + "&V2").body, "100.000");
  EXPECT_EQ(get("/external/api/isHardwareConnected?token=" + token).body, "false");
  EXPECT_EQ(get("/external/api/update?token=" + token + "&V1=nan").status, 400);
  EXPECT_EQ(get("/" + std::string(32, 'z') + "/get/V0").status, 401);
  EXPECT_EQ(get("/external/api/get?token=wrong&V0").status, 401);
}

// A raw socket: the first frame must be a login, and a wrong token is refused with the protocol's status 9.
TEST_F(BlynkEndToEnd, AWrongTokenAndACommandBeforeLoginAreRefusedThenClosed) {
  namespace asio = boost::asio;
  asio::io_context io;
  auto exchange = [&](const std::string& frame) {
    asio::ip::tcp::socket socket(io);
    socket.connect({asio::ip::make_address("127.0.0.1"), config_.blynk.port});
    asio::write(socket, asio::buffer(frame));
    std::string answer(5, '\0');
    asio::read(socket, asio::buffer(answer));
    boost::system::error_code ec;
    char more = 0;
    asio::read(socket, asio::buffer(&more, 1), ec);  // then the server closes
    EXPECT_EQ(ec, asio::error::eof);
    return answer;
  };
  const std::string token(32, 'x');
  EXPECT_EQ(exchange(std::string("\x1d\x00\x01\x00\x20", 5) + token), std::string("\x00\x00\x01\x00\x09", 5));
  EXPECT_EQ(exchange(std::string("\x06\x00\x07\x00\x00", 5)), std::string("\x00\x00\x07\x00\x05", 5));
  const auto stats = server_->blynk()->stats();
  EXPECT_EQ(stats.logins_failed, 1u);
  EXPECT_EQ(stats.refused.at("invalid_token"), 1u);
  EXPECT_EQ(stats.refused.at("not_authenticated"), 1u);
}

// A device on the TLS port that verifies the server's certificate (pinned, as an ESP32 sketch with
// BlynkSimpleEsp32_SSL.h does), logs in as the meter with its own pin map, writes its pins, and receives a
// relay command; the HTTP API reads its pins through the same map.
TEST_F(BlynkEndToEnd, ADeviceOnTheTlsPortWithItsOwnPinMapLogsInWritesAndGetsItsRelayCommand) {
  namespace asio = boost::asio;
  namespace ssl = asio::ssl;
  asio::io_context io;
  ssl::context context(ssl::context::tls_client);
  context.add_certificate_authority(asio::buffer(certificate_pem_));
  context.set_verify_mode(ssl::verify_peer);
  ssl::stream<asio::ip::tcp::socket> device(io, context);
  device.set_verify_callback(ssl::host_name_verification("127.0.0.1"));
  device.next_layer().connect({asio::ip::make_address("127.0.0.1"), config_.blynk.tls_port});
  device.handshake(ssl::stream_base::client);

  const auto frame = [](uint8_t command, uint16_t id, const std::string& body) {
    std::string f = {static_cast<char>(command), static_cast<char>(id >> 8), static_cast<char>(id & 0xff),
                     static_cast<char>(body.size() >> 8), static_cast<char>(body.size() & 0xff)};
    return f + body;
  };
  const auto read_frame = [&] {
    std::string header(5, '\0');
    asio::read(device, asio::buffer(header));
    const std::size_t length = (static_cast<uint8_t>(header[3]) << 8) | static_cast<uint8_t>(header[4]);
    std::string body(static_cast<uint8_t>(header[0]) == 0 ? 0 : length, '\0');  // a response's "length" is a status
    if (!body.empty()) asio::read(device, asio::buffer(body));
    return std::make_pair(header, body);
  };
  asio::write(device, asio::buffer(frame(29, 1, tokens_.at(kOwnMapMeter))));
  const auto login = read_frame();
  ASSERT_EQ(login.first, std::string("\x00\x00\x01\x00\xc8", 5));  // status 200 on id 1

  using namespace std::string_literals;
  // V0 carries voltage in the default map but nothing in this meter's: 999 must not appear.
  asio::write(device, asio::buffer(frame(20, 2,
                                         "vw\0"s
                                         "0\0"s
                                         "999") +
                                   frame(20, 3,
                                         "vw\0"s
                                         "20\0"s
                                         "231.25") +
                                   frame(20, 4,
                                         "vw\0"s
                                         "7\0"s
                                         "640")));
  ASSERT_TRUE(wait_until([&] { return stored(kOwnMapMeter) >= 1; }, 10s));
  const auto live = server_->ingest().live_state(kOwnMapMeter);
  ASSERT_TRUE(live && live->last_reading);
  EXPECT_DOUBLE_EQ(live->last_reading->vrms, 231.25);
  EXPECT_DOUBLE_EQ(live->last_reading->p_w, 640);
  EXPECT_EQ(get("/external/api/get?token=" + tokens_.at(kOwnMapMeter) + "&V7").body, "640.000");
  EXPECT_EQ(get("/external/api/get?token=" + tokens_.at(kOwnMapMeter) + "&V0").status, 400);  // not mapped

  const json sent =
      api("POST", "/api/v1/meters/"s + kOwnMapMeter + "/commands", R"({"kind": "relay_off", "reason": "tls e2e"})");
  ASSERT_TRUE(sent.contains("command")) << sent.dump();
  const auto command = read_frame();
  EXPECT_EQ(static_cast<uint8_t>(command.first[0]), 20);
  EXPECT_EQ(command.second,
            "vw\0"s
            "10\0"s
            "0");
  // The device's echo of the pin acknowledges the command.
  asio::write(device, asio::buffer(frame(20, 5,
                                         "vw\0"s
                                         "10\0"s
                                         "0")));
  const std::string command_id = sent["command"]["id"];
  std::string state;
  EXPECT_TRUE(wait_until(
      [&] {
        state = api("GET", "/api/v1/meters/"s + kOwnMapMeter + "/commands/" + command_id)["command"].value("state", "");
        return state == "acked";
      },
      10s))
      << state;

  // A client that does not trust the certificate gets no session.
  ssl::context untrusting(ssl::context::tls_client);
  untrusting.set_default_verify_paths();
  untrusting.set_verify_mode(ssl::verify_peer);
  ssl::stream<asio::ip::tcp::socket> stranger(io, untrusting);
  stranger.next_layer().connect({asio::ip::make_address("127.0.0.1"), config_.blynk.tls_port});
  boost::system::error_code ec;
  stranger.handshake(ssl::stream_base::client, ec);
  EXPECT_TRUE(ec) << "a self-signed certificate must not pass the system's trust store";
}

}  // namespace
}  // namespace wattguard
