// One HTTP/1.1 connection, plain or HTTPS: the same session templated on its stream (beast::tcp_stream, or
// TlsStream: TLS over that same timed TCP stream), so that every limit, timeout and refusal applies to both. An
// HTTPS connection first passes the TLS handshake, within the header timeout.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "server/api/beast_names.h"
#include "server/api/http_shared.h"

namespace wattguard::api {
namespace {

using namespace beast_names;  // NOLINT: the Beast short names, in this file only

// How long a refused request's unread body is read and thrown away before the connection is closed: closing with
// unread bytes makes the kernel reset the connection, and the client may lose the answer with it.
constexpr int kLingerMs = 2000;

// The answer to plain HTTP on the HTTPS port: said in plain HTTP, so that the person at the browser or curl reads
// why, rather than a TLS error or a dropped connection.
constexpr std::string_view kPlainHttpRefusal =
    "HTTP/1.1 400 Bad Request\r\nServer: wattguard\r\nContent-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 49\r\nConnection: close\r\n\r\nThis port speaks HTTPS: use https:// in the URL.\n";
static_assert(kPlainHttpRefusal.size() - kPlainHttpRefusal.find("\r\n\r\n") - 4 == 49);

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
HttpRequest header_only(const BeastRequest& req, const std::string& remote, bool tls) {
  HttpRequest plain;
  plain.method = std::string(to_std(req.method_string()));
  plain.target = std::string(to_std(req.target()));
  plain.headers.reserve(std::distance(req.begin(), req.end()));
  for (const auto& field : req) {
    plain.headers.emplace_back(ascii_lower(to_std(field.name_string())), std::string(to_std(field.value())));
  }
  plain.remote_address = remote;
  plain.tls = tls;
  return plain;
}

// ---------------------------------------------------------------------------------------------
// One HTTP/1.1 connection: (HTTPS: the TLS handshake first,) then reads requests one at a time, lets the header
// check refuse each before its body is read, hands the rest to the handler (slow answers to the worker pool), writes
// the response (after its delay, if any), and hands WebSocket upgrades over to a live session.
template <class Stream>
class HttpSession : public std::enable_shared_from_this<HttpSession<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  HttpSession(Tcp::socket&& socket, HttpShared& shared, std::unique_ptr<ConnectionSlot> slot, std::string peer)
      : slot_(std::move(slot)),
        stream_(make_stream(std::move(socket), shared)),
        delay_timer_(stream_.get_executor()),
        shared_(shared),
        peer_(std::move(peer)) {}

  void run() { net::dispatch(stream_.get_executor(), beast::bind_front_handler(&HttpSession::start, self())); }

