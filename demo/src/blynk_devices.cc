// Simulated Blynk devices on Boost.Asio: one io_context per thread, devices spread over them round-robin, so a
// device's handlers never run concurrently. The frames are built and parsed here from the wire format.
#include "wattguard/demo/blynk_devices.h"

#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

namespace wattguard::demo {
namespace {

namespace asio = boost::asio;
using Tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

// Wire constants (command codes and statuses of the Blynk protocol).
constexpr uint8_t kResponse = 0;
constexpr uint8_t kLogin = 2;
constexpr uint8_t kPing = 6;
constexpr uint8_t kSync = 16;
constexpr uint8_t kInternal = 17;
constexpr uint8_t kHardware = 20;
constexpr uint8_t kHwLogin = 29;
constexpr uint16_t kOk = 200;
constexpr uint16_t kAlreadyRegistered = 4;
constexpr uint16_t kInvalidToken = 9;
constexpr int kRelayPin = 10;
constexpr std::size_t kHeader = 5;

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch()).count();
}

// A frame: command, big-endian id, big-endian length, then the NUL-separated fields.
std::string frame(uint8_t command, uint16_t id, const std::vector<std::string>& fields) {
  std::string body;
  for (std::size_t k = 0; k < fields.size(); ++k) {
    if (k > 0) body.push_back('\0');
    body += fields[k];
  }
  std::string out;
  out.push_back(static_cast<char>(command));
  out.push_back(static_cast<char>(id >> 8));
  out.push_back(static_cast<char>(id & 0xFF));
  out.push_back(static_cast<char>(body.size() >> 8));
  out.push_back(static_cast<char>(body.size() & 0xFF));
  return out + body;
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

struct Counters {
  std::atomic<uint64_t> connects{0}, logins_ok{0}, logins_refused{0}, disconnects{0}, periods{0}, pings{0},
      ping_answers{0}, sync_values{0}, relay_writes{0}, error_statuses{0}, online{0};
};

}  // namespace

struct BlynkDevices::Impl {
  BlynkDevicesOptions options;
  std::vector<std::unique_ptr<asio::io_context>> ios;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::vector<std::thread> threads;
  Tcp::resolver::results_type endpoints;
  Counters counters;
  std::vector<std::atomic<int>> relay;
  std::atomic<bool> stopping{false};
  bool started = false;

  class Device;
  std::vector<std::shared_ptr<Device>> devices;

  explicit Impl(BlynkDevicesOptions o) : options(std::move(o)), relay(options.devices.size()) {
    for (auto& r : relay) r = -1;
  }
};

class BlynkDevices::Impl::Device : public std::enable_shared_from_this<Device> {
 public:
  Device(Impl& impl, std::size_t index, asio::io_context& io)
      : impl_(impl),
        index_(index),
        io_(io),
        socket_(io),
        period_timer_(io),
        ping_timer_(io),
        retry_timer_(io),
        kwh_(1000.0 + static_cast<double>(index)) {}

