// Test helper: one MQTT client standing in for many meters on an anonymous broker: publishes their
// readings and raw messages, and acknowledges the commands sent to the meters it answers for.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "wattguard/protocol/messages.h"

struct mosquitto;
struct mosquitto_message;

namespace wattguard::test_support {

// Publishes are QoS 1, fire and forget. Thread-safe for one publishing thread; acks are sent from
// libmosquitto's thread.
class TestMeters {
 public:
  // Connects (blocking) and subscribes to the cmd topic of every meter in `answering`. Throws if the
  // broker cannot be reached: a test without its meters cannot run.
  TestMeters(uint16_t port, std::vector<std::string> answering);
  ~TestMeters();
  TestMeters(const TestMeters&) = delete;
  TestMeters& operator=(const TestMeters&) = delete;

  void publish_raw(const std::string& topic, const std::string& payload);
  void publish(const protocol::Reading& r);
  // Commands received and acknowledged so far.
  int commands_seen() const { return commands_seen_.load(); }

 private:
  static void on_message(mosquitto*, void* self_ptr, const mosquitto_message* msg);
  static void on_subscribe(mosquitto*, void* self_ptr, int mid, int qos_count, const int* granted);

  mosquitto* client_ = nullptr;
  std::vector<std::string> answering_;
  std::atomic<int> commands_seen_{0};
  std::atomic<std::size_t> subscriptions_acked_{0};
};

}  // namespace wattguard::test_support
