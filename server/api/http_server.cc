// Boost.Beast listener, HTTP session and WebSocket session. This is the only translation unit
// of the server that includes Beast (it is slow to compile); everything else sees plain values.
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

namespace wattguard::api {
namespace {

using namespace beast_names;  // NOLINT: the Beast short names, in this file only
using Clock = std::chrono::steady_clock;

// The methods counted by name in /metrics; any other is "other" (the last), so the label set stays small.
constexpr std::array<std::string_view, 8> kCountedMethods = {"GET",   "HEAD",   "POST",    "PUT",
                                                             "PATCH", "DELETE", "OPTIONS", "other"};
constexpr std::size_t kStatusClasses = 5;  // 1xx .. 5xx

std::size_t method_index(std::string_view method) {
  for (std::size_t i = 0; i + 1 < kCountedMethods.size(); ++i) {
    if (kCountedMethods[i] == method) return i;
  }
  return kCountedMethods.size() - 1;
}

// What every session needs: options, handlers, the hub, the connection count and the response counters.
struct Shared {
  HttpServerOptions options;
  HttpServer::Handler handler;
  HttpServer::UpgradeHandler upgrade;
  LiveHub* hub = nullptr;
  std::atomic<int> connections{0};
  std::array<std::array<std::atomic<uint64_t>, kStatusClasses>, kCountedMethods.size()> responses{};

  void count_response(std::size_t method, int status) {
    if (status < 100 || status > 599) return;
    responses[method][static_cast<std::size_t>(status / 100 - 1)].fetch_add(1, std::memory_order_relaxed);
  }
};

// Counts an open connection for as long as it lives.
class ConnectionCount {
 public:
  explicit ConnectionCount(Shared& shared) : shared_(shared) { ++shared_.connections; }
  ~ConnectionCount() { --shared_.connections; }
  ConnectionCount(const ConnectionCount&) = delete;
  ConnectionCount& operator=(const ConnectionCount&) = delete;

 private:
  Shared& shared_;
};

// Normal ways for a connection to end; not worth a log line.
bool is_normal_end(const beast::error_code& ec) {
  return ec == net::error::operation_aborted || ec == http::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe || ec == beast::error::timeout ||
         ec == websocket::error::closed || ec == net::error::not_connected;
}

void add_common_headers(http::response<http::string_body>& res) {
  res.set(http::field::server, "wattguard");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  res.set("Referrer-Policy", "same-origin");
}

std::string_view to_std(beast::string_view s) { return {s.data(), s.size()}; }

HttpRequest to_plain(const http::request<http::string_body>& req, const std::string& remote) {
  HttpRequest plain;
  plain.method = std::string(to_std(req.method_string()));
  plain.target = std::string(to_std(req.target()));
  plain.headers.reserve(std::distance(req.begin(), req.end()));
  for (const auto& field : req) {
    plain.headers.emplace_back(ascii_lower(to_std(field.name_string())), std::string(to_std(field.value())));
  }
  plain.body = req.body();
  plain.remote_address = remote;
  return plain;
}

// ---------------------------------------------------------------------------------------------
// A WebSocket client of the live feed. Messages arrive through offer() from any thread into a
// bounded queue; on the session's strand they are written as JSON arrays, one write at a time,
// batching whatever queued up meanwhile.
class WebSocketSession : public LiveSink, public std::enable_shared_from_this<WebSocketSession> {
 public:
  WebSocketSession(Tcp::socket&& socket, Shared& shared, std::optional<LiveHub::MeterSet> meters)
      : count_(shared), ws_(std::move(socket)), shared_(shared), meters_(std::move(meters)) {}

  ~WebSocketSession() override {
    if (subscription_ != 0) shared_.hub->unsubscribe(subscription_);
  }