 private:
  static Stream make_stream(Tcp::socket&& socket, HttpShared& shared) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *shared.tls_context);
    } else {
      return Stream(std::move(socket));
    }
  }

  std::shared_ptr<HttpSession> self() { return this->shared_from_this(); }
  beast::tcp_stream& tcp() { return beast::get_lowest_layer(stream_); }

  void start() {
    if constexpr (kTls) {
      // One deadline for the ClientHello and the whole handshake, as for a plain request's header: a client that
      // connects and says nothing, or trickles its handshake, loses its connection (and its slot) with it.
      tcp().expires_after(std::chrono::seconds(shared_.options.header_timeout_s));
      beast::async_detect_ssl(tcp(), buffer_, beast::bind_front_handler(&HttpSession::on_detect, self()));
    } else {
      wait_for_request();
    }
  }

  void on_detect(beast::error_code ec, bool is_tls) {
    if (ec) {
      if (!is_normal_end(ec)) spdlog::debug("http: TLS detection failed: {}", ec.message());
      close();
      return;
    }
    if (!is_tls) {
      refuse_plain_http();
      return;
    }
    if constexpr (kTls) {
      stream_.async_handshake(net::ssl::stream_base::server, buffer_.data(),
                              beast::bind_front_handler(&HttpSession::on_handshake, self()));
    }
  }

  void on_handshake(beast::error_code ec, std::size_t used) {
    if (ec) {
      if (!is_normal_end(ec)) spdlog::debug("http: TLS handshake with {} failed: {}", peer_, ec.message());
      close();
      return;
    }
    buffer_.consume(used);  // the ClientHello bytes detection had read
    wait_for_request();
  }

  // Plain HTTP on the HTTPS port: a plain 400 saying so, then the connection ends (its slot with it).
  void refuse_plain_http() {
    shared_.count_response(kCountedMethods.size() - 1, 400);
    tcp().expires_after(std::chrono::seconds(shared_.options.request_timeout_s));
    net::async_write(tcp(), net::buffer(kPlainHttpRefusal.data(), kPlainHttpRefusal.size()),
                     [self = self()](beast::error_code ec, std::size_t) {
                       if (ec) {
                         self->close();
                         return;
                       }
                       self->linger();
                     });
  }

  // The idle phase: waiting for the first byte of the next request. A new connection gets the header timeout
  // for it; a kept-alive one the idle timeout.
  void wait_for_request() {
    if (buffer_.size() > 0) {
      read_request();
      return;
    }
    tcp().expires_after(
        std::chrono::seconds(first_request_ ? shared_.options.header_timeout_s : shared_.options.idle_timeout_s));
    stream_.async_read_some(buffer_.prepare(4096), [self = self()](beast::error_code ec, std::size_t n) {
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
    tcp().expires_after(std::chrono::seconds(shared_.options.header_timeout_s));
    // The header first: the body limit depends on the route (a bulk import is far larger than an API call).
    http::async_read_header(stream_, buffer_, *parser_, beast::bind_front_handler(&HttpSession::on_header, self()));
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
          refusal = shared_.header_check(header_only(head, remote_, kTls));
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
    tcp().expires_after(std::chrono::seconds(shared_.options.request_timeout_s));
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&HttpSession::on_read, self()));
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
    HttpRequest plain = header_only(req, remote_, kTls);
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
      tcp().expires_never();
      if constexpr (kTls) {
        start_live_session(std::move(stream_), shared_, std::move(slot_), std::move(decision), req);
      } else {
        start_live_session(stream_.release_socket(), shared_, std::move(slot_), std::move(decision), req);
      }
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
    auto task = [self = self(), work = std::move(work), what, version, keep_alive, head]() mutable {
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
      delay_timer_.async_wait([self = self()](beast::error_code ec) {
        if (ec) return;
        self->write();
      });
      return;
    }
    write();
  }

  void write() {
    tcp().expires_after(std::chrono::seconds(shared_.options.request_timeout_s));
    http::async_write(stream_, response_, beast::bind_front_handler(&HttpSession::on_write, self()));
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
  // still sends, into one small buffer, for at most kLingerMs, so it sees the answer rather than a reset. The bytes
  // are read below TLS: they are thrown away, so there is nothing to decrypt.
  void linger() {
    beast::error_code ignored;
    tcp().socket().shutdown(Tcp::socket::shutdown_send, ignored);
    buffer_.clear();
    tcp().expires_after(std::chrono::milliseconds(kLingerMs));
    drain();
  }

  void drain() {
    tcp().async_read_some(net::buffer(drain_buffer_), [self = self()](beast::error_code ec, std::size_t) {
      if (ec) {
        self->tcp().close();
        return;
      }
      self->drain();
    });
  }

  // No TLS close_notify: every response has its length or ends a chunked body, so a client cannot take a cut
  // connection for a whole answer, and waiting for the peer's close_notify would hold the slot for nothing.
  void close() {
    beast::error_code ignored;
    tcp().socket().shutdown(Tcp::socket::shutdown_send, ignored);
    tcp().close();
  }

  std::unique_ptr<ConnectionSlot> slot_;
  Stream stream_;
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

}  // namespace

void start_http_session(Tcp::socket&& socket, HttpShared& shared, std::unique_ptr<ConnectionSlot> slot,
                        std::string peer) {
  if (shared.tls_context) {
    std::make_shared<HttpSession<TlsStream>>(std::move(socket), shared, std::move(slot), std::move(peer))->run();
  } else {
    std::make_shared<HttpSession<beast::tcp_stream>>(std::move(socket), shared, std::move(slot), std::move(peer))
        ->run();
  }
}

}  // namespace wattguard::api
