// The live-feed WebSocket client: Beast, one I/O thread, a reconnect loop.
#include "wattguard/demo/live_feed_client.h"

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

namespace wattguard::demo {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using Tcp = asio::ip::tcp;

constexpr int kReconnectMs = 500;

}  // namespace

struct LiveFeedClient::Impl {
  LiveFeedOptions options;
  asio::io_context io;
  std::optional<websocket::stream<beast::tcp_stream>> ws;
  beast::flat_buffer buffer;
  asio::steady_timer retry{io};
  std::thread thread;
  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> connects{0};
  std::mutex mutex;
  std::condition_variable opened;
  bool is_open = false;  // guarded by mutex

  explicit Impl(LiveFeedOptions o) : options(std::move(o)) {}

  void connect() {
    if (stopping) return;
    ws.emplace(io);
    auto resolver = std::make_shared<Tcp::resolver>(io);
    resolver->async_resolve(options.host, std::to_string(options.port),
                            [this, resolver](const beast::error_code& ec, Tcp::resolver::results_type results) {
                              if (ec) return again();
                              beast::get_lowest_layer(*ws).async_connect(results, [this](const beast::error_code& e,
                                                                                         const Tcp::endpoint&) {
                                if (e) return again();
                                handshake();
                              });
                            });
  }

  void handshake() {
    ws->set_option(websocket::stream_base::decorator([token = options.token](websocket::request_type& req) {
      req.set(beast::http::field::authorization, "Bearer " + token);
    }));
    ws->async_handshake(options.host + ":" + std::to_string(options.port), "/api/v1/live",
                        [this](const beast::error_code& ec) {
                          if (ec) return again();
                          ++connects;
                          {
                            std::lock_guard lock(mutex);
                            is_open = true;
                          }
                          opened.notify_all();
                          read();
                        });
  }

  void read() {
    ws->async_read(buffer, [this](const beast::error_code& ec, std::size_t) {
      if (ec) return again();
      const auto text = beast::buffers_to_string(buffer.data());
      buffer.consume(buffer.size());
      const auto messages = nlohmann::json::parse(text, nullptr, false);
      if (messages.is_array()) {
        for (const auto& m : messages) {
          if (!m.is_object() || m.value("type", "") != "reading" || !m.contains("reading")) continue;
          const auto& r = m["reading"];
          if (options.on_reading) options.on_reading(m.value("meter_id", ""), r.value("seq", uint64_t{0}));
        }
      }
      read();
    });
  }

  void again() {
    if (stopping) return;
    retry.expires_after(std::chrono::milliseconds(kReconnectMs));
    retry.async_wait([this](const beast::error_code& ec) {
      if (!ec) connect();
    });
  }
};

LiveFeedClient::LiveFeedClient(LiveFeedOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

LiveFeedClient::~LiveFeedClient() { stop(); }

Expected<void> LiveFeedClient::start(int timeout_ms) {
  Impl& m = *impl_;
  asio::post(m.io, [&m] { m.connect(); });
  m.thread = std::thread([&m] {
    auto guard = asio::make_work_guard(m.io);
    m.io.run();
  });
  std::unique_lock lock(m.mutex);
  if (!m.opened.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&m] { return m.is_open; })) {
    return Error::unavailable("the live feed at " + m.options.host + ":" + std::to_string(m.options.port) +
                              "/api/v1/live did not open");
  }
  return {};
}

void LiveFeedClient::stop() {
  Impl& m = *impl_;
  if (!m.thread.joinable()) return;
  m.stopping = true;
  asio::post(m.io, [&m] {
    m.retry.cancel();
    if (m.ws) beast::get_lowest_layer(*m.ws).close();
    m.io.stop();
  });
  m.thread.join();
}

uint64_t LiveFeedClient::connects() const { return impl_->connects.load(); }

}  // namespace wattguard::demo
