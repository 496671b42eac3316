// Integration tests over real sockets: a Mosquitto broker on a free loopback port, the whole
// server (SQLite store on a temp file, ingest, HTTP/WebSocket API) and Beast as the client.
#include "wattguard/serve/server.h"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "server/api/beast_names.h"
#include "wattguard/api/http_server.h"
#include "wattguard/base/clock.h"
#include "wattguard/broker/broker_process.h"
#include "wattguard/storage/sqlite_store.h"
#include "wattguard/test_support/temp_dir.h"
#include "wattguard/test_support/test_meters.h"

namespace wattguard::serve {
namespace {

using namespace beast_names;  // NOLINT: the Beast short names, in this file only
using nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;
using test_support::TempDir;
using test_support::TestMeters;

struct Reply {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  json j() const { return json::parse(body, nullptr, false); }
};

// One HTTP/1.1 request on a new connection.
Reply request(uint16_t port, http::verb method, const std::string& target, const std::string& body = "",
              const Headers& headers = {}) {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(Tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  for (const auto& [k, v] : headers) req.set(k, v);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.skip(method == http::verb::head);  // a HEAD answer announces a body it does not send
  http::read(stream, buffer, parser);
  const auto& res = parser.get();
  Reply reply;
  reply.status = static_cast<int>(res.result_int());
  reply.body = res.body();
  for (const auto& f : res) {
    reply.headers[api::ascii_lower(std::string(f.name_string().data(), f.name_string().size()))] =
        std::string(f.value().data(), f.value().size());
  }
  beast::error_code ignored;
  stream.socket().shutdown(Tcp::socket::shutdown_both, ignored);
  return reply;
}

// A WebSocket client with reads bounded in time (a test must fail, not hang).
class LiveClient {
 public:
  LiveClient(uint16_t port, const std::string& target, const Headers& headers, beast::error_code* handshake_ec)
      : ws_(ioc_) {
    beast::get_lowest_layer(ws_).connect(Tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    ws_.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
      for (const auto& [k, v] : headers) req.set(k, v);
    }));
    ws_.handshake(response_, "127.0.0.1:" + std::to_string(port), target, *handshake_ec);
  }
  ~LiveClient() {
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

  // The next frame's messages, or an empty array after `timeout`.
  json next(std::chrono::milliseconds timeout) {
    beast::flat_buffer buffer;
    bool done = false;
    beast::error_code ec;
    ws_.async_read(buffer, [&](beast::error_code e, std::size_t) {
      ec = e;
      done = true;
    });
    ioc_.restart();
    ioc_.run_for(timeout);
    if (!done) {
      beast::get_lowest_layer(ws_).socket().cancel();
      ioc_.restart();
      ioc_.run();
      return json::array();
    }
    if (ec) return json::array();
    return json::parse(beast::buffers_to_string(buffer.data()), nullptr, false);
  }

  // Messages until one satisfies `pred` (returned), or null after `timeout` overall.
  json wait_for(const std::function<bool(const json&)>& pred, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      const json frame = next(left);
      for (const auto& m : frame) {
        received_.push_back(m);
        if (pred(m)) return m;
      }
    }
    return nullptr;
  }
  const std::vector<json>& received() const { return received_; }

