// Test helpers for the API's integration tests: a real Mosquitto broker on a free loopback port
// (child process, killed at the end) and a virtual meter speaking the MQTT protocol with libmosquitto.
#pragma once

#include <arpa/inet.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "wattguard/test_support/temp_dir.h"
#include "wattguard/protocol/codec.h"
#include "wattguard/protocol/topics.h"

extern char** environ;

namespace wattguard::serve {
using test_support::TempDir;

// A loopback TCP port nobody listens on right now.
inline uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

inline bool port_accepts(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// Mosquitto with anonymous access on 127.0.0.1:<free port>.
class TestBroker {
 public:
  explicit TestBroker(const TempDir& dir) {
    port_ = free_port();
    const std::string conf = dir.file("mosquitto.conf");
    std::ofstream(conf) << "listener " << port_ << " 127.0.0.1\nallow_anonymous true\npersistence false\n"
                        << "log_dest none\n";
    const char* path = "/usr/sbin/mosquitto";
    std::vector<std::string> args = {path, "-c", conf};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, path, nullptr, nullptr, argv.data(), environ) != 0) {
      throw std::runtime_error("cannot start mosquitto");
    }
    for (int i = 0; i < 500 && !port_accepts(port_); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (!port_accepts(port_)) throw std::runtime_error("mosquitto did not start listening");
  }
  ~TestBroker() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  TestBroker(const TestBroker&) = delete;
  TestBroker& operator=(const TestBroker&) = delete;

  uint16_t port() const { return port_; }

 private:
  pid_t pid_ = 0;
  uint16_t port_ = 0;
};

// One MQTT client standing in for meters: publishes readings and status, and (when asked)
// acknowledges commands for the meters in `answering`.
class TestMeters {
 public:
  TestMeters(uint16_t port, std::vector<std::string> answering) : answering_(std::move(answering)) {
    mosquitto_lib_init();
    client_ = mosquitto_new(nullptr, true, this);
    mosquitto_message_callback_set(client_, &TestMeters::on_message);
    if (mosquitto_connect(client_, "127.0.0.1", port, 30) != MOSQ_ERR_SUCCESS) {
      throw std::runtime_error("test meters cannot connect");
    }
    mosquitto_loop_start(client_);
    for (const auto& id : answering_) {
      const std::string topic = protocol::make_topic(id, protocol::TopicKind::kCmd);
      mosquitto_subscribe(client_, nullptr, topic.c_str(), 1);
    }
  }
  ~TestMeters() {
    mosquitto_disconnect(client_);
    mosquitto_loop_stop(client_, true);
    mosquitto_destroy(client_);
  }
  TestMeters(const TestMeters&) = delete;
  TestMeters& operator=(const TestMeters&) = delete;

  void publish_raw(const std::string& topic, const std::string& payload) {
    mosquitto_publish(client_, nullptr, topic.c_str(), static_cast<int>(payload.size()), payload.data(), 1, false);
  }
  void publish(const protocol::Reading& r) {
    publish_raw(protocol::make_topic(r.meter_id, protocol::TopicKind::kReading), protocol::encode(r));
  }
  int commands_seen() const { return commands_seen_.load(); }

 private:
  static void on_message(mosquitto*, void* self_ptr, const mosquitto_message* msg) {
    auto* self = static_cast<TestMeters*>(self_ptr);
    const auto parsed = protocol::parse_topic(msg->topic);
    if (!parsed || parsed->kind != protocol::TopicKind::kCmd) return;
    const std::string payload(static_cast<const char*>(msg->payload), static_cast<std::size_t>(msg->payloadlen));
    protocol::DecodeContext ctx;
    ctx.topic_meter_id = parsed->meter_id;
    const auto cmd = protocol::decode_command(payload, ctx);
    if (!cmd.ok()) return;
    ++self->commands_seen_;
    protocol::CommandAck ack;
    ack.id = cmd->id;
    ack.meter_id = cmd->meter_id;
    ack.ok = true;
    ack.relay = cmd->kind == protocol::CommandKind::kRelayOff ? protocol::RelayState::kOff : protocol::RelayState::kOn;
    ack.time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    const std::string ack_topic = protocol::make_topic(cmd->meter_id, protocol::TopicKind::kCmdAck);
    const std::string text = protocol::encode(ack);
    mosquitto_publish(self->client_, nullptr, ack_topic.c_str(), static_cast<int>(text.size()), text.data(), 1, false);
  }

  mosquitto* client_ = nullptr;
  std::vector<std::string> answering_;
  std::atomic<int> commands_seen_{0};
};

}  // namespace wattguard::serve
