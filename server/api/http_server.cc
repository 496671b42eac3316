// Boost.Beast listener and HTTP session (the WebSocket session is in http_websocket.cc). Only the network layer
// includes Beast (it is slow to compile); everything else sees plain values.
#include "wattguard/api/http_server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "server/api/beast_names.h"
#include "server/api/http_shared.h"
#include "wattguard/base/open_files.h"

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
         ec == websocket::error::closed || ec == net::error::not_connected;
}

namespace {

using Clock = std::chrono::steady_clock;

// How long a refused request's unread body is read and thrown away before the connection is closed: closing with
// unread bytes makes the kernel reset the connection, and the client may lose the answer with it.
constexpr int kLingerMs = 2000;

std::size_t method_index(std::string_view method) {
  for (std::size_t i = 0; i + 1 < kCountedMethods.size(); ++i) {
    if (kCountedMethods[i] == method) return i;
  }
  return kCountedMethods.size() - 1;
}

void add_common_headers(http::response<http::string_body>& res) {
  res.set(http::field::server, "wattguard");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  res.set("Referrer-Policy", "same-origin");
}

std::string_view to_std(beast::string_view s) { return {s.data(), s.size()}; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The client's address: the TCP peer, or, when the peer is a trusted proxy, the right-most address of
// X-Forwarded-For that is not a trusted proxy itself (entries further left could be forged by the client).
std::string client_address(const HttpShared& shared, const std::string& peer, const BeastRequest& req) {
  if (peer.empty() || !shared.is_trusted_proxy(peer)) return peer;
  std::vector<std::string> hops;  // left to right, as the proxies appended them
  const auto forwarded = req.equal_range("X-Forwarded-For");
  for (auto it = forwarded.first; it != forwarded.second; ++it) {
    std::string_view list = to_std(it->value());
    while (!list.empty()) {
      const auto comma = list.find(',');
      beast::error_code ec;
      const auto address = net::ip::make_address(std::string(trim(list.substr(0, comma))), ec);
      if (!ec) hops.push_back(address.to_string());  // anything else is ignored
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    }
  }
  std::string client = peer;
  for (auto hop = hops.rbegin(); hop != hops.rend(); ++hop) {
    client = *hop;
    if (!shared.is_trusted_proxy(client)) break;
  }
  return client;
}

// The request without its body: what the header check sees.
HttpRequest header_only(const BeastRequest& req, const std::string& remote) {
  HttpRequest plain;
  plain.method = std::string(to_std(req.method_string()));
  plain.target = std::string(to_std(req.target()));
  plain.headers.reserve(std::distance(req.begin(), req.end()));
  for (const auto& field : req) {
    plain.headers.emplace_back(ascii_lower(to_std(field.name_string())), std::string(to_std(field.value())));
  }
  plain.remote_address = remote;
  return plain;
}

// ---------------------------------------------------------------------------------------------
// One HTTP/1.1 connection: reads requests one at a time, lets the header check refuse each before its body is
// read, hands the rest to the handler (slow answers to the worker pool), writes the response (after its delay,
// if any), and hands WebSocket upgrades over to a live session.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(Tcp::socket&& socket, HttpShared& shared, std::unique_ptr<ConnectionSlot> slot, std::string peer)
      : slot_(std::move(slot)),
        stream_(std::move(socket)),
        delay_timer_(stream_.get_executor()),
        shared_(shared),
        peer_(std::move(peer)) {}

  void run() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&HttpSession::wait_for_request, shared_from_this()));
  }

 private:
  // The idle phase: waiting for the first byte of the next request. A new connection gets the header timeout
  // for it; a kept-alive one the idle timeout.
  void wait_for_request() {
    if (buffer_.size() > 0) {
      read_request();
      return;
    }
    stream_.expires_after(
        std::chrono::seconds(first_request_ ? shared_.options.header_timeout_s : shared_.options.idle_timeout_s));
    stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      if (ec) {
        if (!is_normal_end(ec)) spdlog::debug("http: read failed: {}", ec.message());
        self->close();
        return;
      }
      self->buffer_.commit(n);
      self->read_request();
    });
  }

  void read_request() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(shared_.options.max_header_bytes));
    // Beast checks a Content-Length against the limit as the header ends, before on_header could pick
    // the route's limit: read the header under the larger of the two, then narrow it.
    body_limit_ = std::max(shared_.options.max_body_bytes, shared_.options.max_import_bytes);
    parser_->body_limit(body_limit_);
    // One deadline for the whole header, however slowly its bytes trickle in (slowloris).
    stream_.expires_after(std::chrono::seconds(shared_.options.header_timeout_s));
    // The header first: the body limit depends on the route (a bulk import is far larger than an API call).
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&HttpSession::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t n) {
    if (!ec || ec == http::error::body_limit) {
      body_limit_ = is_bulk_import_target(to_std(parser_->get().target())) ? shared_.options.max_import_bytes
                                                                           : shared_.options.max_body_bytes;
    }
    if (!ec) {
      const BeastRequest& head = parser_->get();
      remote_ = client_address(shared_, peer_, head);
      method_ = method_index(to_std(head.method_string()));
      if (shared_.header_check && !websocket::is_upgrade(head)) {
        std::optional<HttpResponse> refusal;
        try {
          refusal = shared_.header_check(header_only(head, remote_));
        } catch (const std::exception& e) {
          spdlog::error("http: header check failed on {}: {}", to_std(head.target()), e.what());
          refusal = error_response(500, "internal", "", "internal error");
        }
        if (refusal) {
          // Refused from the header alone: the body is never read into memory, and the connection ends.
          linger_ = !parser_->is_done();
          send(std::move(*refusal), head.version(), false, head.method() == http::verb::head);
          return;
        }
      }
      // After a body_limit error the header is not marked done, and content_length() asserts that it is.
      const auto length = parser_->content_length();
      if (length && *length > body_limit_) ec = http::error::body_limit;
    }
    if (ec) {
      on_read(ec, n);
      return;
    }
    parser_->body_limit(body_limit_);  // a chunked body is counted against it as it arrives
    stream_.expires_after(std::chrono::seconds(shared_.options.request_timeout_s));
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::body_limit) {
      linger_ = true;
      send(error_response(413, "body_too_large", "", "request body over " + std::to_string(body_limit_) + " bytes"), 11,
           false, false);
      return;
    }
    if (ec == http::error::header_limit) {
      send(error_response(431, "headers_too_large", "",
                          "request headers over " + std::to_string(shared_.options.max_header_bytes) + " bytes"),
           11, false, false);
      return;
    }
    if (ec) {
      if (ec.category() == http::make_error_code(http::error::bad_method).category() &&
          ec != http::error::end_of_stream && ec != http::error::partial_message) {
        send(error_response(400, "bad_request", "", "malformed HTTP request"), 11, false, false);
        return;
      }
      if (!is_normal_end(ec) && ec != http::error::partial_message) {
        spdlog::debug("http: read failed: {}", ec.message());
      }
      close();
      return;
    }
    BeastRequest req = parser_->release();
    parser_.reset();
    HttpRequest plain = header_only(req, remote_);
    plain.body = std::move(req.body());

    if (websocket::is_upgrade(req)) {
      LiveUpgrade decision;
      try {
        decision = shared_.upgrade(plain);
      } catch (const std::exception& e) {
        spdlog::error("http: upgrade handler failed on {}: {}", plain.target, e.what());
        decision.refusal = error_response(500, "internal", "", "internal error");
      }
      if (decision.refusal) {
        send(std::move(*decision.refusal), req.version(), false, false);
        return;
      }
      stream_.expires_never();
      start_live_session(stream_.release_socket(), shared_, std::move(slot_), std::move(decision), req);
      return;
    }

    HttpResponse res;
    try {
      res = shared_.handler(plain);
    } catch (const std::exception& e) {
      // A bug: report it once here, at the session boundary, and keep serving.
      spdlog::error("http: handler failed on {} {}: {}", plain.method, plain.target, e.what());
      res = error_response(500, "internal", "", "internal error");
    }
    spdlog::debug("http: {} {} {} -> {}", remote_, plain.method, plain.target, res.status);
    const unsigned version = req.version();
    const bool keep_alive = req.keep_alive();
    const bool head = req.method() == http::verb::head;
    if (res.offload) {
      offload(std::move(res.offload), plain.method + " " + plain.target, version, keep_alive, head);
      return;
    }
    send(std::move(res), version, keep_alive, head);
  }

  // The answer is slow to compute (a password check): the worker pool computes it, and the session's strand sends
  // it. A full pool answers 503 at once.
  void offload(std::function<HttpResponse()> work, std::string what, unsigned version, bool keep_alive, bool head) {
    auto task = [self = shared_from_this(), work = std::move(work), what, version, keep_alive, head]() mutable {
      HttpResponse res;
      try {
        res = finish_offloaded(work());
      } catch (const std::exception& e) {
        spdlog::error("http: offloaded handler failed on {}: {}", what, e.what());
        res = error_response(500, "internal", "", "internal error");
      }
      auto executor = self->stream_.get_executor();
      net::post(executor, [self = std::move(self), res = std::move(res), version, keep_alive, head]() mutable {
        self->send(std::move(res), version, keep_alive, head);
      });
    };
    if (shared_.workers && shared_.workers->try_post(std::move(task))) return;
    HttpResponse busy = error_response(503, "busy", "", "too many sign-ins at once; try again shortly");
    busy.set_header("Retry-After", "1");
    send(std::move(busy), version, keep_alive, head);
  }

  void send(HttpResponse plain, unsigned version, bool keep_alive, bool head) {
    shared_.count_response(method_, plain.status);
    response_ = {};
    response_.result(static_cast<unsigned>(plain.status));
    response_.version(version);
    add_common_headers(response_);
    std::optional<uint64_t> declared_length;
    for (auto& [name, value] : plain.headers) {
      if (ascii_lower(name) == "content-length") {
        declared_length = std::strtoull(value.c_str(), nullptr, 10);
        continue;
      }
      response_.insert(name, value);
    }
    response_.keep_alive(keep_alive);
    const bool no_body = plain.status == 304 || plain.status == 204 || (plain.status >= 100 && plain.status < 200);
    if (head) {
      response_.content_length(declared_length.value_or(plain.body.size()));
    } else if (!no_body) {
      response_.body() = std::move(plain.body);
      response_.prepare_payload();
    }
    if (plain.delay_ms > 0) {
      delay_timer_.expires_after(std::chrono::milliseconds(plain.delay_ms));
      delay_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (ec) return;
        self->write();
      });
      return;
    }
    write();
  }

  void write() {
    stream_.expires_after(std::chrono::seconds(shared_.options.request_timeout_s));
    http::async_write(stream_, response_, beast::bind_front_handler(&HttpSession::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (ec) {
      if (!is_normal_end(ec)) spdlog::debug("http: write failed: {}", ec.message());
      close();
      return;
    }
    if (response_.need_eof()) {
      if (linger_) {
        linger();
        return;
      }
      close();
      return;
    }
    first_request_ = false;
    method_ = kCountedMethods.size() - 1;
    response_ = {};
    wait_for_request();
  }

  // After refusing a request whose body is still arriving: says so (FIN), then reads and drops what the client
  // still sends, into one small buffer, for at most kLingerMs, so it sees the answer rather than a reset.
  void linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(Tcp::socket::shutdown_send, ignored);
    buffer_.clear();
    stream_.expires_after(std::chrono::milliseconds(kLingerMs));
    drain();
  }

  void drain() {
    stream_.async_read_some(net::buffer(drain_buffer_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) {
        self->stream_.close();
        return;
      }
      self->drain();
    });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(Tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  std::unique_ptr<ConnectionSlot> slot_;
  beast::tcp_stream stream_;
  net::steady_timer delay_timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<GrowingStringBody>> parser_;
  std::size_t body_limit_ = 0;  // of the request being read (route dependent)
  http::response<http::string_body> response_;
  HttpShared& shared_;
  std::string peer_;    // the TCP peer's address
  std::string remote_;  // the client's address for the request being answered (client_address)
  bool first_request_ = true;
  bool linger_ = false;  // the answer refuses a body that is still arriving: drain before closing
  std::array<char, 16 * 1024> drain_buffer_{};
  std::size_t method_ = kCountedMethods.size() - 1;  // of the request being answered; "other" until one is read
};

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
      std::make_shared<HttpSession>(std::move(socket), shared_, std::move(slot), std::move(peer))->run();
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
