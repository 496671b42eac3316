// Tests of HTTPS from the HTTP server over real loopback sockets: the real HttpServer with a self-signed certificate
// made by tls/ in front of the real ApiHandler (SQLite in a temporary directory), reached by Beast's TLS client that
// verifies the certificate against its file; and what must fail cleanly: plain HTTP on the HTTPS port, a client
// that never says ClientHello, a client that does not trust the certificate, and bad certificate files.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "server/api/api_test_fixture.h"
#include "server/api/beast_names.h"
#include "wattguard/api/http_server.h"
#include "wattguard/tls/certificate_files.h"
#include "wattguard/tls/self_signed.h"

namespace wattguard::api {
namespace {

using namespace beast_names;  // NOLINT: the Beast short names, in this test only
namespace ssl = net::ssl;
using nlohmann::json;

constexpr int64_t kNowMs = 1'780'000'000'000;

struct Reply {
  int status = 0;  // 0: no answer (the handshake or the connection failed)
  std::string body;
  std::string set_cookie;  // the whole header value
  std::string error;
};

// A client context that trusts only `ca_file` (the server's self-signed certificate) and checks the name.
std::unique_ptr<ssl::context> client_context(const std::string& ca_file) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  if (!ca_file.empty()) ctx->load_verify_file(ca_file);
  ctx->set_verify_mode(ssl::verify_peer);
  return ctx;
}

// One HTTPS request on a fresh connection, the certificate verified against `ca_file` and the name 127.0.0.1.
Reply https_request(uint16_t port, const std::string& ca_file, const std::string& method, const std::string& target,
                    const std::vector<std::pair<std::string, std::string>>& headers = {},
                    const std::string& body = "") {
  Reply r;
  net::io_context ioc;
  auto ctx = client_context(ca_file);
  beast::ssl_stream<beast::tcp_stream> stream(ioc, *ctx);
  stream.set_verify_callback(ssl::host_name_verification("127.0.0.1"));
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
  beast::error_code ec;
  beast::get_lowest_layer(stream).connect(Tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
  if (!ec) stream.handshake(ssl::stream_base::client, ec);
  if (ec) {
    r.error = ec.message();
    return r;
  }
  http::request<http::string_body> req(http::string_to_verb(method), target, 11);
  req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  for (const auto& [k, v] : headers) req.set(k, v);
  if (!body.empty()) {
    req.body() = body;
    req.prepare_payload();
  }
  http::write(stream, req, ec);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  if (!ec) http::read(stream, buffer, res, ec);
  if (ec) {
    r.error = ec.message();
    return r;
  }
  r.status = static_cast<int>(res.result_int());
  r.body = res.body();
  if (const auto it = res.find(http::field::set_cookie); it != res.end()) {
    r.set_cookie = std::string(it->value().data(), it->value().size());
  }
  return r;
}

// A blocking TCP connection that speaks no TLS; reads give up after `read_timeout`.
class PlainClient {
 public:
  explicit PlainClient(uint16_t port, std::chrono::milliseconds read_timeout = std::chrono::milliseconds(3000))
      : socket_(ioc_) {
    beast::error_code ec;
    socket_.connect(Tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(read_timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((read_timeout.count() % 1000) * 1000);
    setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  void send(const std::string& bytes) {
    beast::error_code ec;
    net::write(socket_, net::buffer(bytes), ec);
  }
  // Everything the server sends until it closes (EOF or reset); `closed` false when the read timed out first.
  std::string read_all(bool& closed) {
    std::string got;
    std::array<char, 512> chunk{};
    for (;;) {
      beast::error_code ec;
      const std::size_t n = socket_.read_some(net::buffer(chunk), ec);
      got.append(chunk.data(), n);
      if (ec) {
        closed = ec == net::error::eof || ec == net::error::connection_reset;
        return got;
      }
    }
  }

 private:
  net::io_context ioc_;
  Tcp::socket socket_;
};

class HttpsServerTest : public ApiFixture {
 protected:
  void SetUp() override {
    open_stores(kNowMs);
    ASSERT_TRUE(auth_->add_user("carol", Role::kConsumer, "carol-password", PasswordCost::kMin, kNowMs / 1000).ok());
    start_api(ApiDeps{}, [] { return kNowMs; });
    cert_ = dir_.file("http-cert.pem");
    key_ = dir_.file("http-key.pem");
    auto made = tls::ensure_self_signed(cert_, key_, tls::SelfSignedRequest{});
    ASSERT_TRUE(made.ok()) << made.error().to_string();
    options_.port = 0;
    options_.tls_cert_file = cert_;
    options_.tls_key_file = key_;
  }

  Expected<void> try_start() {
    server_ = std::make_unique<HttpServer>(
        options_, [this](const HttpRequest& r) { return api_->handle(r); },
        [this](const HttpRequest& r) { return api_->upgrade(r); }, hub_);
    server_->set_header_check([this](const HttpRequest& r) { return api_->check_header(r); });
    return server_->start();
  }
  void start_server() {
    auto started = try_start();
    ASSERT_TRUE(started.ok()) << started.error().to_string();
    ASSERT_TRUE(server_->https());
  }

  void TearDown() override {
    if (server_) server_->stop();
    ApiFixture::TearDown();
  }

  bool wait_for_connections(int n) {
    for (int i = 0; i < 500; ++i) {
      if (server_->open_connections() == n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  std::string cert_, key_;
  HttpServerOptions options_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpsServerTest, HealthAndAnAuthenticatedCallOverTlsVerifiedAgainstTheCertificate) {
  start_server();
  const Reply health = https_request(server_->port(), cert_, "GET", "/healthz");
  ASSERT_EQ(health.status, 200) << health.error;
  EXPECT_EQ(health.body, "ok");
  EXPECT_EQ(https_request(server_->port(), cert_, "GET", "/api/v1/meters").status, 401);
  const Reply meters =
      https_request(server_->port(), cert_, "GET", "/api/v1/meters", {{"Authorization", "Bearer " + read_token_}});
  EXPECT_EQ(meters.status, 200) << meters.error << meters.body;
  EXPECT_TRUE(json::parse(meters.body, nullptr, false).contains("meters")) << meters.body;
}

TEST_F(HttpsServerTest, SessionCookieIsSecureOverTls) {
  start_server();
  // Over plain HTTP to a loopback host the cookie would not be Secure (auth.cookie_secure = "auto").
  const Reply r =
      https_request(server_->port(), cert_, "POST", "/api/v1/session", {{"Content-Type", "application/json"}},
                    json{{"name", "carol"}, {"password", "carol-password"}}.dump());
  ASSERT_EQ(r.status, 200) << r.error << r.body;
  EXPECT_NE(r.set_cookie.find("; Secure"), std::string::npos) << r.set_cookie;
  EXPECT_NE(r.set_cookie.find("HttpOnly"), std::string::npos) << r.set_cookie;
}

TEST_F(HttpsServerTest, ClientThatTrustsAnotherCertificateRefusesTheServer) {
  start_server();
  const std::string other_cert = dir_.file("other-cert.pem");
  ASSERT_TRUE(tls::ensure_self_signed(other_cert, dir_.file("other-key.pem"), tls::SelfSignedRequest{}).ok());
  const Reply r = https_request(server_->port(), other_cert, "GET", "/healthz");
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.error.empty());
  // The server's slot is given back.
  EXPECT_TRUE(wait_for_connections(0));
}

TEST_F(HttpsServerTest, WssLiveFeedDeliversAReading) {
  start_server();
  net::io_context ioc;
  auto ctx = client_context(cert_);
  websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws(ioc, *ctx);
  ws.next_layer().set_verify_callback(ssl::host_name_verification("127.0.0.1"));
  beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(10));
  beast::get_lowest_layer(ws).connect(Tcp::endpoint(net::ip::make_address("127.0.0.1"), server_->port()));
  ws.next_layer().handshake(ssl::stream_base::client);
  ws.set_option(websocket::stream_base::decorator(
      [this](websocket::request_type& req) { req.set(http::field::authorization, "Bearer " + read_token_); }));
  ws.handshake("127.0.0.1:" + std::to_string(server_->port()), "/api/v1/live");
  // The session subscribes just after the handshake's answer: wait for it, then publish as the live publisher does.
  for (int i = 0; i < 300 && hub_.stats().clients == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(hub_.stats().clients, 1u);
  const std::string reading = R"({"type":"reading","meter":"m1","seq":7,"p_w":1234.5})";
  hub_.publish("m1", std::make_shared<const std::string>(reading));
  beast::flat_buffer buffer;
  ws.read(buffer);
  const json frame = json::parse(beast::buffers_to_string(buffer.data()), nullptr, false);
  ASSERT_TRUE(frame.is_array()) << beast::buffers_to_string(buffer.data());
  ASSERT_EQ(frame.size(), 1u);
  EXPECT_EQ(frame[0]["seq"], 7);
  EXPECT_EQ(frame[0]["meter"], "m1");
  ws.close(websocket::close_code::normal);
}

TEST_F(HttpsServerTest, PlainHttpOnTheHttpsPortIsAnswered400AndFreesItsSlot) {
  options_.max_connections_per_address = 1;
  start_server();
  for (int i = 0; i < 3; ++i) {  // with one slot per address, a leaked slot would refuse the next round
    PlainClient c(server_->port());
    c.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    bool closed = false;
    const std::string answer = c.read_all(closed);
    EXPECT_TRUE(closed);
    EXPECT_EQ(answer.rfind("HTTP/1.1 400 ", 0), 0u) << answer;
    EXPECT_NE(answer.find("https://"), std::string::npos) << answer;
    ASSERT_TRUE(wait_for_connections(0));
  }
  EXPECT_EQ(https_request(server_->port(), cert_, "GET", "/healthz").status, 200);
}

TEST_F(HttpsServerTest, ClientThatNeverHandshakesIsDroppedAtTheHeaderTimeoutAndHoldsASlotUntilThen) {
  options_.header_timeout_s = 1;
  options_.max_connections_per_address = 2;
  start_server();
  PlainClient first(server_->port(), std::chrono::milliseconds(4000));
  PlainClient second(server_->port(), std::chrono::milliseconds(4000));
  ASSERT_TRUE(wait_for_connections(2));
  // The silent handshakes count against the address's limit: a third connection is closed at once.
  const Reply refused = https_request(server_->port(), cert_, "GET", "/healthz");
  EXPECT_EQ(refused.status, 0);
  const auto t0 = std::chrono::steady_clock::now();
  bool closed = false;
  EXPECT_TRUE(first.read_all(closed).empty());
  EXPECT_TRUE(closed);  // dropped by the server, not by our read timeout
  const double waited_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(waited_s, 3.0);
  ASSERT_TRUE(wait_for_connections(0));
  EXPECT_EQ(https_request(server_->port(), cert_, "GET", "/healthz").status, 200);
}

TEST_F(HttpsServerTest, MissingCertificateRefusesToStartNamingTheSettingAndFile) {
  options_.tls_cert_file = dir_.file("no-such-cert.pem");
  const auto started = try_start();
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().field, "http.tls_cert_file");
  EXPECT_NE(started.error().to_string().find("no-such-cert.pem"), std::string::npos) << started.error().to_string();
}

TEST_F(HttpsServerTest, KeyOfAnotherCertificateRefusesToStartNamingTheKeyFile) {
  const std::string other_key = dir_.file("other-key.pem");
  ASSERT_TRUE(tls::ensure_self_signed(dir_.file("other-cert.pem"), other_key, tls::SelfSignedRequest{}).ok());
  options_.tls_key_file = other_key;
  const auto started = try_start();
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().field, "http.tls_key_file");
  EXPECT_NE(started.error().to_string().find("other-key.pem"), std::string::npos) << started.error().to_string();
}

TEST_F(HttpsServerTest, CertificateWithoutKeyRefusesToStart) {
  options_.tls_key_file.clear();
  const auto started = try_start();
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().field, "http.tls_key_file");
}

}  // namespace
}  // namespace wattguard::api
