// The Blynk listeners: plain TCP and TLS acceptors on a small pool of I/O threads, each accepted socket becoming
// a Connection (connection.h) that shares the BlynkHub.
#include "wattguard/blynk/blynk_server.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "server/blynk/blynk_hub.h"
#include "server/blynk/connection.h"
#include "server/blynk/http_api.h"
#include "wattguard/base/open_files.h"
#include "wattguard/tls/server_context.h"

namespace wattguard::blynk {
namespace {

using TlsStream = asio::ssl::stream<Tcp::socket>;
constexpr int kStopDrainMs = 2000;
constexpr int kHttpTickMs = 250;  // how often the HTTP API's quiet periods are ended  // how long stop() lets
                                  // connections store their last period and say offline

}  // namespace

struct BlynkServer::Impl {
  BlynkConfig config;
  ingest::IngestService& ingest;
  ingest::DeviceKeys& keys;
  Clock now_ms;
  std::unique_ptr<BlynkHub> hub;
  std::unique_ptr<BlynkHttpApi> http_api;
  asio::io_context io;
  std::optional<asio::steady_timer> http_ticker;
  std::optional<Tcp::acceptor> plain;
  std::optional<Tcp::acceptor> tls;
  std::unique_ptr<asio::ssl::context> tls_context;
  std::vector<std::thread> threads;
  uint16_t plain_port = 0;
  uint16_t tls_bound_port = 0;
  bool started = false;
  bool stopped = false;

  Impl(BlynkConfig c, ingest::IngestService& i, ingest::DeviceKeys& k, Clock n)
      : config(std::move(c)), ingest(i), keys(k), now_ms(or_system_clock(std::move(n))) {}

  Expected<uint16_t> listen(std::optional<Tcp::acceptor>& acceptor, uint16_t port, const char* key) {
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(config.bind, ec);
    if (ec) return Error::invalid("blynk.bind", "\"" + config.bind + "\"", "not an IP address");
    const Tcp::endpoint endpoint(address, port);
    acceptor.emplace(io);
    acceptor->open(endpoint.protocol(), ec);
    if (!ec) acceptor->set_option(Tcp::acceptor::reuse_address(true), ec);
    // Not inherited by children (the broker, `bench blynk`'s server): an inherited listener holds the port.
    if (!ec) ::fcntl(acceptor->native_handle(), F_SETFD, FD_CLOEXEC);
    if (!ec) acceptor->bind(endpoint, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      Error e =
          Error::unavailable("cannot listen on " + config.bind + ":" + std::to_string(port) + ": " + ec.message());
      e.field = key;
      e.value = std::to_string(port);
      return e;
    }
    return acceptor->local_endpoint().port();
  }

  template <class Stream>
  void accept(Tcp::acceptor& acceptor) {
    auto strand = asio::make_strand(io);
    acceptor.async_accept(strand, [this, &acceptor, strand](const boost::system::error_code& ec, Tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (!ec) start_connection<Stream>(std::move(socket), strand);
      accept<Stream>(acceptor);
    });
  }

  template <class Stream>
  void start_connection(Tcp::socket socket, asio::strand<asio::io_context::executor_type> strand) {
    if (hub->stats().connections_open >= static_cast<uint64_t>(config.max_connections)) {
      hub->refuse_connection();
      return;  // the socket closes as it goes out of scope
    }
    boost::system::error_code ec;
    socket.set_option(Tcp::no_delay(true), ec);
    const auto remote = socket.remote_endpoint(ec);
    std::string address = ec ? "?" : remote.address().to_string();
    std::shared_ptr<Connection<Stream>> connection;
    if constexpr (std::is_same_v<Stream, Tcp::socket>) {
      connection = std::make_shared<Connection<Stream>>(*hub, std::move(address), strand, std::move(socket));
    } else {
      connection =
          std::make_shared<Connection<Stream>>(*hub, std::move(address), strand, std::move(socket), *tls_context);
    }
    hub->connection_opened(connection);
    asio::dispatch(strand, [connection] { connection->start(); });
  }