  void connect_after(int delay_ms) {
    retry_timer_.expires_after(std::chrono::milliseconds(delay_ms));
    retry_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->connect();
    });
  }

  void close() {
    boost::system::error_code ignored;
    period_timer_.cancel();
    ping_timer_.cancel();
    retry_timer_.cancel();
    socket_.close(ignored);
  }

 private:
  const BlynkDevicesOptions& options() const { return impl_.options; }

  void connect() {
    if (impl_.stopping) return;
    socket_ = Tcp::socket(io_);
    rx_.clear();
    tx_.clear();
    writing_ = false;
    logged_in_ = false;
    ++generation_;
    asio::async_connect(
        socket_, impl_.endpoints,
        [self = shared_from_this(), gen = generation_](const boost::system::error_code& ec, const Tcp::endpoint&) {
          if (gen != self->generation_) return;
          if (ec) return self->drop();
          ++self->impl_.counters.connects;
          const bool legacy = self->options().login == BlynkLogin::kLegacy ||
                              (self->options().login == BlynkLogin::kMixed && self->index_ % 2 == 1);
          self->next_id_ = 1;
          self->send(frame(legacy ? kLogin : kHwLogin, self->take_id(), {self->options().devices[self->index_].token}));
          self->read();
        });
  }

  // The connection ended (or never began): count it and try again later, as the library does.
  void drop() {
    if (logged_in_) {
      --impl_.counters.online;
      ++impl_.counters.disconnects;
    }
    logged_in_ = false;
    ++generation_;
    boost::system::error_code ignored;
    socket_.close(ignored);
    period_timer_.cancel();
    ping_timer_.cancel();
    if (!impl_.stopping && !refused_) connect_after(options().reconnect_delay_ms);
  }

  uint16_t take_id() {
    const uint16_t id = next_id_++;
    if (next_id_ == 0) next_id_ = 1;
    return id;
  }

  void send(std::string bytes) {
    tx_.push_back(std::move(bytes));
    if (!writing_) write_next();
  }

  void write_next() {
    writing_ = true;
    asio::async_write(socket_, asio::buffer(tx_.front()),
                      [self = shared_from_this(), gen = generation_](const boost::system::error_code& ec, std::size_t) {
                        if (gen != self->generation_) return;
                        self->tx_.pop_front();
                        self->writing_ = false;
                        if (ec) return self->drop();
                        if (!self->tx_.empty()) self->write_next();
                      });
  }

  void read() {
    socket_.async_read_some(asio::buffer(buffer_), [self = shared_from_this(), gen = generation_](
                                                       const boost::system::error_code& ec, std::size_t n) {
      if (gen != self->generation_) return;
      if (ec) return self->drop();
      self->rx_.append(self->buffer_.data(), n);
      if (!self->parse()) return self->drop();
      if (gen == self->generation_) self->read();
    });
  }

  // Takes every whole frame out of rx_; false when the connection should end.
  bool parse() {
    std::size_t at = 0;
    while (rx_.size() - at >= kHeader) {
      const auto* p = reinterpret_cast<const uint8_t*>(rx_.data() + at);
      const uint8_t command = p[0];
      const uint16_t id = static_cast<uint16_t>((p[1] << 8) | p[2]);
      const uint16_t length = static_cast<uint16_t>((p[3] << 8) | p[4]);
      if (command == kResponse) {
        at += kHeader;
        if (!on_response(id, length)) return false;
        continue;
      }
      if (rx_.size() - at < kHeader + length) break;
      const std::string body = rx_.substr(at + kHeader, length);
      at += kHeader + length;
      if (command == kHardware) on_hardware(id, body);
    }
    rx_.erase(0, at);
    return true;
  }

  bool on_response(uint16_t id, uint16_t status) {
    if (!logged_in_ && id == 1) {
      if (status != kOk && status != kAlreadyRegistered) {
        ++impl_.counters.logins_refused;
        if (status == kInvalidToken) refused_ = true;  // the library stops retrying a token the server refused
        return false;
      }
      logged_in_ = true;
      ++impl_.counters.logins_ok;
      ++impl_.counters.online;
      on_login();
      return true;
    }
    if (status == kOk) {
      ++impl_.counters.ping_answers;
    } else {
      ++impl_.counters.error_statuses;
    }
    return true;
  }

  void on_login() {
    send(frame(kInternal, take_id(),
               {"ver", "1.3.2", "h-beat", std::to_string(options().heartbeat_s), "buff-in", "1024", "dev", "ESP32",
                "cpu", "240000000", "con", "WiFi", "build", "wattguard bench"}));
    if (options().sync_on_connect) {
      sync_id_ = take_id();
      send(frame(kSync, sync_id_, {"vr", std::to_string(kRelayPin)}));
    }
    // Periods spread over the period by device index, as a fleet powered up at random times would be.
    const auto n = static_cast<int64_t>(std::max<std::size_t>(1, options().devices.size()));
    next_period_ =
        SteadyClock::now() + std::chrono::milliseconds(options().period_ms * static_cast<int64_t>(index_) / n);
    arm_period();
    arm_ping();
  }

  void arm_period() {
    period_timer_.expires_at(next_period_);
    period_timer_.async_wait([self = shared_from_this(), gen = generation_](const boost::system::error_code& ec) {
      if (ec || gen != self->generation_ || self->impl_.stopping) return;
      self->write_period();
      self->next_period_ += std::chrono::milliseconds(self->options().period_ms);
      self->arm_period();
    });
  }

  void arm_ping() {
    ping_timer_.expires_after(std::chrono::seconds(options().heartbeat_s));
    ping_timer_.async_wait([self = shared_from_this(), gen = generation_](const boost::system::error_code& ec) {
      if (ec || gen != self->generation_ || self->impl_.stopping) return;
      ++self->impl_.counters.pings;
      self->send(frame(kPing, self->take_id(), {}));
      self->arm_ping();
    });
  }

  // V0..V5 as the seed sketch writes them: Vrms (EmonLib's double, 7 decimals), Irms, P, S, pf, kWh (floats).
  void write_period() {
    ++period_;
    const double t = static_cast<double>(period_);
    const double v = 230.0 + 4.0 * std::sin(t / 7.0 + static_cast<double>(index_));
    const double i = 0.5 + static_cast<double>(index_ % 20) * 0.4 + 0.2 * std::sin(t / 3.0);
    const double pf = 0.92;
    const double s = v * i;
    const double p = s * pf;
    kwh_ += p * options().period_ms / 3.6e9;
    std::string bytes;
    bytes += frame(kHardware, take_id(), {"vw", "0", fixed(v, 7)});
    bytes += frame(kHardware, take_id(), {"vw", "1", fixed(i, 3)});
    bytes += frame(kHardware, take_id(), {"vw", "2", fixed(p, 3)});
    bytes += frame(kHardware, take_id(), {"vw", "3", fixed(s, 3)});
    bytes += frame(kHardware, take_id(), {"vw", "4", fixed(pf, 3)});
    bytes += frame(kHardware, take_id(), {"vw", "5", fixed(kwh_, 3)});
    send(std::move(bytes));
    ++impl_.counters.periods;
    if (options().on_period_written) options().on_period_written(index_, steady_ns());
  }

  void on_hardware(uint16_t id, const std::string& body) {
    // "vw" NUL pin NUL value
    const std::size_t a = body.find('\0');
    if (a == std::string::npos || body.substr(0, a) != "vw") return;
    const std::size_t b = body.find('\0', a + 1);
    if (b == std::string::npos) return;
    const int pin = std::atoi(body.substr(a + 1, b - a - 1).c_str());
    const std::string value = body.substr(b + 1);
    if (id == sync_id_ && sync_id_ != 0) {
      ++impl_.counters.sync_values;
      return;
    }
    if (pin != kRelayPin) return;
    ++impl_.counters.relay_writes;
    impl_.relay[index_] = std::atoi(value.c_str()) != 0 ? 1 : 0;
    if (options().echo_relay) send(frame(kHardware, take_id(), {"vw", std::to_string(kRelayPin), value}));
  }

  Impl& impl_;
  std::size_t index_;
  asio::io_context& io_;
  Tcp::socket socket_;
  asio::steady_timer period_timer_;
  asio::steady_timer ping_timer_;
  asio::steady_timer retry_timer_;
  std::array<char, 2048> buffer_{};
  std::string rx_;
  std::deque<std::string> tx_;
  bool writing_ = false;
  bool logged_in_ = false;
  bool refused_ = false;
  uint64_t generation_ = 0;
  uint16_t next_id_ = 1;
  uint16_t sync_id_ = 0;
  uint64_t period_ = 0;
  double kwh_;  // the register, kWh: a meter that has run for a while
  SteadyClock::time_point next_period_;
};

