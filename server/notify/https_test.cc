// https delivery against a real TLS endpoint: a self-signed certificate (wattguard_tls), served by a Beast
// TLS receiver on a free loopback port. Checks that the notifiers reach an https gateway whose
// certificate is trusted through ca_file, and that an untrusted or wrongly named certificate is refused.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "wattguard/notify/http_client.h"
#include "wattguard/notify/notifier.h"
#include "wattguard/test_support/temp_dir.h"
#include "wattguard/tls/self_signed.h"

namespace wattguard::notify {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

using Pem = tls::CertificatePair;

// A self-signed certificate for `name` (e.g. "localhost").
Pem self_signed(const std::string& name) {
  tls::SelfSignedRequest request;
  request.names = {name};
  auto pair = tls::make_self_signed(request);
  EXPECT_TRUE(pair.ok()) << pair.error().message;
  return pair.ok() ? pair.value() : Pem{};
}

// Accepts TLS connections on a free loopback port, records each request and answers 200.
class TlsReceiver {
 public:
  explicit TlsReceiver(const Pem& pem) : tls_(ssl::context::tls_server), acceptor_(ioc_) {
    tls_.use_certificate_chain(asio::buffer(pem.certificate_pem));
    tls_.use_private_key(asio::buffer(pem.private_key_pem), ssl::context::pem);
    const tcp::endpoint at(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(at.protocol());
    acceptor_.bind(at);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~TlsReceiver() {
    ioc_.stop();
    thread_.join();
  }
  uint16_t port() const { return port_; }
  std::vector<std::string> bodies() {
    std::lock_guard lock(mutex_);
    return bodies_;
  }

 private:
  void accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (!ec) serve(std::move(socket));
      accept();
    });
  }
  // Blocking on the receiver's own thread: the tests send one request at a time.
  void serve(tcp::socket socket) {
    beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), tls_);
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
    beast::error_code ec;
    stream.handshake(ssl::stream_base::server, ec);
    if (ec) return;  // the client refused our certificate
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    http::read(stream, buffer, req, ec);
    if (ec) return;
    {
      std::lock_guard lock(mutex_);
      bodies_.push_back(req.body());
    }
    http::response<http::string_body> res{http::status::ok, 11};
    res.body() = "ok";
    res.prepare_payload();
    http::write(stream, res, ec);
    stream.shutdown(ec);
  }

  asio::io_context ioc_;
  ssl::context tls_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::mutex mutex_;
  std::vector<std::string> bodies_;
  std::thread thread_;
};

class Https : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& text) {
    const auto path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }
  // A JSON POST to the receiver by the name its certificate should carry; `trusted` adds the
  // certificate as ca_file.
  HttpCall call_to(const TlsReceiver& rx, const Pem& pem, bool trusted) {
    HttpCall call;
    call.url = "https://localhost:" + std::to_string(rx.port()) + "/hook";
    call.content_type = "application/json";
    call.body = R"({"alert":1})";
    if (trusted) call.ca_file = write("ca.pem", pem.certificate_pem);
    return call;
  }
  // A refused handshake: no response, nothing delivered.
  static void expect_refused(const HttpOutcome& out, TlsReceiver& rx) {
    EXPECT_FALSE(out.ok());
    EXPECT_EQ(out.status, 0);
    EXPECT_NE(out.error.find("TLS handshake"), std::string::npos) << out.error;
    EXPECT_TRUE(rx.bodies().empty());
  }
  test_support::TempDir temp_dir_{"https"};
  const std::filesystem::path dir_ = temp_dir_.path();
};

TEST_F(Https, TrustedThroughCaFileIsDelivered) {
  const Pem pem = self_signed("localhost");
  TlsReceiver rx(pem);
  const HttpOutcome out = http_call(call_to(rx, pem, true));
  EXPECT_TRUE(out.ok()) << out.describe();
  EXPECT_EQ(out.status, 200);
  ASSERT_EQ(rx.bodies().size(), 1u);
  EXPECT_EQ(rx.bodies()[0], R"({"alert":1})");
}

TEST_F(Https, SmsGatewayOverHttps) {
  const Pem pem = self_signed("localhost");
  TlsReceiver rx(pem);
  SmsGatewayOptions o;
  o.url = "https://localhost:" + std::to_string(rx.port()) + "/send";
  o.message_template = "alert {id}";
  o.ca_file = write("ca.pem", pem.certificate_pem);
  Message m;
  m.fields = {{"id", "42"}};
  const HttpOutcome out = make_sms_notifier(o)->send("+15550100", m);
  EXPECT_TRUE(out.ok()) << out.describe();
  ASSERT_EQ(rx.bodies().size(), 1u);
  EXPECT_NE(rx.bodies()[0].find("alert%2042"), std::string::npos) << rx.bodies()[0];
}

TEST_F(Https, UntrustedCertificateIsRefused) {
  const Pem pem = self_signed("localhost");
  TlsReceiver rx(pem);
  expect_refused(http_call(call_to(rx, pem, false)), rx);  // only the system's CAs: ours is not among them
}

TEST_F(Https, CertificateForAnotherHostIsRefused) {
  const Pem pem = self_signed("gateway.example");
  TlsReceiver rx(pem);
  expect_refused(http_call(call_to(rx, pem, true)), rx);  // trusted, but it names another host
}

TEST_F(Https, MissingCaFileIsNamed) {
  HttpCall call;
  call.url = "https://localhost:9/hook";
  call.ca_file = (dir_ / "absent.pem").string();
  const HttpOutcome out = http_call(call);
  EXPECT_FALSE(out.ok());
  EXPECT_NE(out.error.find("absent.pem"), std::string::npos) << out.error;
}

}  // namespace
}  // namespace wattguard::notify
