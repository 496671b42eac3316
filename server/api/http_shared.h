// What the HTTP server's sessions share (options, handlers, counters, the per-address connection counts, the TLS
// context) and the request body type they read into. Private to the network layer (http_server.cc,
// http_session.cc, http_websocket.cc): includes Beast. Thread-safe where marked: the counters are atomics or under
// `address_mutex`; the TLS context is read-only while the server runs.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "server/api/beast_names.h"
#include "server/api/http_worker_pool.h"
#include "wattguard/api/http_server.h"

namespace wattguard::api {

// The methods counted by name in /metrics; any other is "other" (the last), so the label set stays small.
inline constexpr std::array<std::string_view, 8> kCountedMethods = {"GET",   "HEAD",   "POST",    "PUT",
                                                                    "PATCH", "DELETE", "OPTIONS", "other"};
inline constexpr std::size_t kStatusClasses = 5;  // 1xx .. 5xx

// A request body kept in a std::string that grows as bytes arrive. Beast's string_body reserves the whole declared
// Content-Length as the body starts; with this one a client must actually send the bytes to make the server hold
// them (the reserve is capped at kInitialReserve).
struct GrowingStringBody {
  using value_type = std::string;  // NOLINT(readability-identifier-naming): the names Beast's Body concept needs
  static constexpr std::uint64_t kInitialReserve = 64 * 1024;

  static std::uint64_t size(const value_type& body) { return body.size(); }

  class reader {  // NOLINT(readability-identifier-naming)
   public:
    template <bool kIsRequest, class Fields>
    reader(beast_names::http::header<kIsRequest, Fields>& /*header*/, value_type& body) : body_(body) {}

    void init(const boost::optional<std::uint64_t>& length, beast_names::beast::error_code& ec) {
      if (length) body_.reserve(static_cast<std::size_t>(std::min(*length, kInitialReserve)));
      ec = {};
    }

    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, beast_names::beast::error_code& ec) {
      const std::size_t n = beast_names::beast::buffer_bytes(buffers);
      const std::size_t old_size = body_.size();
      body_.resize(old_size + n);  // std::string grows its capacity geometrically
      ec = {};
      return beast_names::net::buffer_copy(beast_names::net::buffer(body_.data() + old_size, n), buffers);
    }

    void finish(beast_names::beast::error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };

  using writer = beast_names::http::string_body::writer;  // NOLINT(readability-identifier-naming)
};

using BeastRequest = beast_names::http::request<GrowingStringBody>;

// An HTTPS connection: TLS over the same timed TCP stream a plain connection uses, so every timeout applies to both.
using TlsStream = beast_names::beast::ssl_stream<beast_names::beast::tcp_stream>;

struct HttpShared {
  HttpServerOptions options;
  HttpServer::Handler handler;
  HttpServer::UpgradeHandler upgrade;
  HttpServer::HeaderCheck header_check;  // optional
  LiveHub* hub = nullptr;
  // Set by start() when options name a certificate and key: every connection is then HTTPS.
  std::unique_ptr<beast_names::net::ssl::context> tls_context;
  std::unique_ptr<HttpWorkerPool> workers;  // while started
  std::atomic<int> connections{0};
  std::array<std::array<std::atomic<uint64_t>, kStatusClasses>, kCountedMethods.size()> responses{};

  std::mutex address_mutex;  // guards per_address
  std::unordered_map<std::string, int> per_address;

  void count_response(std::size_t method, int status) {
    if (status < 100 || status > 599) return;
    responses[method][static_cast<std::size_t>(status / 100 - 1)].fetch_add(1, std::memory_order_relaxed);
  }
  bool is_trusted_proxy(const std::string& address) const;
};

// One open connection, counted in HttpShared::connections and, unless it comes from a trusted proxy, against its
// address's limit. Moves from the HTTP session to the WebSocket session on an upgrade.
class ConnectionSlot {
 public:
  // nullptr when `address` already holds max_connections_per_address connections.
  static std::unique_ptr<ConnectionSlot> take(HttpShared& shared, const std::string& address);
  ~ConnectionSlot();
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;

 private:
  ConnectionSlot(HttpShared& shared, std::string counted_address);
  HttpShared& shared_;
  std::string counted_address_;  // empty: not counted per address
};

// Normal ways for a connection to end; not worth a log line.
bool is_normal_end(const beast_names::beast::error_code& ec);

// Serves an accepted connection (http_session.cc): HTTPS when shared.tls_context is set, else plain HTTP. `peer` is
// the TCP peer's address; `slot` is already counted (the TLS handshake counts against the limits too).
void start_http_session(beast_names::Tcp::socket&& socket, HttpShared& shared, std::unique_ptr<ConnectionSlot> slot,
                        std::string peer);

// Hands an accepted WebSocket upgrade over to a live-feed session (http_websocket.cc): ws:// on the plain socket,
// wss:// on the TLS stream whose handshake is done.
void start_live_session(beast_names::Tcp::socket&& socket, HttpShared& shared, std::unique_ptr<ConnectionSlot> slot,
                        LiveUpgrade decision, const BeastRequest& request);
void start_live_session(TlsStream&& stream, HttpShared& shared, std::unique_ptr<ConnectionSlot> slot,
                        LiveUpgrade decision, const BeastRequest& request);

}  // namespace wattguard::api
