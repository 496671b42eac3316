// Tests of the HTTP server's defences over real sockets: the real HttpServer in front of the real ApiHandler
// (SQLite in a temporary directory), with raw TCP and WebSocket clients bound to chosen loopback addresses.
#include "wattguard/api/http_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "server/api/api_test_fixture.h"
#include "server/api/beast_names.h"
#include "server/api/session_routes.h"

namespace wattguard::api {
namespace {

using namespace beast_names;  // NOLINT: the Beast short names, in this test only
using nlohmann::json;

constexpr int64_t kNowMs = 1'780'000'000'000;

// A blocking TCP connection from `local` (127.0.0.1, 127.0.0.2, ...) whose reads give up after `read_timeout`.
class RawClient {
 public:
  RawClient(uint16_t port, const std::string& local = "127.0.0.1",
            std::chrono::milliseconds read_timeout = std::chrono::milliseconds(3000))
      : socket_(ioc_) {
    socket_.open(Tcp::v4());
    socket_.bind(Tcp::endpoint(net::ip::make_address(local), 0));
    beast::error_code ec;
    socket_.connect(Tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
    connected_ = !ec;
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(read_timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((read_timeout.count() % 1000) * 1000);
    setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  bool connected() const { return connected_; }

  bool send(const std::string& bytes) {
    beast::error_code ec;
    net::write(socket_, net::buffer(bytes), ec);
    return !ec;
  }

  struct Reply {
    int status = 0;  // 0: the connection ended or the read timed out first
    std::string body;
    std::string set_cookie;
  };
  Reply read_reply() {
    http::response<http::string_body> res;
    beast::error_code ec;
    http::read(socket_, buffer_, res, ec);
    Reply r;
    if (ec) return r;
    r.status = static_cast<int>(res.result_int());
    r.body = res.body();
    if (const auto it = res.find(http::field::set_cookie); it != res.end()) {
      const std::string value(it->value().data(), it->value().size());
      r.set_cookie = value.substr(0, value.find(';'));
    }
    return r;
  }
  int read_status() { return read_reply().status; }

  // True when the server closed the connection (EOF or reset) before `read_timeout` passed.
  bool closed_by_server() {
    std::array<char, 256> scratch{};
    beast::error_code ec;
    for (;;) {
      socket_.read_some(net::buffer(scratch), ec);
      if (ec) return ec == net::error::eof || ec == net::error::connection_reset;
    }
  }

 private:
  net::io_context ioc_;
  Tcp::socket socket_;
  beast::flat_buffer buffer_;
  bool connected_ = false;
};

std::string request_text(const std::string& method, const std::string& target, const std::string& body,
                         const std::vector<std::string>& headers = {}) {
  std::string text = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& h : headers) text += h + "\r\n";
  if (!body.empty() || method == "POST") text += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return text + "\r\n" + body;
}

// A WebSocket client of /api/v1/live whose reads are bounded in time.
class LiveFeedClient {
 public:
  LiveFeedClient(uint16_t port, const std::vector<std::pair<std::string, std::string>>& headers) : ws_(ioc_) {
    beast::get_lowest_layer(ws_).connect(Tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    ws_.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
      for (const auto& [k, v] : headers) req.set(k, v);
    }));
    ws_.handshake("127.0.0.1:" + std::to_string(port), "/api/v1/live", handshake_ec_);
  }

  bool open() const { return !handshake_ec_; }

  // Reads until the server closes the stream or `timeout` passes; the close frame's reason, or nullopt.
  std::optional<std::string> wait_for_close(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      beast::flat_buffer buffer;
      bool done = false;
      beast::error_code ec;
      ws_.async_read(buffer, [&](beast::error_code e, std::size_t) {
        ec = e;
        done = true;
      });
      ioc_.restart();
      ioc_.run_until(deadline);
      if (!done) {
        beast::get_lowest_layer(ws_).socket().cancel();
        ioc_.restart();
        ioc_.run();
        return std::nullopt;
      }
      if (ec == websocket::error::closed) return std::string(ws_.reason().reason.c_str());
      if (ec) return std::nullopt;
    }
    return std::nullopt;
  }

