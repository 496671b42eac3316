// Blocking HTTP client on Beast: one connection per call, Connection: close, deadline on the whole call.
#include "wattguard/notify/http_client.h"

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <charconv>
#include <chrono>

namespace wattguard::notify {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using Tcp = asio::ip::tcp;

Expected<Url> parse_url(const std::string& text) {
  auto bad = [&](std::string message) { return Error::invalid("url", text, std::move(message)); };
  Url u;
  std::string rest;
  if (text.rfind("http://", 0) == 0) {
    u.scheme = "http";
    u.port = 80;
    rest = text.substr(7);
  } else if (text.rfind("https://", 0) == 0) {
    u.scheme = "https";
    u.port = 443;
    rest = text.substr(8);
  } else {
    return bad("\"" + text + "\" is not an http:// or https:// URL");
  }
  const auto slash = rest.find_first_of("/?");
  std::string authority = rest.substr(0, slash);
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (!u.target.empty() && u.target[0] == '?') u.target = "/" + u.target;
  if (authority.find('@') != std::string::npos) {
    return bad("\"" + text + "\": put credentials in the auth settings, not in the URL");
  }
  std::string host = authority;
  std::string port;
  if (!authority.empty() && authority[0] == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos) {
      return bad("\"" + text + "\": unterminated IPv6 address");
    }
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':') port = authority.substr(close + 2);
  } else if (const auto colon = authority.rfind(':'); colon != std::string::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) {
    return bad("\"" + text + "\": no host");
  }
  if (!port.empty()) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return bad("\"" + text + "\": bad port \"" + port + "\"");
    }
    u.port = static_cast<uint16_t>(value);
  }
  u.host = host;
  return u;
}

std::string url_encode(const std::string& text) {
  static constexpr const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string basic_auth(const std::string& user, const std::string& password) {
  static constexpr const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const std::string raw = user + ":" + password;
  std::string out;
  for (std::size_t i = 0; i < raw.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, raw.size() - i);
    uint32_t v = 0;
    for (std::size_t k = 0; k < 3; ++k) v = (v << 8) | (k < n ? static_cast<unsigned char>(raw[i + k]) : 0u);
    for (std::size_t k = 0; k < 4; ++k) out += k <= n ? kAlphabet[(v >> (18 - 6 * k)) & 63] : '=';
  }
  return "Basic " + out;
}

std::string HttpOutcome::describe() const {
  if (!error.empty()) return error;
  std::string text = "HTTP " + std::to_string(status);
  if (!body.empty()) text += ": " + body.substr(0, 200);
  return text;
}

namespace {

template <class Stream>
HttpOutcome exchange(Stream& stream, beast::tcp_stream& lowest, const http::request<http::string_body>& req,
                     std::chrono::steady_clock::time_point deadline, std::size_t keep_body_bytes) {
  HttpOutcome out;
  beast::error_code ec;
  lowest.expires_at(deadline);
  http::write(stream, req, ec);
  if (ec) {
    out.error = "write: " + ec.message();
    return out;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1 << 20);
  lowest.expires_at(deadline);
  http::read(stream, buffer, parser, ec);
  if (ec) {
    out.error = "read: " + ec.message();
    return out;
  }
  out.status = static_cast<int>(parser.get().result_int());
  out.body = parser.get().body().substr(0, keep_body_bytes);
  return out;
}

}  // namespace

HttpOutcome http_call(const HttpCall& call) {
  HttpOutcome out;
  const auto url = parse_url(call.url);
  if (!url.ok()) {
    out.error = url.error().message;
    return out;
  }
  try {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(call.timeout_ms);
    asio::io_context ioc;
    Tcp::resolver resolver(ioc);
    beast::error_code ec;
    const auto endpoints = resolver.resolve(url->host, std::to_string(url->port), ec);
    if (ec) {
      out.error = "resolve " + url->host + ": " + ec.message();
      return out;
    }

    http::request<http::string_body> req;
    const auto verb = http::string_to_verb(call.method);
    if (verb == http::verb::unknown) {
      out.error = "unknown HTTP method \"" + call.method + "\"";
      return out;
    }
    req.method(verb);
    req.target(url->target);
    req.version(11);
    const bool default_port =
        (url->scheme == "http" && url->port == 80) || (url->scheme == "https" && url->port == 443);
    req.set(http::field::host, default_port ? url->host : url->host + ":" + std::to_string(url->port));
    req.set(http::field::user_agent, "wattguard-notify/1");
    req.set(http::field::connection, "close");
    for (const auto& [name, value] : call.headers) req.set(name, value);
    if (!call.body.empty() || verb == http::verb::post || verb == http::verb::put) {
      if (!call.content_type.empty()) req.set(http::field::content_type, call.content_type);
      req.body() = call.body;
      req.prepare_payload();
    }

    if (url->scheme == "http") {
      beast::tcp_stream stream(ioc);
      stream.expires_at(deadline);
      stream.connect(endpoints, ec);
      if (ec) {
        out.error = "connect " + url->host + ":" + std::to_string(url->port) + ": " + ec.message();
        return out;
      }
      out = exchange(stream, stream, req, deadline, call.keep_body_bytes);
      stream.socket().shutdown(Tcp::socket::shutdown_both, ec);
      return out;
    }

    ssl::context ctx(ssl::context::tls_client);
    ctx.set_default_verify_paths();
    if (!call.ca_file.empty()) {
      ctx.load_verify_file(call.ca_file, ec);
      if (ec) {
        out.error = "TLS: cannot load the CA file " + call.ca_file + ": " + ec.message();
        return out;
      }
    }
    ctx.set_verify_mode(ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
    // SNI, and the certificate must name the host.
    if (!SSL_set_tlsext_host_name(stream.native_handle(), url->host.c_str())) {
      out.error = "TLS: cannot set server name";
      return out;
    }
    stream.set_verify_callback(ssl::host_name_verification(url->host));
    beast::get_lowest_layer(stream).expires_at(deadline);
    beast::get_lowest_layer(stream).connect(endpoints, ec);
    if (ec) {
      out.error = "connect " + url->host + ":" + std::to_string(url->port) + ": " + ec.message();
      return out;
    }
    stream.handshake(ssl::stream_base::client, ec);
    if (ec) {
      out.error = "TLS handshake with " + url->host + ": " + ec.message();
      return out;
    }
    out = exchange(stream, beast::get_lowest_layer(stream), req, deadline, call.keep_body_bytes);
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
    stream.shutdown(ec);  // peers often just close; not an error for us
    return out;
  } catch (const std::exception& e) {
    out.error = std::string("http client: ") + e.what();
    return out;
  }
}

}  // namespace wattguard::notify