BlynkDevices::BlynkDevices(BlynkDevicesOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

BlynkDevices::~BlynkDevices() { stop(); }

void BlynkDevices::start() {
  Impl& m = *impl_;
  if (m.started) return;
  m.started = true;
  const int threads = std::max(1, m.options.threads);
  for (int k = 0; k < threads; ++k) {
    m.ios.push_back(std::make_unique<asio::io_context>(1));
    m.guards.push_back(asio::make_work_guard(*m.ios.back()));
  }
  {
    asio::io_context io;
    Tcp::resolver resolver(io);
    boost::system::error_code ec;
    m.endpoints = resolver.resolve(m.options.host, std::to_string(m.options.port), ec);
    if (ec) spdlog::error("blynk devices: cannot resolve {}: {}", m.options.host, ec.message());
  }
  const std::size_t n = m.options.devices.size();
  for (std::size_t k = 0; k < n; ++k) {
    auto& io = *m.ios[k % m.ios.size()];
    m.devices.push_back(std::make_shared<Impl::Device>(m, k, io));
    const int delay = m.options.connect_spread_ms > 0
                          ? static_cast<int>(static_cast<int64_t>(m.options.connect_spread_ms) *
                                             static_cast<int64_t>(k) / static_cast<int64_t>(n))
                          : 0;
    asio::post(io, [d = m.devices.back(), delay] { d->connect_after(delay); });
  }
  for (auto& io : m.ios) m.threads.emplace_back([&io = *io] { io.run(); });
}

void BlynkDevices::stop() {
  Impl& m = *impl_;
  if (!m.started || m.stopping.exchange(true)) return;
  for (std::size_t k = 0; k < m.devices.size(); ++k) {
    asio::post(*m.ios[k % m.ios.size()], [d = m.devices[k]] { d->close(); });
  }
  for (auto& g : m.guards) g.reset();
  for (auto& t : m.threads) t.join();
  m.devices.clear();
}

BlynkDevicesStats BlynkDevices::stats() const {
  const Counters& c = impl_->counters;
  BlynkDevicesStats s;
  s.connects = c.connects;
  s.logins_ok = c.logins_ok;
  s.logins_refused = c.logins_refused;
  s.disconnects = c.disconnects;
  s.periods_written = c.periods;
  s.pings_sent = c.pings;
  s.ping_answers = c.ping_answers;
  s.sync_values = c.sync_values;
  s.relay_writes = c.relay_writes;
  s.error_statuses = c.error_statuses;
  s.devices_online = c.online;
  return s;
}

std::vector<int> BlynkDevices::relay_values() const {
  std::vector<int> out;
  out.reserve(impl_->relay.size());
  for (const auto& r : impl_->relay) out.push_back(r.load());
  return out;
}

}  // namespace wattguard::demo
