// Plain HTTP request and response values: request handlers work on these, so they are testable
// without a socket and only the network layer (http_server.cc) includes Boost.Beast.
#pragma once

#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wattguard::api {

struct HttpRequest {
  std::string method;  // "GET", "POST", ... as sent
  std::string target;  // path and query as sent: "/api/v1/meters?limit=10"
  // Header names are lower case; a repeated header appears more than once.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote_address;  // "127.0.0.1"; empty when unknown
  bool tls = false;            // arrived over this server's own HTTPS (not a proxy's: see X-Forwarded-Proto)

  // The first value of header `name` (lower case), or nullptr.
  const std::string* header(std::string_view name) const;
  void set_header(std::string name, std::string value);
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // as sent; Content-Length is added by the server
  std::string body;
  // The connection waits this long before sending the response (failed sign-in); it does
  // not hold a thread while waiting.
  int delay_ms = 0;
  // Slow work (argon2id password checks): when set, the answer is not this response but what offload() returns,
  // computed by the HTTP server on its small worker pool so the I/O threads keep serving; when that pool's queue
  // is full the server answers 503 with Retry-After instead. Callers without a server use finish_offloaded().
  std::function<HttpResponse()> offload;

  const std::string* header(std::string_view name) const;  // case-insensitive
  void set_header(std::string name, std::string value);    // replaces an existing one
  void add_header(std::string name, std::string value);    // keeps existing ones (Set-Cookie)
};

// 200-style JSON response with Content-Type application/json and no caching.
HttpResponse json_response(int status, const nlohmann::json& body);

// {"error": {"code": code, "field": field, "message": message}}; "field" is left out when empty.
HttpResponse error_response(int status, std::string_view code, std::string_view field, std::string_view message);

// The final answer: runs `response.offload` (on the calling thread) until none is left.
HttpResponse finish_offloaded(HttpResponse response);

// Lower-cases ASCII letters.
std::string ascii_lower(std::string_view s);

}  // namespace wattguard::api
