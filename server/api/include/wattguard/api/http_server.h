// The network side of the API: an HTTP/1.1 listener with keep-alive and WebSocket upgrade, plain or HTTPS (wss://),
// on a small thread pool (Boost.Beast/Asio, kept inside http_server.cc and http_session.cc). Requests go to a
// plain handler function; WebSocket clients join a LiveHub.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wattguard/api/http_message.h"
#include "wattguard/api/live_hub.h"
#include "wattguard/base/expected.h"

namespace wattguard::api {

struct HttpServerOptions {
  std::string bind = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port (see HttpServer::port())
  int threads = 2;
  std::size_t max_body_bytes = 64 * 1024;
  std::size_t max_import_bytes = 64 << 20;  // bodies of the bulk import routes (is_bulk_import_target)
  std::size_t max_header_bytes = 8 * 1024;
  int header_timeout_s = 10;   // a request's header (and a new connection's first byte) must arrive within this
  int request_timeout_s = 30;  // a request's body, and writing the answer
  int idle_timeout_s = 30;     // keep-alive: how long a connection may wait for its next request
  int max_connections = 2048;
  // Open connections (HTTP and WebSocket) per client address; trusted proxies are bound by max_connections only.
  int max_connections_per_address = 64;
  // Peer addresses (reverse proxies) whose X-Forwarded-For names the client: the right-most address in it that
  // is not itself a trusted proxy becomes HttpRequest::remote_address.
  std::vector<std::string> trusted_proxies;
  int worker_threads = 2;             // the pool for HttpResponse::offload (password checks)
  std::size_t worker_queue_max = 64;  // offloaded answers waiting beyond this many get 503 + Retry-After
  std::size_t ws_queue_max = 4096;
  int ws_ping_s = 30;
  int ws_recheck_s = 5;  // how often a WebSocket client's access is checked again (LiveUpgrade::recheck)
  std::size_t ws_max_frame_bytes = 1 << 20;  // live messages are batched into frames up to this size
  // HTTPS: with both set (PEM files), the port speaks TLS 1.2+ only, WebSockets included (wss://); plain HTTP there
  // is answered 400. The handshake must end within header_timeout_s and counts against the connection limits.
  // Errors name http.tls_cert_file / http.tls_key_file.
  std::string tls_cert_file;
  std::string tls_key_file;
};

// The routes that take whole files (PUT /api/v1/topology, POST /api/v1/import/...): their bodies are
// limited by max_import_bytes instead of max_body_bytes. `target` may carry a query string.
bool is_bulk_import_target(std::string_view target);

// What to do with a WebSocket upgrade request: refuse it with `refusal`, or accept it and
// deliver the live messages for `meters` (nullopt: every meter).
struct LiveUpgrade {
  std::optional<HttpResponse> refusal;
  std::optional<LiveHub::MeterSet> meters;
  // Called on an I/O thread every ws_recheck_s and whenever the hub says access changed (LiveHub::access_changed):
  // nullopt while the client may still watch, else the reason sent in the close frame that ends the stream.
  std::function<std::optional<std::string>()> recheck;
};

// Responses sent since start for one method ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS" or
// "other") and status class ("1xx" .. "5xx").
struct HttpRequestCount {
  std::string method;
  std::string status_class;
  uint64_t count = 0;
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  using UpgradeHandler = std::function<LiveUpgrade(const HttpRequest&)>;
  // Sees each request as soon as its header is read (HttpRequest::body empty): an answer refuses the request
  // before its body is read (the connection is then closed); nullopt lets the body be read and the request go to
  // the Handler. Authentication happens here, so a stranger cannot make the server read or hold a large body.
  using HeaderCheck = std::function<std::optional<HttpResponse>(const HttpRequest&)>;

  // `hub` must outlive the server. Handlers are called on the I/O threads, concurrently.
  HttpServer(HttpServerOptions options, Handler handler, UpgradeHandler upgrade, LiveHub& hub);
  ~HttpServer();  // stops
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // REQUIRES: before start(). Called on the I/O threads, concurrently.
  void set_header_check(HeaderCheck check);

  // Binds, listens and starts the threads; first raises the process's open-file limit (base/open_files.h). The Error
  // names http.bind or http.port (address in use...), or http.tls_cert_file / http.tls_key_file with the file (not
  // readable, not PEM, the key not the certificate's).
  Expected<void> start();
  // The bound port (useful with port 0); 0 before start().
  uint16_t port() const;
  // Whether the port speaks HTTPS (options name a certificate and key).
  bool https() const;
  // Stops accepting, drops open connections and joins the threads. Idempotent.
  void stop();

  int open_connections() const;

  // The non-zero response counts (GET /metrics); thread-safe, cheap.
  std::vector<HttpRequestCount> request_counts() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wattguard::api
