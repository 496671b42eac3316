// The live feed's WebSocket session: messages from the hub into a bounded queue, written as JSON arrays; access
// checked again periodically and when the hub says it changed, ending the stream with a close frame once gone. The
// same session over plain TCP (ws://) and over the HTTPS connection's TLS stream (wss://).
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include "server/api/http_shared.h"

namespace wattguard::api {
namespace {

using namespace beast_names;  // NOLINT: the Beast short names, in this file only

// A WebSocket client of the live feed. Messages arrive through offer() from any thread into a
// bounded queue; on the session's strand they are written as JSON arrays, one write at a time,
// batching whatever queued up meanwhile.
// `NextLayer`: beast::tcp_stream or TlsStream.
template <class NextLayer>
class WebSocketSession : public LiveSink, public std::enable_shared_from_this<WebSocketSession<NextLayer>> {
 public:
  // `next`: the plain socket, or the TLS stream whose handshake is done.
  template <class Next>
  WebSocketSession(Next&& next, HttpShared& shared, std::unique_ptr<ConnectionSlot> slot, LiveUpgrade decision)
      : slot_(std::move(slot)),
        ws_(std::forward<Next>(next)),
        recheck_timer_(ws_.get_executor()),
        shared_(shared),
        meters_(std::move(decision.meters)),
        recheck_(std::move(decision.recheck)) {}

  ~WebSocketSession() override {
    if (subscription_ != 0) shared_.hub->unsubscribe(subscription_);
  }

  void run(const BeastRequest& req) {
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
    ws_.async_accept(req, beast::bind_front_handler(&WebSocketSession::on_accept, this->shared_from_this()));
  }

  OfferResult offer(const std::shared_ptr<const std::string>& message) override {
    std::lock_guard lock(mutex_);
    if (closed_) return OfferResult::kClosed;
    if (pending_.size() >= shared_.options.ws_queue_max) {
      // Too slow to keep up: drop it rather than buffer without bound or block publishers.
      closed_ = true;
      pending_.clear();
      net::post(ws_.get_executor(), [self = this->shared_from_this()] { self->abort(); });
      return OfferResult::kOverflow;
    }
    pending_.push_back(message);
    if (!flush_posted_) {
      flush_posted_ = true;
      net::post(ws_.get_executor(), [self = this->shared_from_this()] { self->flush(); });
    }
    return OfferResult::kQueued;
  }

  void access_changed() override {
    net::post(ws_.get_executor(), [self = this->shared_from_this()] { self->recheck(); });
  }

 private:
  void on_accept(beast::error_code ec) {
    if (ec) {
      if (!is_normal_end(ec)) spdlog::debug("live: handshake failed: {}", ec.message());
      return;
    }
    subscription_ = shared_.hub->subscribe(this->weak_from_this(), meters_);
    do_read();
    // Access may have ended between the upgrade's decision and the subscription, unseen by access_changed().
    recheck();
    schedule_recheck();
  }

  void schedule_recheck() {
    if (!recheck_ || ending_) return;
    recheck_timer_.expires_after(std::chrono::seconds(shared_.options.ws_recheck_s));
    recheck_timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (ec) return;
      self->recheck();
      self->schedule_recheck();
    });
  }

  // On the strand: ends the stream with a close frame once the client may no longer watch.
  void recheck() {
    if (!recheck_ || ending_) return;
    std::optional<std::string> reason;
    try {
      reason = recheck_();
    } catch (const std::exception& e) {
      spdlog::error("live: access check failed: {}", e.what());
      reason = "internal error";
    }
    if (!reason) return;
    ending_ = true;
    mark_closed();
    recheck_timer_.cancel();
    spdlog::info("live: closing a stream: {}", *reason);
    // A close frame's reason is at most 123 bytes.
    websocket::close_reason why(websocket::close_code::policy_error, reason->substr(0, 120));
    ws_.async_close(why, [self = this->shared_from_this()](beast::error_code) {});
  }

  // Keeps a read pending so control frames (ping, pong, close) are processed.
  void do_read() {
    ws_.async_read(read_buffer_, beast::bind_front_handler(&WebSocketSession::on_read, this->shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) {
      if (!is_normal_end(ec)) spdlog::debug("live: read failed: {}", ec.message());
      mark_closed();
      recheck_timer_.cancel();
      return;
    }
    read_buffer_.consume(read_buffer_.size());  // client messages carry nothing we act on
    do_read();
  }

  void flush() {
    if (writing_ || ending_) return;
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
    ws_.async_write(net::buffer(frame_),
                    beast::bind_front_handler(&WebSocketSession::on_write, this->shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    writing_ = false;
    if (ec) {
      if (!is_normal_end(ec)) spdlog::debug("live: write failed: {}", ec.message());
      mark_closed();
      recheck_timer_.cancel();
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
    recheck_timer_.cancel();
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(Tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).close();
  }

  std::unique_ptr<ConnectionSlot> slot_;
  websocket::stream<NextLayer> ws_;
  net::steady_timer recheck_timer_;
  HttpShared& shared_;
  std::optional<LiveHub::MeterSet> meters_;
  std::function<std::optional<std::string>()> recheck_;
  uint64_t subscription_ = 0;
  beast::flat_buffer read_buffer_;
  std::string frame_;     // the frame being written (strand only)
  bool writing_ = false;  // strand only
  bool ending_ = false;   // strand only: the close frame is on its way

  std::mutex mutex_;  // guards the fields below, shared with offer()
  std::deque<std::shared_ptr<const std::string>> pending_;
  bool flush_posted_ = false;
  bool closed_ = false;
};

}  // namespace

void start_live_session(Tcp::socket&& socket, HttpShared& shared, std::unique_ptr<ConnectionSlot> slot,
                        LiveUpgrade decision, const BeastRequest& request) {
  std::make_shared<WebSocketSession<beast::tcp_stream>>(std::move(socket), shared, std::move(slot), std::move(decision))
      ->run(request);
}

void start_live_session(TlsStream&& stream, HttpShared& shared, std::unique_ptr<ConnectionSlot> slot,
                        LiveUpgrade decision, const BeastRequest& request) {
  std::make_shared<WebSocketSession<TlsStream>>(std::move(stream), shared, std::move(slot), std::move(decision))
      ->run(request);
}

}  // namespace wattguard::api
