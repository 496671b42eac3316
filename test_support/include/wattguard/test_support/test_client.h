// Test helper: a small synchronous MQTT client, for tests that talk to a real broker
// (broker::BrokerProcess) as a meter or as the server would.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "wattguard/tls/mqtt_client_tls.h"

struct mosquitto;
struct mosquitto_message;

namespace wattguard::test_support {

// A blocking MQTT client for tests (libmosquitto with its own thread).
class TestClient {
 public:
  struct Options {
    std::string client_id;
    std::string username;
    std::string password;
    bool clean_session = true;
    std::optional<std::pair<std::string, std::string>> will;  // topic, payload (QoS 1, retained)
    tls::MqttClientTls tls{};  // enabled: MQTT over TLS (connect to the broker's tls_port())
  };
  TestClient(int port, Options options);
  ~TestClient();

  // Waits for the CONNACK; returns the broker's return code (0 = accepted), or -1 on timeout (also when the TLS
  // handshake fails: libmosquitto then keeps retrying without ever sending CONNECT).
  int connect(int timeout_ms = 5000);
  // Publishes QoS 1; retries while disconnected; returns false after timeout_ms.
  bool publish(const std::string& topic, const std::string& payload, bool retain = false, int timeout_ms = 20000);
  // Waits until every publish has been acknowledged by the broker.
  bool wait_acked(int timeout_ms = 20000);
  // Returns once the broker has acknowledged the subscription, so nothing published after it is missed.
  bool subscribe(const std::string& topic, int timeout_ms = 10000);
  // Drops the TCP connection without DISCONNECT, so the broker publishes the last will.
  void drop_connection();
  void disconnect();
  bool is_connected() const { return connected_; }
  // How often the connection was lost or closed since construction (a broker kicking the client counts).
  int disconnects() const { return disconnects_; }
  // Called on the client thread for each message received.
  std::function<void(const std::string& topic, const std::string& payload)> on_message;

 private:
  static void cb_connect(mosquitto*, void*, int);
  static void cb_disconnect(mosquitto*, void*, int);
  static void cb_publish(mosquitto*, void*, int);
  static void cb_message(mosquitto*, void*, const mosquitto_message*);
  static void cb_subscribe(mosquitto*, void*, int, int, const int*);
  mosquitto* mosq_ = nullptr;
  int port_;
  std::mutex mu_;
  std::condition_variable cv_;
  int connack_ = -2;
  std::atomic<bool> connected_{false};
  std::atomic<int> disconnects_{0};
  long sent_ = 0;
  long acked_ = 0;
  std::set<int> subacked_;
  std::string tls_error_;  // apply_mqtt_client_tls refused the options  // message ids of acknowledged subscriptions
};

}  // namespace wattguard::test_support