  void run(http::request<http::string_body> req) {
    websocket::stream_base::timeout timeout{};
    timeout.handshake_timeout = std::chrono::seconds(shared_.options.request_timeout_s);
    // With keep-alive pings, Beast pings after half the idle time and drops a silent peer.
    timeout.idle_timeout = std::chrono::seconds(2 * shared_.options.ws_ping_s);
    timeout.keep_alive_pings = true;
    ws_.set_option(timeout);
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "wattguard"); }));
    // Clients have nothing to send but small control messages.
    ws_.read_message_max(4096);
    ws_.async_accept(req, beast::bind_front_handler(&WebSocketSession::on_accept, shared_from_this()));
  }

  OfferResult offer(const std::shared_ptr<const std::string>& message) override {
    std::lock_guard lock(mutex_);
    if (closed_) return OfferResult::kClosed;
    if (pending_.size() >= shared_.options.ws_queue_max) {
      // Too slow to keep up: drop it rather than buffer without bound or block publishers.
      closed_ = true;
      pending_.clear();
      net::post(ws_.get_executor(), [self = shared_from_this()] { self->abort(); });
      return OfferResult::kOverflow;
    }
    pending_.push_back(message);
    if (!flush_posted_) {
      flush_posted_ = true;
      net::post(ws_.get_executor(), [self = shared_from_this()] { self->flush(); });
    }
    return OfferResult::kQueued;
  }

 private:
  void on_accept(beast::error_code ec) {
    if (ec) {
      if (!is_normal_end(ec)) spdlog::debug("live: handshake failed: {}", ec.message());
      return;
    }
    subscription_ = shared_.hub->subscribe(weak_from_this(), meters_);
    do_read();
  }

  // Keeps a read pending so control frames (ping, pong, close) are processed.
  void do_read() {
    ws_.async_read(read_buffer_, beast::bind_front_handler(&WebSocketSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) {
      if (!is_normal_end(ec)) spdlog::debug("live: read failed: {}", ec.message());
      mark_closed();
      return;
    }
    read_buffer_.consume(read_buffer_.size());  // client messages carry nothing we act on
    do_read();
  }

  void flush() {
    if (writing_) return;
    frame_.clear();
    {
      std::lock_guard lock(mutex_);
      flush_posted_ = false;
      if (closed_ || pending_.empty()) return;
      frame_.push_back('[');
      while (!pending_.empty()) {
        const auto& msg = *pending_.front();
        if (frame_.size() > 1 && frame_.size() + msg.size() + 2 > shared_.options.ws_max_frame_bytes) break;
        if (frame_.size() > 1) frame_.push_back(',');
        frame_.append(msg);
        pending_.pop_front();
      }
      frame_.push_back(']');
    }
    writing_ = true;
    ws_.text(true);
    ws_.async_write(net::buffer(frame_), beast::bind_front_handler(&WebSocketSession::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    writing_ = false;
    if (ec) {
      if (!is_normal_end(ec)) spdlog::debug("live: write failed: {}", ec.message());
      mark_closed();
      return;
    }
    flush();
  }

  void mark_closed() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    pending_.clear();
  }

  void abort() {
    spdlog::info("live: dropped a client that fell {} messages behind", shared_.options.ws_queue_max);
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(Tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).close();
  }

  ConnectionCount count_;
  websocket::stream<beast::tcp_stream> ws_;
  Shared& shared_;
  std::optional<LiveHub::MeterSet> meters_;
  uint64_t subscription_ = 0;
  beast::flat_buffer read_buffer_;
  std::string frame_;     // the frame being written (strand only)
  bool writing_ = false;  // strand only

  std::mutex mutex_;  // guards the fields below, shared with offer()
  std::deque<std::shared_ptr<const std::string>> pending_;
  bool flush_posted_ = false;
  bool closed_ = false;
};

// ---------------------------------------------------------------------------------------------
// One HTTP/1.1 connection: reads requests one at a time, hands each to the handler, writes the
// response (after its delay, if any), and hands WebSocket upgrades over to a WebSocketSession.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(Tcp::socket&& socket, Shared& shared, std::string remote)
      : count_(shared),
        stream_(std::move(socket)),
        delay_timer_(stream_.get_executor()),
        shared_(shared),
        remote_(std::move(remote)) {}

  void run() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&HttpSession::wait_for_request, shared_from_this()));
  }

 private:
  // The idle phase: waiting for the first byte of the next request. A separate, longer timeout
  // than the request itself, so keep-alive does not let a slow client trickle a request.
  void wait_for_request() {
    if (buffer_.size() > 0) {
      read_request();
      return;
    }
    stream_.expires_after(
        std::chrono::seconds(first_request_ ? shared_.options.request_timeout_s : shared_.options.idle_timeout_s));
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
    stream_.expires_after(std::chrono::seconds(shared_.options.request_timeout_s));
    // The header first: the body limit depends on the route (a bulk import is far larger than an API call).
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&HttpSession::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t n) {
    if (!ec || ec == http::error::body_limit) {
      body_limit_ = is_bulk_import_target(to_std(parser_->get().target())) ? shared_.options.max_import_bytes
                                                                           : shared_.options.max_body_bytes;
      // After a body_limit error the header is not marked done, and content_length() asserts that it is.
      if (!ec) {
        const auto length = parser_->content_length();
        if (length && *length > body_limit_) ec = http::error::body_limit;
      }
    }
    if (ec) {
      on_read(ec, n);
      return;
    }
    parser_->body_limit(body_limit_);  // a chunked body is counted against it as it arrives
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::body_limit) {
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
    http::request<http::string_body> req = parser_->release();
    parser_.reset();
    const HttpRequest plain = to_plain(req, remote_);
    method_ = method_index(plain.method);

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
      std::make_shared<WebSocketSession>(stream_.release_socket(), shared_, std::move(decision.meters))
          ->run(std::move(req));
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
    send(std::move(res), req.version(), req.keep_alive(), req.method() == http::verb::head);
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
      close();
      return;
    }
    first_request_ = false;
    method_ = kCountedMethods.size() - 1;
    response_ = {};
    wait_for_request();
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(Tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  ConnectionCount count_;
  beast::tcp_stream stream_;
  net::steady_timer delay_timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::size_t body_limit_ = 0;  // of the request being read (route dependent)
  http::response<http::string_body> response_;
  Shared& shared_;
  std::string remote_;
  bool first_request_ = true;
  std::size_t method_ = kCountedMethods.size() - 1;  // of the request being answered; "other" until one is read
};