  void tick_http() {
    http_ticker->expires_after(std::chrono::milliseconds(kHttpTickMs));
    http_ticker->async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      http_api->tick();
      tick_http();
    });
  }

  Expected<void> setup_tls() {
    auto context = tls::make_server_context(
        {config.tls_cert_file, config.tls_key_file, "blynk.tls_cert_file", "blynk.tls_key_file"});
    if (!context.ok()) return std::move(context).error();
    tls_context = std::move(context).value();
    return {};
  }
};

BlynkServer::BlynkServer(BlynkConfig config, ingest::IngestService& ingest, ingest::DeviceKeys& keys, Clock now_ms)
    : impl_(std::make_unique<Impl>(std::move(config), ingest, keys, std::move(now_ms))) {}

BlynkServer::~BlynkServer() { stop(); }

Expected<void> BlynkServer::start() {
  Impl& m = *impl_;
  const BlynkConfig& c = m.config;
  auto map = c.pin_map.empty() ? Expected<PinMap>(PinMap::standard()) : PinMap::parse(c.pin_map);
  if (!map.ok()) return std::move(map).error();
  std::unordered_map<std::string, PinMap> meter_maps;
  for (const MeterPinMap& m : c.pin_maps) {
    auto own = PinMap::parse(m.map);
    if (!own.ok()) return Error::invalid("blynk.pin_maps", m.meter, own.error().message);
    meter_maps.emplace(m.meter, std::move(own).value());
  }
  if (c.port == 0 && c.tls_port == 0) {
    return Error::invalid("blynk.port", "0", "blynk is enabled but both blynk.port and blynk.tls_port are 0");
  }
  m.hub = std::make_unique<BlynkHub>(c, std::move(map).value(), std::move(meter_maps), m.ingest, m.keys, m.now_ms);
  m.http_api = std::make_unique<BlynkHttpApi>(*m.hub);
  m.http_ticker.emplace(m.io);
  m.tick_http();
  raise_open_file_limit();  // a packaged service raises its own open-file limit: a device is a socket
  if (c.port != 0) {
    auto port = m.listen(m.plain, c.port, "blynk.port");
    if (!port.ok()) return std::move(port).error();
    m.plain_port = port.value();
    m.accept<Tcp::socket>(*m.plain);
  }
  if (c.tls_port != 0) {
    if (auto tls = m.setup_tls(); !tls.ok()) return tls;
    auto port = m.listen(m.tls, c.tls_port, "blynk.tls_port");
    if (!port.ok()) return std::move(port).error();
    m.tls_bound_port = port.value();
    m.accept<TlsStream>(*m.tls);
  }
  for (int k = 0; k < std::max(1, c.threads); ++k) {
    m.threads.emplace_back([&m] {
      for (;;) {
        try {
          m.io.run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("blynk: I/O thread: {}", e.what());
        }
      }
    });
  }
  m.started = true;
  spdlog::info("blynk: devices on {}:{}{} (pins {})", c.bind, m.plain_port,
               m.tls_bound_port ? " and TLS " + std::to_string(m.tls_bound_port) : std::string(),
               m.hub->pin_map().to_string());
  if (!c.pin_maps.empty()) spdlog::info("blynk: {} meter(s) with their own pin map", c.pin_maps.size());
  return {};
}

void BlynkServer::stop() {
  Impl& m = *impl_;
  if (!m.started || m.stopped) return;
  m.stopped = true;
  asio::post(m.io, [&m] {
    boost::system::error_code ignored;
    if (m.plain) m.plain->close(ignored);
    if (m.tls) m.tls->close(ignored);
    m.http_ticker->cancel();
  });
  for (auto& connection : m.hub->open_connections()) connection->close_soon(false);
  // Connections store their pending period and announce their meter offline as they close.
  for (int waited = 0; waited < kStopDrainMs && m.hub->stats().connections_open > 0; waited += 10) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  m.io.stop();
  for (auto& t : m.threads) t.join();
  m.threads.clear();
}

uint16_t BlynkServer::port() const { return impl_->plain_port; }
uint16_t BlynkServer::tls_port() const { return impl_->tls_bound_port; }
BlynkStats BlynkServer::stats() const { return impl_->hub ? impl_->hub->stats() : BlynkStats{}; }

std::optional<HttpApiAnswer> BlynkServer::http(const HttpApiRequest& request) {
  if (!impl_->started || impl_->stopped) return std::nullopt;
  return impl_->http_api->handle(request);
}

}  // namespace wattguard::blynk
