// Boost.Beast listener, connection limits and the server's life (the HTTP session is in http_session.cc, the
// WebSocket session in http_websocket.cc). Only the network layer includes Beast (it is slow to compile); everything
// else sees plain values.
#include "wattguard/api/http_server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "server/api/beast_names.h"
#include "server/api/http_shared.h"
#include "wattguard/base/open_files.h"
#include "wattguard/tls/server_context.h"

namespace wattguard::api {

using namespace beast_names;  // NOLINT: the Beast short names, in this file only

bool HttpShared::is_trusted_proxy(const std::string& address) const {
  return std::find(options.trusted_proxies.begin(), options.trusted_proxies.end(), address) !=
         options.trusted_proxies.end();
}

ConnectionSlot::ConnectionSlot(HttpShared& shared, std::string counted_address)
    : shared_(shared), counted_address_(std::move(counted_address)) {
  ++shared_.connections;
}

std::unique_ptr<ConnectionSlot> ConnectionSlot::take(HttpShared& shared, const std::string& address) {
  if (address.empty() || shared.is_trusted_proxy(address)) {
    return std::unique_ptr<ConnectionSlot>(new ConnectionSlot(shared, ""));
  }
  {
    std::lock_guard lock(shared.address_mutex);
    int& open = shared.per_address[address];
    if (open >= shared.options.max_connections_per_address) return nullptr;
    ++open;
  }
  return std::unique_ptr<ConnectionSlot>(new ConnectionSlot(shared, address));
}

ConnectionSlot::~ConnectionSlot() {
  --shared_.connections;
  if (counted_address_.empty()) return;
  std::lock_guard lock(shared_.address_mutex);
  const auto it = shared_.per_address.find(counted_address_);
  if (it != shared_.per_address.end() && --it->second <= 0) shared_.per_address.erase(it);
}

bool is_normal_end(const beast::error_code& ec) {
  return ec == net::error::operation_aborted || ec == http::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe || ec == beast::error::timeout ||
         ec == websocket::error::closed || ec == net::error::not_connected || ec == net::ssl::error::stream_truncated;
}

namespace {

// ---------------------------------------------------------------------------------------------
// Accepts connections, each on its own strand.
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(net::io_context& ioc, HttpShared& shared) : ioc_(ioc), acceptor_(ioc), retry_timer_(ioc), shared_(shared) {}

  Expected<void> open(const Tcp::endpoint& endpoint) {
    beast::error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      Error error = Error::unavailable("cannot listen on " + endpoint.address().to_string() + ":" +
                                       std::to_string(endpoint.port()) + ": " + ec.message());
      error.field = "http.port";
      return error;
    }
    return {};
  }

  uint16_t port() const {
    beast::error_code ec;
    const auto ep = acceptor_.local_endpoint(ec);
    return ec ? 0 : ep.port();
  }

  void start() { do_accept(); }

  void close() {
    net::post(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ignored;
      self->acceptor_.close(ignored);
      self->retry_timer_.cancel();
    });
  }

 private:
  void do_accept() {
    acceptor_.async_accept(net::make_strand(ioc_), beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
  }

  void on_accept(beast::error_code ec, Tcp::socket socket) {
    if (ec == net::error::operation_aborted) return;
    if (ec) {
      // Usually out of file descriptors: wait a little instead of spinning on the error.
      spdlog::warn("http: accept failed: {}", ec.message());
      retry_timer_.expires_after(std::chrono::milliseconds(100));
      retry_timer_.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
        if (!wait_ec) self->do_accept();
      });
      return;
    }
    beast::error_code remote_ec;
    const auto remote = socket.remote_endpoint(remote_ec);
    std::string peer = remote_ec ? "" : remote.address().to_string();
    // One client may not hold every connection: a global limit, and one per address (ConnectionSlot::take).
    std::unique_ptr<ConnectionSlot> slot;
    if (shared_.connections.load() < shared_.options.max_connections) slot = ConnectionSlot::take(shared_, peer);
    if (slot) {
      start_http_session(std::move(socket), shared_, std::move(slot), std::move(peer));
    } else {
      beast::error_code ignored;
      socket.close(ignored);
    }
    do_accept();
  }

  net::io_context& ioc_;
  Tcp::acceptor acceptor_;
  net::steady_timer retry_timer_;
  HttpShared& shared_;
};

}  // namespace

bool is_bulk_import_target(std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  return path == "/api/v1/topology" || path.rfind("/api/v1/import/", 0) == 0;
}

