// HTTPS end to end, as `wattguard demo` runs it: a real Mosquitto, the server on real SQLite serving its API and
// live feed over TLS with the self-signed certificate the demo makes once in <data>/tls, and a virtual meter. The
// clients verify that certificate (chain and name) from its file: REST through the notify HTTP client, the live
// feed through Beast's wss:// client, which must receive the meter's readings.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/e2e_support.h"
#include "wattguard/demo/local_system.h"
#include "wattguard/notify/http_client.h"
#include "wattguard/tls/certificate_files.h"
#include "wattguard/tls/self_signed.h"

namespace wattguard::e2e {
namespace {

namespace beast = boost::beast;
namespace net = boost::asio;
namespace ssl = net::ssl;
namespace websocket = beast::websocket;
using Tcp = net::ip::tcp;
using nlohmann::json;

constexpr const char* kToken = "https-e2e-test-token-0123456789";

class HttpsE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    demo::LocalSystemOptions o;
    o.data_dir = dir_.path();
    o.http_port = 0;
    o.https = true;
    o.password_cost = "min";
    o.create_operator = false;
    o.api_token = kToken;
    o.demo_accounts = false;
    o.fleet.meters = 1;
    o.fleet.period_ms = 1000;
    o.fleet.journal_fsync = false;
    o.start_fleet = false;  // after the live feed is open: its first readings must arrive over wss://
    auto s = demo::LocalSystem::start(o);
    ASSERT_TRUE(s.ok()) << s.error().message;
    sys_ = std::move(s).value();
  }
  void TearDown() override {
    if (sys_) sys_->stop();
  }

  notify::HttpOutcome get(const std::string& path, const std::string& ca_file) {
    notify::HttpCall c;
    c.method = "GET";
    c.url = sys_->url() + path;
    c.ca_file = ca_file;
    c.headers.emplace_back("Authorization", std::string("Bearer ") + kToken);
    c.keep_body_bytes = std::size_t{1} << 20;
    return notify::http_call(c);
  }

  TempDir dir_{"https-e2e"};
  std::unique_ptr<demo::LocalSystem> sys_;
};

TEST_F(HttpsE2e, ApiAndLiveFeedOverTlsVerifiedAgainstTheDemoCertificate) {
  ASSERT_EQ(sys_->url().rfind("https://127.0.0.1:", 0), 0u) << sys_->url();
  const std::string cert = sys_->http_certificate_file().string();
  EXPECT_EQ(sys_->http_certificate_file(), dir_.path() / "tls" / "http-cert.pem");
  auto pem = tls::read_certificate_files(cert, dir_.path() / "tls" / "http-key.pem");
  ASSERT_TRUE(pem.ok()) << pem.error().to_string();
  EXPECT_EQ(tls::certificate_fingerprint(pem->certificate_pem).value(), sys_->http_certificate_fingerprint());

  const auto health = get("/healthz", cert);
  EXPECT_EQ(health.status, 200) << health.error;
  EXPECT_EQ(health.body, "ok");
  const auto meters = get("/api/v1/meters", cert);
  ASSERT_EQ(meters.status, 200) << meters.error << meters.body;
  EXPECT_EQ(json::parse(meters.body)["meters"].size(), 1u);

  // The live feed over wss://, the certificate verified the same way.
  net::io_context ioc;
  ssl::context ctx(ssl::context::tls_client);
  ctx.load_verify_file(cert);
  ctx.set_verify_mode(ssl::verify_peer);
  websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws(ioc, ctx);
  ws.next_layer().set_verify_callback(ssl::host_name_verification("127.0.0.1"));
  const uint16_t port = sys_->server().http_port();
  beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(10));
  beast::get_lowest_layer(ws).connect(Tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  ws.next_layer().handshake(ssl::stream_base::client);
  ws.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
    req.set(beast::http::field::authorization, std::string("Bearer ") + kToken);
  }));
  beast::get_lowest_layer(ws).expires_never();
  ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
  ws.handshake("127.0.0.1:" + std::to_string(port), "/api/v1/live");

  sys_->fleet().start();
  // Reads frames until one carries a reading (statuses come first), for at most 20 s.
  std::string reading_meter;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (reading_meter.empty() && std::chrono::steady_clock::now() < deadline) {
    beast::flat_buffer buffer;
    beast::error_code ec;
    bool done = false;
    ws.async_read(buffer, [&](beast::error_code e, std::size_t) {
      ec = e;
      done = true;
    });
    ioc.restart();
    ioc.run_until(deadline);
    if (!done) break;
    ASSERT_FALSE(ec) << ec.message();
    const json frame = json::parse(beast::buffers_to_string(buffer.data()), nullptr, false);
    ASSERT_TRUE(frame.is_array());
    for (const auto& message : frame) {
      if (message.value("type", "") == "reading") reading_meter = message.value("meter_id", "");
    }
  }
  ASSERT_FALSE(reading_meter.empty()) << "no reading over wss:// within 20 s";
  EXPECT_EQ(json::parse(meters.body)["meters"][0]["id"], reading_meter);
}

TEST_F(HttpsE2e, ClientThatDoesNotTrustTheCertificateGetsNoAnswer) {
  // A certificate of its own: the demo's server cannot show a chain to it.
  const auto other = dir_.path() / "other-cert.pem";
  ASSERT_TRUE(tls::ensure_self_signed(other, dir_.path() / "other-key.pem", tls::SelfSignedRequest{}).ok());
  const auto refused = get("/healthz", other.string());
  EXPECT_EQ(refused.status, 0);
  EXPECT_NE(refused.error.find("TLS handshake"), std::string::npos) << refused.error;
}

TEST_F(HttpsE2e, TheCertificateIsKeptAcrossRestarts) {
  const std::string fingerprint = sys_->http_certificate_fingerprint();
  ASSERT_FALSE(fingerprint.empty());
  sys_->stop();
  sys_.reset();
  demo::LocalSystemOptions o;
  o.data_dir = dir_.path();
  o.http_port = 0;
  o.https = true;
  o.password_cost = "min";
  o.create_operator = false;
  o.demo_accounts = false;
  o.fleet.meters = 1;
  o.fleet.journal_fsync = false;
  o.start_fleet = false;
  auto again = demo::LocalSystem::start(o);
  ASSERT_TRUE(again.ok()) << again.error().message;
  sys_ = std::move(again).value();
  EXPECT_EQ(sys_->http_certificate_fingerprint(), fingerprint);
}

}  // namespace
}  // namespace wattguard::e2e