// ---------------------------------------------------------------------------------------------
// Accepts connections, each on its own strand.
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(net::io_context& ioc, Shared& shared) : ioc_(ioc), acceptor_(ioc), retry_timer_(ioc), shared_(shared) {}

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
    if (shared_.connections.load() >= shared_.options.max_connections) {
      beast::error_code ignored;
      socket.close(ignored);
    } else {
      beast::error_code remote_ec;
      const auto remote = socket.remote_endpoint(remote_ec);
      std::make_shared<HttpSession>(std::move(socket), shared_, remote_ec ? "" : remote.address().to_string())->run();
    }
    do_accept();
  }

  net::io_context& ioc_;
  Tcp::acceptor acceptor_;
  net::steady_timer retry_timer_;
  Shared& shared_;
};

}  // namespace

bool is_bulk_import_target(std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  return path == "/api/v1/topology" || path.rfind("/api/v1/import/", 0) == 0;
}

struct HttpServer::Impl {
  Shared shared;
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

Expected<void> HttpServer::start() {
  Impl& im = *impl_;
  const auto& opt = im.shared.options;
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
  im.work.reset();
  im.ioc->stop();
  for (auto& t : im.threads) t.join();
  im.threads.clear();
  im.listener.reset();
  // Destroying the io_context destroys the pending handlers and with them the sessions.
  im.ioc.reset();
  im.port = 0;
}

}  // namespace wattguard::api