struct HttpServer::Impl {
  HttpShared shared;
  std::optional<net::io_context> ioc;
  std::shared_ptr<Listener> listener;
  std::vector<std::thread> threads;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  uint16_t port = 0;
  std::mutex stop_mutex;
};

HttpServer::HttpServer(HttpServerOptions options, Handler handler, UpgradeHandler upgrade, LiveHub& hub)
    : impl_(std::make_unique<Impl>()) {
  impl_->shared.options = std::move(options);
  impl_->shared.handler = std::move(handler);
  impl_->shared.upgrade = std::move(upgrade);
  impl_->shared.hub = &hub;
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::set_header_check(HeaderCheck check) { impl_->shared.header_check = std::move(check); }

Expected<void> HttpServer::start() {
  Impl& im = *impl_;
  const auto& opt = im.shared.options;
  if (const int64_t limit = raise_open_file_limit(); limit >= 0 && limit < opt.max_connections + 64) {
    spdlog::warn("http: the open-file limit ({}) is below http.max_connections ({})", limit, opt.max_connections);
  }
  beast::error_code ec;
  const auto address = net::ip::make_address(opt.bind == "localhost" ? "127.0.0.1" : opt.bind, ec);
  if (ec) return Error::invalid("http.bind", "\"" + opt.bind + "\"", "not an IP address");
  if (opt.tls_cert_file.empty() != opt.tls_key_file.empty()) {
    const bool no_key = opt.tls_key_file.empty();
    return Error::invalid(no_key ? "http.tls_key_file" : "http.tls_cert_file", "",
                          "HTTPS needs both http.tls_cert_file and http.tls_key_file");
  }
  im.shared.tls_context.reset();
  if (!opt.tls_cert_file.empty()) {
    // Before listening: a bad file refuses to start, naming the setting and the file.
    auto context =
        tls::make_server_context({opt.tls_cert_file, opt.tls_key_file, "http.tls_cert_file", "http.tls_key_file"});
    if (!context.ok()) return std::move(context).error();
    im.shared.tls_context = std::move(context).value();
  }
  im.ioc.emplace(opt.threads);
  im.listener = std::make_shared<Listener>(*im.ioc, im.shared);
  if (auto opened = im.listener->open(Tcp::endpoint(address, opt.port)); !opened.ok()) {
    im.listener.reset();
    im.ioc.reset();
    return opened;
  }
  im.port = im.listener->port();
  im.shared.workers =
      std::make_unique<HttpWorkerPool>(std::max(1, opt.worker_threads), std::max<std::size_t>(1, opt.worker_queue_max));
  im.listener->start();
  im.work.emplace(im.ioc->get_executor());
  for (int i = 0; i < opt.threads; ++i) {
    im.threads.emplace_back([&im] {
      // Handlers catch their own exceptions; anything reaching here is a bug in the network layer.
      for (;;) {
        try {
          im.ioc->run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("http: I/O thread caught: {}", e.what());
        }
      }
    });
  }
  return {};
}

uint16_t HttpServer::port() const { return impl_->port; }

bool HttpServer::https() const { return !impl_->shared.options.tls_cert_file.empty(); }

int HttpServer::open_connections() const { return impl_->shared.connections.load(); }

std::vector<HttpRequestCount> HttpServer::request_counts() const {
  std::vector<HttpRequestCount> out;
  for (std::size_t m = 0; m < kCountedMethods.size(); ++m) {
    for (std::size_t c = 0; c < kStatusClasses; ++c) {
      const uint64_t n = impl_->shared.responses[m][c].load(std::memory_order_relaxed);
      if (n > 0) out.push_back({std::string(kCountedMethods[m]), std::to_string(c + 1) + "xx", n});
    }
  }
  return out;
}

void HttpServer::stop() {
  Impl& im = *impl_;
  std::lock_guard lock(im.stop_mutex);
  if (!im.ioc) return;
  if (im.listener) im.listener->close();
  // The workers first: their tasks hold sessions and post to the I/O threads.
  if (im.shared.workers) im.shared.workers->stop();
  im.work.reset();
  im.ioc->stop();
  for (auto& t : im.threads) t.join();
  im.threads.clear();
  im.listener.reset();
  // Destroying the io_context destroys the pending handlers and with them the sessions.
  im.ioc.reset();
  im.shared.workers.reset();
  im.port = 0;
}

}  // namespace wattguard::api