 private:
  net::io_context ioc_;
  websocket::stream<beast::tcp_stream> ws_;
  beast::error_code handshake_ec_;
};

class HttpServerTest : public ApiFixture {
 protected:
  void SetUp() override {
    open_stores(kNowMs);
    ASSERT_TRUE(auth_->add_user("carol", Role::kConsumer, "carol-password", PasswordCost::kMin, kNowMs / 1000).ok());
    ASSERT_TRUE(auth_->add_user("admin", Role::kAdmin, "admin-password", PasswordCost::kMin, kNowMs / 1000).ok());
    start_api(ApiDeps{}, [] { return kNowMs; });
    options_.port = 0;
    options_.request_timeout_s = 20;
    options_.header_timeout_s = 20;
  }

  void start_server() {
    server_ = std::make_unique<HttpServer>(
        options_, [this](const HttpRequest& r) { return api_->handle(r); },
        [this](const HttpRequest& r) { return api_->upgrade(r); }, hub_);
    server_->set_header_check([this](const HttpRequest& r) { return api_->check_header(r); });
    auto started = server_->start();
    ASSERT_TRUE(started.ok()) << started.error().to_string();
  }

  void TearDown() override {
    if (server_) server_->stop();
    ApiFixture::TearDown();
  }

  // Signs in over HTTP from `local`, forwarded for `forwarded` when not empty.
  RawClient::Reply http_sign_in(const std::string& name, const std::string& password,
                                const std::string& local = "127.0.0.1", const std::string& forwarded = "") {
    RawClient c(server_->port(), local);
    std::vector<std::string> headers = {"Content-Type: application/json"};
    if (!forwarded.empty()) headers.push_back("X-Forwarded-For: " + forwarded);
    c.send(request_text("POST", "/api/v1/session", json{{"name", name}, {"password", password}}.dump(), headers));
    return c.read_reply();
  }

  // "wg_session=..." of a new session of `name` (password "<name>-password").
  std::string cookie_for(const std::string& name) {
    const auto r = http_sign_in(name, name + "-password");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.set_cookie;
  }

