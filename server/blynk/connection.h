// One Blynk device connection on Boost.Asio: reads bytes into its Session, writes the session's frames (one
// write in flight), arms one timer at the session's next deadline, and carries out the session's actions
// against ingest through BlynkHub. Private to server/blynk. Thread safety: every member runs on the
// connection's strand except deliver() and close_soon(), which only post to it.
#pragma once

#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "server/blynk/blynk_hub.h"
#include "wattguard/blynk/session.h"

namespace wattguard::blynk {

namespace asio = boost::asio;
using Tcp = asio::ip::tcp;

// The interface the hub keeps of a connection, whatever its stream.
class ConnectionBase {
 public:
  virtual ~ConnectionBase() = default;
  // A command for this device; false when the connection is closing. Only posts to the strand.
  virtual bool deliver(const protocol::Command& command) = 0;
  // Closes the connection soon. `superseded`: another connection of the same meter replaced it, so this one
  // must neither detach the meter's link nor announce it offline.
  virtual void close_soon(bool superseded) = 0;
};

// The most bytes queued for a device that does not read them before it is dropped.
inline constexpr std::size_t kMaxQueuedBytes = 64 * 1024;
inline constexpr std::size_t kReadChunk = 1024;

template <class Stream>
class Connection final : public ConnectionBase, public std::enable_shared_from_this<Connection<Stream>> {
 public:
  template <class... StreamArgs>
  Connection(BlynkHub& hub, std::string remote, asio::strand<asio::io_context::executor_type> strand,
             StreamArgs&&... stream_args)
      : hub_(hub),
        strand_(strand),
        stream_(std::forward<StreamArgs>(stream_args)...),
        timer_(strand_),
        remote_(std::move(remote)),
        session_(hub.pin_map(), hub.limits(), hub.now()) {}

  ~Connection() override { hub_.connection_gone(this); }

  // REQUIRES: called once, on the strand.
  void start() {
    arm(session_.deadline_ms());
    if constexpr (std::is_same_v<Stream, Tcp::socket>) {
      read();
    } else {
      auto self = this->shared_from_this();
      stream_.async_handshake(asio::ssl::stream_base::server, [self](const boost::system::error_code& ec) {
        if (ec) return self->shut();
        self->read();
      });
    }
  }

  bool deliver(const protocol::Command& command) override {
    if (closing_.load()) return false;
    asio::post(strand_, [self = this->shared_from_this(), command] {
      SessionOutput out;
      self->session_.on_command(command, self->hub_.now(), out);
      self->apply(out);
    });
    return true;
  }

  void close_soon(bool superseded) override {
    asio::post(strand_, [self = this->shared_from_this(), superseded] {
      if (superseded) self->superseded_ = true;
      self->shut();
    });
  }

 private:
  Tcp::socket& socket() {
    if constexpr (std::is_same_v<Stream, Tcp::socket>) {
      return stream_;
    } else {
      return stream_.next_layer();
    }
  }

  void read() {
    auto self = this->shared_from_this();
    stream_.async_read_some(asio::buffer(buffer_), [self](const boost::system::error_code& ec, std::size_t n) {
      if (ec) return self->shut();
      SessionOutput out;
      self->session_.on_bytes(std::string_view(self->buffer_.data(), n), self->hub_.now(), out);
      self->apply(out);
      if (!self->closing_.load()) self->read();
    });
  }

  void apply(SessionOutput& out) {
    hub_.count(out);
    if (out.login_token) login(std::move(*out.login_token));
    if (out.logged_in) {
      meter_ = session_.meter_id();
      hub_.logged_in(meter_, this->shared_from_this(), session_.login_command());
    }
    hub_.submit(out);
    if (!out.send.empty()) send(std::move(out.send));
    if (out.close) {
      closing_ = true;
      if (!writing_) shut();
    } else {
      arm(session_.deadline_ms());
    }
  }

  void login(std::string token) {
    const int64_t delay = hub_.token_delay_ms(remote_);
    auto self = this->shared_from_this();
    auto answer = [self, token = std::move(token)] {
      SessionOutput out;
      auto grant = self->hub_.look_up(token, self->remote_);
      if (!grant.ok()) {
        // Not the device's fault (the database failed): no "invalid token", which would stop its retries.
        out.send = encode_response(1, Status::kServerException);
        out.close = true;
      } else {
        self->session_.on_login(std::move(grant).value(), self->hub_.now(), out);
      }
      self->apply(out);
    };
    if (delay <= 0) return answer();
    login_timer_ = std::make_unique<asio::steady_timer>(strand_, std::chrono::milliseconds(delay));
    login_timer_->async_wait([self, answer](const boost::system::error_code& ec) {
      if (!ec && !self->closing_.load()) answer();
    });
  }

  void send(std::string bytes) {
    queued_bytes_ += bytes.size();
    if (queued_bytes_ > kMaxQueuedBytes) return shut();
    queue_.push_back(std::move(bytes));
    if (!writing_) write_next();
  }

  void write_next() {
    writing_ = true;
    auto self = this->shared_from_this();
    asio::async_write(stream_, asio::buffer(queue_.front()), [self](const boost::system::error_code& ec, std::size_t) {
      self->queued_bytes_ -= self->queue_.front().size();
      self->queue_.pop_front();
      self->writing_ = false;
      if (ec) return self->shut();
      if (!self->queue_.empty()) return self->write_next();
      if (self->closing_.load()) self->shut();
    });
  }

  void arm(int64_t deadline_ms) {
    if (shut_ || deadline_ms >= armed_ms_ || deadline_ms == INT64_MAX) return;
    armed_ms_ = deadline_ms;
    const int64_t wait = std::max<int64_t>(0, deadline_ms - hub_.now());
    timer_.expires_after(std::chrono::milliseconds(wait));
    timer_.async_wait([self = this->shared_from_this()](const boost::system::error_code& ec) {
      if (ec) return;
      self->armed_ms_ = INT64_MAX;
      if (self->closing_.load()) return;
      SessionOutput out;
      self->session_.on_tick(self->hub_.now(), out);
      self->apply(out);
    });
  }

  // Ends the connection once: the session's pending period is stored, the meter's link detached and its offline
  // status sent (unless a newer connection took the meter over).
  void shut() {
    if (shut_) return;
    shut_ = true;
    closing_ = true;
    SessionOutput out;
    session_.on_close(out);
    hub_.submit(out);
    if (!meter_.empty()) hub_.logged_out(meter_, this, superseded_);
    boost::system::error_code ignored;
    timer_.cancel();
    if (login_timer_) login_timer_->cancel();
    socket().shutdown(Tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
  }

  BlynkHub& hub_;
  asio::strand<asio::io_context::executor_type> strand_;
  Stream stream_;
  asio::steady_timer timer_;
  std::unique_ptr<asio::steady_timer> login_timer_;
  std::string remote_;
  Session session_;
  std::string meter_;
  std::array<char, kReadChunk> buffer_{};
  std::deque<std::string> queue_;
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool shut_ = false;
  bool superseded_ = false;
  std::atomic<bool> closing_{false};
  int64_t armed_ms_ = INT64_MAX;
};

}  // namespace wattguard::blynk