 private:
  net::io_context ioc_;
  websocket::stream<beast::tcp_stream> ws_;
  websocket::response_type response_;
  std::vector<json> received_;
};

protocol::Reading make_reading(const std::string& meter, uint64_t seq, int64_t time_ms, double p_w) {
  protocol::Reading r;
  r.meter_id = meter;
  r.seq = seq;
  r.time_ms = time_ms;
  r.vrms = 231.5;
  r.irms = p_w / 231.5;
  r.p_w = p_w;
  r.s_va = p_w;
  r.pf = 1.0;
  r.freq_hz = 50.0;
  r.e_import_wh = 100.0 + static_cast<double>(seq);
  r.flags = protocol::kFlagLoadPresent;
  return r;
}

// One server + broker for the whole suite: starting them is the slow part.
class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    published_ = 0;
    next_seq_ = 1;
    dir_ = new TempDir();
    auto broker_started = broker::BrokerProcess::start(broker::anonymous_setup(dir_->path() / "broker"));
    ASSERT_TRUE(broker_started.ok()) << broker_started.error().to_string();
    broker_ = std::move(broker_started).value().release();
    ServerConfig config;
    config.http.port = 0;
    config.http.static_dir = dir_->file("web");
    config.http.max_body_bytes = 4096;
    config.http.max_import_bytes = 16384;
    config.http.max_header_bytes = 2048;
    config.mqtt.port = broker_->port();
    config.mqtt.username = "";
    config.mqtt.client_id = "api-test-" + std::to_string(::getpid());
    config.storage.data_dir = dir_->file("data");
    config.auth.password_cost = "min";
    config.auth.login_delay_base_ms = 50;
    config.auth.login_delay_max_ms = 200;
    config.ingest.flush_interval_ms = 20;
    config.log.level = "warn";
    apply_log_level(config);
    std::filesystem::create_directories(dir_->file("web"));
    std::ofstream(dir_->file("web/index.html")) << "<!doctype html><title>wattguard</title>";
    std::filesystem::create_directories(config.storage.data_dir);
    {
      // Provision before the server starts (as `meters provision` would).
      storage::SqliteOptions so;
      so.path = config.database_path();
      auto store = storage::SqliteStore::open(so);
      ASSERT_TRUE(store.ok()) << store.error().message;
      ASSERT_TRUE((*store)->add_meter({"m1", "House 1", "north", "carol", 0}).ok());
      ASSERT_TRUE((*store)->add_meter({"m2", "House 2", "south", "dave", 0}).ok());
      ASSERT_TRUE((*store)->add_meter({"m3", "Silent", "south", "", 0}).ok());
      ASSERT_TRUE((*store)->add_meter({"m4", "History", "east", "", 0}).ok());
    }
    auto started = Server::start(config);
    ASSERT_TRUE(started.ok()) << config_error_text(started.error());
    server_ = std::move(started).value().release();
    port_ = server_->http_port();
    for (const auto& [name, role] : std::vector<std::pair<std::string, api::Role>>{{"olga", api::Role::kOperator},
                                                                                   {"carol", api::Role::kConsumer}}) {
      ASSERT_TRUE(server_->auth().add_user(name, role, name + "-password", api::PasswordCost::kMin, 1).ok());
    }
    admin_ = new std::string(server_->auth().create_token(api::TokenScope::kAdmin, "test", 1));
    read_ = new std::string(server_->auth().create_token(api::TokenScope::kRead, "test", 1));
    meters_ = new TestMeters(broker_->port(), {"m1", "m2"});
    // Wait until the server's MQTT session is up, so nothing published below is missed.
    for (int i = 0; i < 500 && !server_->ingest().connected(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_TRUE(server_->ingest().connected());
  }

  static void TearDownTestSuite() {
    delete meters_;
    if (server_ != nullptr) server_->stop();
    delete server_;
    delete broker_;
    delete admin_;
    delete read_;
    delete dir_;
  }

  static Reply get(const std::string& target, const std::string& token) {
    return request(port_, http::verb::get, target, "", {{"Authorization", "Bearer " + token}});
  }
  static Reply post(const std::string& target, const std::string& body, const Headers& headers) {
    return request(port_, http::verb::post, target, body, headers);
  }
  static Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

  // Polls health until `stored` readings are stored (the ingest path is asynchronous).
  static bool wait_stored(uint64_t stored) {
    for (int i = 0; i < 1000; ++i) {
      const json h = get("/api/v1/health", *read_).j();
      if (h["readings"]["stored"].get<uint64_t>() >= stored) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  static std::string sign_in(const std::string& name) {
    const Reply r = post("/api/v1/session", json{{"name", name}, {"password", name + "-password"}}.dump(), {});
    EXPECT_EQ(r.status, 200) << r.body;
    const std::string& cookie = r.headers.at("set-cookie");
    return cookie.substr(0, cookie.find(';'));
  }

  static inline TempDir* dir_ = nullptr;
  static inline broker::BrokerProcess* broker_ = nullptr;
  static inline Server* server_ = nullptr;
  static inline TestMeters* meters_ = nullptr;
  static inline std::string* admin_ = nullptr;
  static inline std::string* read_ = nullptr;
  static inline uint16_t port_ = 0;
  static inline uint64_t published_ = 0;  // valid readings published so far (across tests)
  static inline uint64_t next_seq_ = 1;
};

TEST_F(ServerTest, ReadingsPublishedOverMqttAreServed) {
  // m4 is this test's own meter, so the other tests' readings do not interfere.
  const int64_t t0 = system_now_ms() - 60'000;
  for (int i = 0; i < 10; ++i) {
    meters_->publish(make_reading("m4", 1 + i, t0 + i * 5000, 500.0 + i));
    ++published_;
  }
  ASSERT_TRUE(wait_stored(published_));
  const Reply meter = get("/api/v1/meters/m4", *read_);
  ASSERT_EQ(meter.status, 200) << meter.body;
  const json m = meter.j()["meter"];
  ASSERT_TRUE(m["last_reading"].is_object()) << m.dump();
  EXPECT_EQ(m["last_reading"]["time_ms"], t0 + 45000);
  EXPECT_DOUBLE_EQ(m["last_reading"]["p_w"].get<double>(), 509.0);
  EXPECT_EQ(m["status"], "online");

  const Reply series = get("/api/v1/meters/m4/readings?from=" + std::to_string(t0 / 1000) +
                               "&to=" + std::to_string(t0 / 1000 + 60) + "&step=5s",
                           *read_);
  ASSERT_EQ(series.status, 200) << series.body;
  EXPECT_EQ(series.j()["source"], "raw");
  EXPECT_EQ(series.j()["points"].size(), 10u);
}

TEST_F(ServerTest, WebSocketPushesNewReadingsWithMeterFilter) {
  beast::error_code ec;
  LiveClient all(port_, "/api/v1/live", bearer(*read_), &ec);
  ASSERT_FALSE(ec) << ec.message();
  LiveClient only_m2(port_, "/api/v1/live?meters=m2", bearer(*read_), &ec);
  ASSERT_FALSE(ec) << ec.message();
  // Let the server register both subscriptions before publishing.
  for (int i = 0; i < 200 && server_->hub().stats().clients < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const int64_t t = system_now_ms() - 1000;
  const uint64_t seq1 = next_seq_++;
  meters_->publish(make_reading("m1", seq1, t, 777.0));
  ++published_;
  ASSERT_TRUE(wait_stored(published_));
  meters_->publish(make_reading("m2", 1, t, 333.0));
  ++published_;

  const json got = all.wait_for(
      [&](const json& m) { return m["type"] == "reading" && m["meter_id"] == "m1" && m["reading"]["seq"] == seq1; },
      std::chrono::seconds(10));
  ASSERT_FALSE(got.is_null());
  EXPECT_DOUBLE_EQ(got["reading"]["p_w"].get<double>(), 777.0);

  const json m2 = only_m2.wait_for([](const json& m) { return m["type"] == "reading"; }, std::chrono::seconds(10));
  ASSERT_FALSE(m2.is_null());
  EXPECT_EQ(m2["meter_id"], "m2");  // m1's reading, published first, was not delivered to this client
  for (const auto& m : only_m2.received()) EXPECT_EQ(m["meter_id"], "m2");
}

TEST_F(ServerTest, WebSocketNeedsCredentialsAndSameOrigin) {
  // Refusals are plain HTTP answers to the upgrade request.
  const Headers upgrade = {{"Connection", "Upgrade"},
                           {"Upgrade", "websocket"},
                           {"Sec-WebSocket-Version", "13"},
                           {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}};
  Reply r = request(port_, http::verb::get, "/api/v1/live", "", upgrade);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.j()["error"]["code"], "unauthorized");
  beast::error_code ec;
  LiveClient anonymous(port_, "/api/v1/live", {}, &ec);
  EXPECT_TRUE(ec);  // and a WebSocket client sees the handshake fail

  const std::string carol = sign_in("carol");
  Headers foreign = upgrade;
  foreign.emplace_back("Cookie", carol);
  foreign.emplace_back("Origin", "https://evil.example");
  r = request(port_, http::verb::get, "/api/v1/live", "", foreign);
  EXPECT_EQ(r.status, 403);

  ec = {};
  LiveClient own(port_, "/api/v1/live", {{"Cookie", carol}, {"Origin", "http://127.0.0.1:" + std::to_string(port_)}},
                 &ec);
  ASSERT_FALSE(ec) << ec.message();
  for (int i = 0; i < 200 && server_->hub().stats().clients < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // carol owns m1 only: m2's reading must not reach her, m1's must.
  meters_->publish(make_reading("m2", 2, system_now_ms() - 500, 1.0));
  ++published_;
  ASSERT_TRUE(wait_stored(published_));
  const uint64_t seq = next_seq_++;
  meters_->publish(make_reading("m1", seq, system_now_ms() - 400, 2.0));
  ++published_;
  const json got = own.wait_for([](const json& m) { return m["type"] == "reading"; }, std::chrono::seconds(10));
  ASSERT_FALSE(got.is_null());
  EXPECT_EQ(got["meter_id"], "m1");
  EXPECT_EQ(got["reading"]["seq"], seq);
}

TEST_F(ServerTest, RelayCommandIsAcknowledgedByTheMeter) {
  beast::error_code ec;
  LiveClient live(port_, "/api/v1/live?meters=m1", bearer(*read_), &ec);
  ASSERT_FALSE(ec);
  const std::string olga = sign_in("olga");
  const Reply sent = post("/api/v1/meters/m1/commands", R"({"kind":"relay_off"})",
                          {{"Cookie", olga}, {"Origin", "http://127.0.0.1:" + std::to_string(port_)}});
  ASSERT_EQ(sent.status, 202) << sent.body;
  const std::string id = sent.j()["command"]["id"];
  json state;
  for (int i = 0; i < 1000; ++i) {
    state = get("/api/v1/meters/m1/commands/" + id, *read_).j()["command"];
    if (state["state"] == "acked") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(state["state"], "acked") << state.dump();
  EXPECT_EQ(state["relay"], "off");
  const json pushed = live.wait_for(
      [&](const json& m) {
        return m["type"] == "command" && m["command"]["id"] == id && m["command"]["state"] == "acked";
      },
      std::chrono::seconds(10));
  EXPECT_FALSE(pushed.is_null());
}

TEST_F(ServerTest, UnansweredCommandTimesOut) {
  const Reply sent = post("/api/v1/meters/m3/commands", R"({"kind":"ping","timeout_s":1})", bearer(*admin_));
  ASSERT_EQ(sent.status, 202) << sent.body;
  const std::string id = sent.j()["command"]["id"];
  json state;
  for (int i = 0; i < 1000; ++i) {
    state = get("/api/v1/meters/m3/commands/" + id, *read_).j()["command"];
    if (state["state"] == "timed_out") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(state["state"], "timed_out") << state.dump();
}

TEST_F(ServerTest, BadReadingsAreCountedPerReasonInHealth) {
  const json before = get("/api/v1/health", *read_).j();
  meters_->publish_raw("wattguard/v1/m1/reading", "{not json");
  auto r = make_reading("m1", next_seq_++, system_now_ms(), 10.0);
  r.vrms = 2000.0;
  meters_->publish(r);
  json h;
  for (int i = 0; i < 1000; ++i) {
    h = get("/api/v1/health", *read_).j();
    if (h["rejected"]["total"].get<uint64_t>() >= before["rejected"]["total"].get<uint64_t>() + 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(h["rejected"]["by_reason"]["malformed_json"].get<uint64_t>(),
            before["rejected"]["by_reason"]["malformed_json"].get<uint64_t>() + 1);
  EXPECT_EQ(h["rejected"]["by_reason"]["voltage_too_high"].get<uint64_t>(),
            before["rejected"]["by_reason"]["voltage_too_high"].get<uint64_t>() + 1);
  EXPECT_EQ(h["mqtt"]["connected"], true);
  EXPECT_EQ(h["status"], "ok");
}

TEST_F(ServerTest, ErrorCodesOverHttp) {
  Reply r = request(port_, http::verb::get, "/api/v1/meters");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.j()["error"]["code"], "unauthorized");
  r = get("/api/v1/meters", "wgt_wrong-token-0000000000");
  EXPECT_EQ(r.status, 401);
  r = post("/api/v1/meters/m1/commands", R"({"kind":"relay_off"})", bearer(*read_));
  EXPECT_EQ(r.status, 403);
  r = get("/api/v1/meters/ghost", *read_);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.j()["error"]["field"], "id");
  r = get("/api/v1/meters/m1/readings?from=soon", *read_);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.j()["error"]["field"], "from");
  EXPECT_EQ(r.headers["content-type"], "application/json");
}

TEST_F(ServerTest, SignInCookieAndFailedSignIn) {
  Reply bad = post("/api/v1/session", R"({"name":"carol","password":"wrong-password"})", {});
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(bad.j()["error"]["code"], "bad_credentials");
  // The delay has passed once the answer arrives, so a sequential retry is not refused.
  const std::string cookie = sign_in("carol");
  const Reply me = request(port_, http::verb::get, "/api/v1/session", "", {{"Cookie", cookie}});
  EXPECT_EQ(me.status, 200);
  EXPECT_EQ(me.j()["user"]["meters"], json::array({"m1"}));
  const Reply list = request(port_, http::verb::get, "/api/v1/meters", "", {{"Cookie", cookie}});
  ASSERT_EQ(list.j()["meters"].size(), 1u);
  EXPECT_EQ(request(port_, http::verb::get, "/api/v1/meters/m2", "", {{"Cookie", cookie}}).status, 404);
}

TEST_F(ServerTest, HttpLimitsAndKeepAlive) {
  // Body over http.max_body_bytes.
  Reply r = post("/api/v1/session", std::string(5000, 'x'), {});
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.j()["error"]["code"], "body_too_large");
  // The import routes take whole files: limited by http.max_import_bytes instead. A body between the
  // two limits reaches the import (which refuses its first bad row); one over it is a 413 naming it.
  std::string csv = "meter,time,kwh\n";
  while (csv.size() < 8000) csv += "nobody,1700000000,0.25\n";
  r = post("/api/v1/import/readings", csv, bearer(*admin_));
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.j()["error"]["code"], "body_too_large");
  while (csv.size() < 20000) csv += "nobody,1700000000,0.25\n";
  r = post("/api/v1/import/readings?x=1", csv, bearer(*admin_));
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("16384"), std::string::npos) << r.body;
  EXPECT_TRUE(api::is_bulk_import_target("/api/v1/topology"));
  EXPECT_FALSE(api::is_bulk_import_target("/api/v1/topologyx"));
  EXPECT_FALSE(api::is_bulk_import_target("/api/v1/session"));
  // Headers over http.max_header_bytes.
  r = request(port_, http::verb::get, "/api/v1/health", "", {{"X-Padding", std::string(3000, 'p')}});
  EXPECT_EQ(r.status, 431);

  // Several requests on one keep-alive connection.
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(Tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
  beast::flat_buffer buffer;
  for (int i = 0; i < 3; ++i) {
    http::request<http::string_body> req{http::verb::get, "/api/v1/health", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::authorization, "Bearer " + *read_);
    http::write(stream, req);
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_TRUE(res.keep_alive());
  }

  // Garbage instead of HTTP gets a 400 and the connection is closed.
  beast::tcp_stream raw(ioc);
  raw.connect(Tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
  net::write(raw, net::buffer(std::string("NOT HTTP AT ALL\r\n\r\n")));
  http::response<http::string_body> res;
  beast::flat_buffer b2;
  beast::error_code ec;
  http::read(raw, b2, res, ec);
  EXPECT_EQ(res.result_int(), 400u);
}

TEST_F(ServerTest, ServesTheWebUi) {
  Reply r = request(port_, http::verb::get, "/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "text/html; charset=utf-8");
  EXPECT_EQ(r.body, "<!doctype html><title>wattguard</title>");
  EXPECT_EQ(r.headers["x-content-type-options"], "nosniff");
  r = request(port_, http::verb::head, "/");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.headers["content-length"], "39");
}

// A certificate that cannot be loaded stops `serve` at start with the setting and the file in the message.
TEST(ServerStart, UnreadableHttpsCertificateRefusesToStartNamingTheFile) {
  TempDir dir("serve-tls");
  ServerConfig config;
  config.http.port = 0;
  config.http.tls_cert_file = dir.file("missing-cert.pem");
  config.http.tls_key_file = dir.file("missing-key.pem");
  config.mqtt.port = 1;  // nothing listens; the server never gets that far
  config.mqtt.username = "";
  config.storage.data_dir = dir.file("data");
  config.auth.password_cost = "min";
  auto started = Server::start(config);
  ASSERT_FALSE(started.ok());
  const std::string text = config_error_text(started.error());
  EXPECT_EQ(started.error().field, "http.tls_cert_file") << text;
  EXPECT_NE(text.find("missing-cert.pem"), std::string::npos) << text;
}

}  // namespace
}  // namespace wattguard::serve
