// A small blocking HTTP/1.1 client (Boost.Beast; https through OpenSSL) for the notifiers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "wattguard/base/expected.h"

namespace wattguard::notify {

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;
  uint16_t port = 0;
  std::string target;  // path and query, at least "/"
};

// Parses http://host[:port][/path][?query] and https://...; otherwise an Error (field "url", the text as
// value) whose message quotes the URL and says what is wrong with it.
Expected<Url> parse_url(const std::string& text);

struct HttpCall {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string content_type;  // with a body
  std::string body;
  int timeout_ms = 10'000;  // the whole call: resolve, connect, TLS, write, read
  // https: a PEM file of further trusted certificates (a private CA, a self-signed gateway), trusted
  // besides the system's; the host name is checked either way.
  std::string ca_file;
  // How much of the answer's body to keep: a notifier needs only the start of an error page; an API client
  // (the end-to-end tests) the whole answer (up to the 1 MiB read limit).
  std::size_t keep_body_bytes = 4096;
};

struct HttpOutcome {
  int status = 0;     // 0 when no response arrived
  std::string body;   // the answer's first HttpCall::keep_body_bytes
  std::string error;  // transport error, empty when a response arrived
  bool ok() const { return error.empty() && status >= 200 && status < 300; }
  // "HTTP 503: <body start>" or the transport error; for last_error.
  std::string describe() const;
};

// Never throws; every failure is in the outcome.
HttpOutcome http_call(const HttpCall& call);

// application/x-www-form-urlencoded / query escaping.
std::string url_encode(const std::string& text);

// "Basic <base64(user:password)>".
std::string basic_auth(const std::string& user, const std::string& password);

}  // namespace wattguard::notify
