// The network side of the API: an HTTP/1.1 listener with keep-alive and WebSocket upgrade,
// on a small thread pool (Boost.Beast/Asio, kept inside http_server.cc). Requests go to a
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
  int request_timeout_s = 30;
  int idle_timeout_s = 120;
  int max_connections = 2048;
  std::size_t ws_queue_max = 4096;
  int ws_ping_s = 30;
  std::size_t ws_max_frame_bytes = 1 << 20;  // live messages are batched into frames up to this size
};

// The routes that take whole files (PUT /api/v1/topology, POST /api/v1/import/...): their bodies are
// limited by max_import_bytes instead of max_body_bytes. `target` may carry a query string.
bool is_bulk_import_target(std::string_view target);

// What to do with a WebSocket upgrade request: refuse it with `refusal`, or accept it and
// deliver the live messages for `meters` (nullopt: every meter).
struct LiveUpgrade {
  std::optional<HttpResponse> refusal;
  std::optional<LiveHub::MeterSet> meters;
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

  // `hub` must outlive the server. Handlers are called on the I/O threads, concurrently.
  HttpServer(HttpServerOptions options, Handler handler, UpgradeHandler upgrade, LiveHub& hub);
  ~HttpServer();  // stops
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the threads. The Error names http.bind or http.port (address in use...).
  Expected<void> start();
  // The bound port (useful with port 0); 0 before start().
  uint16_t port() const;
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
