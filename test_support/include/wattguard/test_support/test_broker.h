// Test helper: a real Mosquitto broker as a child process on a free loopback port, with its own
// config, password file, ACL and persistence directory; plus a small synchronous MQTT client.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

struct mosquitto;
struct mosquitto_message;

namespace wattguard::test_support {

// Path of the mosquitto binary, or empty if it is not installed.
std::string mosquitto_binary();

class TestBroker {
 public:
  // dir: scratch directory for config, passwd, acl, persistence and log (created).
  explicit TestBroker(std::filesystem::path dir);
  ~TestBroker();  // stops the broker (SIGTERM, then SIGKILL)

  bool start();          // false if it did not accept connections within 10 s (see log())
  void stop();           // graceful: SIGTERM, wait (the broker saves its persistence file)
  bool restart() { stop(); return start(); }
  void reload();         // SIGHUP: re-read password and ACL files

  int port() const { return port_; }
  std::filesystem::path password_file() const { return dir_ / "passwd"; }
  std::filesystem::path acl_file() const { return dir_ / "acl"; }
  std::string log() const;

 private:
  std::filesystem::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// A blocking MQTT client for tests (libmosquitto with its own thread).
class TestClient {
 public:
  struct Options {
    std::string client_id;
    std::string username;
    std::string password;
    bool clean_session = true;
    std::optional<std::pair<std::string, std::string>> will;  // topic, payload (QoS 1, retained)
  };
  TestClient(int port, Options options);
  ~TestClient();

  // Waits for the CONNACK; returns the broker's return code (0 = accepted), or -1 on timeout.
  int connect(int timeout_ms = 5000);
  // Publishes QoS 1; retries while disconnected; returns false after timeout_ms.
  bool publish(const std::string& topic, const std::string& payload, bool retain = false, int timeout_ms = 20000);
  // Waits until every publish has been acknowledged by the broker.
  bool wait_acked(int timeout_ms = 20000);
  bool subscribe(const std::string& topic);
  // Drops the TCP connection without DISCONNECT, so the broker publishes the last will.
  void drop_connection();
  void disconnect();
  bool is_connected() const { return connected_; }
  // Called on the client thread for each message received.
  std::function<void(const std::string& topic, const std::string& payload)> on_message;

 private:
  static void cb_connect(mosquitto*, void*, int);
  static void cb_disconnect(mosquitto*, void*, int);
  static void cb_publish(mosquitto*, void*, int);
  static void cb_message(mosquitto*, void*, const mosquitto_message*);
  mosquitto* mosq_ = nullptr;
  int port_;
  std::mutex mu_;
  std::condition_variable cv_;
  int connack_ = -2;
  std::atomic<bool> connected_{false};
  long sent_ = 0;
  long acked_ = 0;
};

}  // namespace wattguard::test_support