  HttpServerOptions options_;
  std::unique_ptr<HttpServer> server_;
};

// Waits (bounded) until the server counts `n` open connections: accepting is asynchronous.
bool wait_for_connections(const HttpServer& server, int n) {
  for (int i = 0; i < 300; ++i) {
    if (server.open_connections() == n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST_F(HttpServerTest, UnauthenticatedLargeUploadIsRefusedBeforeItsBodyIsSent) {
  start_server();
  RawClient c(server_->port());
  // The header announces 60 MB (under the import limit); not one byte of the body is sent. The old server waited
  // for the whole body before it looked at the credentials.
  ASSERT_TRUE(
      c.send("POST /api/v1/import/readings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\n"
             "Content-Length: 60000000\r\n\r\n"));
  EXPECT_EQ(c.read_status(), 401);
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(HttpServerTest, CrossSiteUploadWithASessionIsRefusedBeforeItsBodyIsSent) {
  start_server();
  const std::string cookie = cookie_for("admin");
  RawClient c(server_->port());
  ASSERT_TRUE(
      c.send("POST /api/v1/import/readings HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://evil.example\r\n"
             "Cookie: " +
             cookie + "\r\nContent-Type: text/csv\r\nContent-Length: 60000000\r\n\r\n"));
  EXPECT_EQ(c.read_status(), 403);
}

TEST_F(HttpServerTest, UnknownMethodIsAnswered405NotAskedToSignIn) {
  start_server();
  RawClient c(server_->port());
  ASSERT_TRUE(c.send(request_text("BREW", "/api/v1/meters", "")));
  EXPECT_EQ(c.read_status(), 405);
}

TEST_F(HttpServerTest, PublicRoutesStillReadTheirBodies) {
  start_server();
  EXPECT_EQ(http_sign_in("carol", "carol-password").status, 200);
  RawClient c(server_->port());
  ASSERT_TRUE(c.send(request_text("GET", "/healthz", "")));
  EXPECT_EQ(c.read_status(), 200);
}

TEST_F(HttpServerTest, OneAddressCannotHoldEveryConnection) {
  options_.max_connections_per_address = 4;
  start_server();
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 4; ++i) held.push_back(std::make_unique<RawClient>(server_->port(), "127.0.0.1"));
  ASSERT_TRUE(wait_for_connections(*server_, 4));
  RawClient fifth(server_->port(), "127.0.0.1");
  EXPECT_TRUE(fifth.closed_by_server());
  // Another address is served meanwhile.
  RawClient other(server_->port(), "127.0.0.2");
  ASSERT_TRUE(other.send(request_text("GET", "/healthz", "")));
  EXPECT_EQ(other.read_status(), 200);
  // Closing one frees its place.
  held.pop_back();
  ASSERT_TRUE(wait_for_connections(*server_, 4));
  RawClient again(server_->port(), "127.0.0.1");
  ASSERT_TRUE(again.send(request_text("GET", "/healthz", "")));
  EXPECT_EQ(again.read_status(), 200);
}

TEST_F(HttpServerTest, HeaderTrickledByteByByteIsCutOffAtTheHeaderTimeout) {
  options_.header_timeout_s = 1;
  options_.request_timeout_s = 30;
  start_server();
  RawClient c(server_->port(), "127.0.0.1", std::chrono::milliseconds(1500));
  const std::string header = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
  // Each byte comes well within any per-read timeout, but the header as a whole takes 2 s.
  for (int i = 0; i < 10; ++i) {
    c.send(std::string(1, header[static_cast<std::size_t>(i)]));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(HttpServerTest, AttackerFailuresFromAnotherAddressDoNotLockTheUserOut) {
  start_server();
  int refused = 0;
  for (int i = 0; i < 6; ++i) {
    const int status = http_sign_in("admin", "guess-" + std::to_string(i), "127.0.0.2").status;
    EXPECT_TRUE(status == 401 || status == 429) << status;
    refused += status == 429 ? 1 : 0;
  }
  EXPECT_GT(refused, 0);  // the guesser is throttled...
  // ...and the real admin, from an address that has not failed, signs in at once.
  EXPECT_EQ(http_sign_in("admin", "admin-password", "127.0.0.1").status, 200);
}

TEST_F(HttpServerTest, BehindATrustedProxyTheForwardedAddressIsThrottled) {
  options_.trusted_proxies = {"127.0.0.1"};
  start_server();
  EXPECT_EQ(http_sign_in("admin", "wrong-guess", "127.0.0.1", "10.6.6.6").status, 401);
  // The guesser's forwarded address waits; the admin behind the same proxy does not.
  EXPECT_EQ(http_sign_in("admin", "admin-password", "127.0.0.1", "10.6.6.6").status, 429);
  EXPECT_EQ(http_sign_in("admin", "admin-password", "127.0.0.1", "10.6.6.6, 10.0.0.1").status, 200);
  // A peer that is not a trusted proxy cannot pick its address with the header.
  EXPECT_EQ(http_sign_in("admin", "wrong-guess", "127.0.0.2", "10.9.9.9").status, 401);
  EXPECT_EQ(http_sign_in("admin", "admin-password", "127.0.0.2", "10.0.0.2").status, 429);
}

TEST_F(HttpServerTest, SignInMustBeSameOriginJson) {
  start_server();
  const std::string body = json{{"name", "carol"}, {"password", "carol-password"}}.dump();
  RawClient cross(server_->port());
  cross.send(request_text("POST", "/api/v1/session", body,
                          {"Content-Type: application/json", "Origin: https://evil.example"}));
  EXPECT_EQ(cross.read_status(), 403);
  RawClient form(server_->port());
  form.send(request_text("POST", "/api/v1/session", body, {"Content-Type: text/plain"}));
  EXPECT_EQ(form.read_status(), 415);
  RawClient ok(server_->port());
  ok.send(request_text("POST", "/api/v1/session", body,
                       {"Content-Type: application/json; charset=utf-8", "Origin: http://127.0.0.1"}));
  EXPECT_EQ(ok.read_status(), 200);
}

TEST_F(HttpServerTest, FailedSignInsLogARealNameButNeverTheSubmittedText) {
  EXPECT_EQ(loggable_name(*auth_, "carol"), "user 'carol'");
  const std::string typed = "hunter2-secret\n2026-12-07 [info] api: 'admin' signed in";
  const std::string logged = loggable_name(*auth_, typed);
  EXPECT_EQ(logged.find("hunter2"), std::string::npos);
  EXPECT_EQ(logged.find('\n'), std::string::npos);
  EXPECT_EQ(logged, loggable_name(*auth_, typed));  // the same text, the same fingerprint
  EXPECT_NE(logged, loggable_name(*auth_, "nobody"));
}

TEST_F(HttpServerTest, LiveStreamEndsWhenItsSessionSignsOut) {
  options_.ws_recheck_s = 3600;  // only the sign-out itself can end the stream within the test
  start_server();
  const std::string cookie = cookie_for("carol");
  LiveFeedClient live(server_->port(), {{"Cookie", cookie}});
  ASSERT_TRUE(live.open());
  RawClient c(server_->port());
  c.send(request_text("DELETE", "/api/v1/session", "", {"Cookie: " + cookie}));
  EXPECT_EQ(c.read_status(), 204);
  const auto reason = live.wait_for_close(std::chrono::milliseconds(3000));
  ASSERT_TRUE(reason.has_value());
  EXPECT_NE(reason->find("session"), std::string::npos) << *reason;
}

TEST_F(HttpServerTest, LiveStreamEndsWhenItsUserIsDeleted) {
  options_.ws_recheck_s = 3600;
  start_server();
  LiveFeedClient live(server_->port(), {{"Cookie", cookie_for("carol")}});
  ASSERT_TRUE(live.open());
  RawClient c(server_->port());
  c.send(request_text("DELETE", "/api/v1/users/carol", "", {"Authorization: Bearer " + admin_token_}));
  EXPECT_EQ(c.read_status(), 204);
  EXPECT_TRUE(live.wait_for_close(std::chrono::milliseconds(3000)).has_value());
}

TEST_F(HttpServerTest, LiveStreamEndsWhenItsTokenIsRevoked) {
  options_.ws_recheck_s = 3600;
  start_server();
  LiveFeedClient live(server_->port(), {{"Authorization", "Bearer " + read_token_}});
  ASSERT_TRUE(live.open());
  const auto token = auth_->find_token(read_token_);
  ASSERT_TRUE(token.has_value());
  RawClient c(server_->port());
  c.send(request_text("DELETE", "/api/v1/tokens/" + std::to_string(token->id), "",
                      {"Authorization: Bearer " + admin_token_}));
  EXPECT_EQ(c.read_status(), 204);
  const auto reason = live.wait_for_close(std::chrono::milliseconds(3000));
  ASSERT_TRUE(reason.has_value());
  EXPECT_NE(reason->find("token"), std::string::npos) << *reason;
}

TEST_F(HttpServerTest, LiveStreamEndsWhenItsMeterIsGivenToAnotherUser) {
  options_.ws_recheck_s = 3600;  // only the reassignment itself can end the stream within the test
  ASSERT_TRUE(store_->add_meter({"m1", "House 1", "north", "carol", 0}).ok());
  ASSERT_TRUE(auth_->add_user("dave", Role::kConsumer, "dave-password", PasswordCost::kMin, kNowMs / 1000).ok());
  api_->meters_changed();  // as `wattguard serve` is told of a meter added by another process
  start_server();
  LiveFeedClient live(server_->port(), {{"Cookie", cookie_for("carol")}});
  ASSERT_TRUE(live.open());
  RawClient c(server_->port());
  c.send(request_text("PUT", "/api/v1/users/dave/meters", R"({"meters":["m1"]})",
                      {"Authorization: Bearer " + admin_token_, "Content-Type: application/json"}));
  EXPECT_EQ(c.read_status(), 200);
  const auto reason = live.wait_for_close(std::chrono::milliseconds(3000));
  ASSERT_TRUE(reason.has_value());
  EXPECT_NE(reason->find("m1"), std::string::npos) << *reason;
}

TEST_F(HttpServerTest, LiveStreamEndsWithinTheRecheckWhenAnotherProcessRemovesTheUser) {
  options_.ws_recheck_s = 1;
  start_server();
  LiveFeedClient live(server_->port(), {{"Cookie", cookie_for("carol")}});
  ASSERT_TRUE(live.open());
  // As `wattguard users remove` does: its own connection to the database, no event reaches the server.
  auto other = AuthStore::open(database_path());
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(other.value()->delete_user("carol").ok());
  EXPECT_TRUE(live.wait_for_close(std::chrono::milliseconds(4000)).has_value());
}

TEST_F(HttpServerTest, LiveStreamStaysWhileAccessLasts) {
  options_.ws_recheck_s = 1;
  start_server();
  LiveFeedClient live(server_->port(), {{"Cookie", cookie_for("carol")}});
  ASSERT_TRUE(live.open());
  EXPECT_FALSE(live.wait_for_close(std::chrono::milliseconds(2500)).has_value());
}

}  // namespace
}  // namespace wattguard::api
