// The blocking test MQTT client (see test_client.h).
#include "wattguard/test_support/test_client.h"

#include <mosquitto.h>
#include <sys/socket.h>

#include <chrono>
#include <thread>

namespace wattguard::test_support {

TestClient::TestClient(int port, Options o) : port_(port) {
  mosquitto_lib_init();
  mosq_ = mosquitto_new(o.client_id.empty() ? nullptr : o.client_id.c_str(), o.clean_session, this);
  mosquitto_connect_callback_set(mosq_, &TestClient::cb_connect);
  mosquitto_disconnect_callback_set(mosq_, &TestClient::cb_disconnect);
  mosquitto_publish_callback_set(mosq_, &TestClient::cb_publish);
  mosquitto_message_callback_set(mosq_, &TestClient::cb_message);
  mosquitto_subscribe_callback_set(mosq_, &TestClient::cb_subscribe);
  mosquitto_reconnect_delay_set(mosq_, 1, 1, false);
  mosquitto_max_inflight_messages_set(mosq_, 100);
  if (!o.username.empty()) mosquitto_username_pw_set(mosq_, o.username.c_str(), o.password.c_str());
  // A test that gives a bad TLS setting wants to see it fail at connect, like a meter would.
  if (auto secured = tls::apply_mqtt_client_tls(mosq_, o.tls); !secured.ok()) tls_error_ = secured.error().to_string();
  if (o.will) {
    mosquitto_will_set(mosq_, o.will->first.c_str(), static_cast<int>(o.will->second.size()), o.will->second.data(), 1,
                       true);
  }
}

TestClient::~TestClient() {
  disconnect();
  mosquitto_destroy(mosq_);
}

void TestClient::cb_connect(mosquitto*, void* obj, int rc) {
  auto* self = static_cast<TestClient*>(obj);
  std::lock_guard lk(self->mu_);
  self->connack_ = rc;
  self->connected_ = rc == 0;
  self->cv_.notify_all();
}

void TestClient::cb_disconnect(mosquitto*, void* obj, int) {
  auto* self = static_cast<TestClient*>(obj);
  self->connected_ = false;
  ++self->disconnects_;
}

void TestClient::cb_publish(mosquitto*, void* obj, int) {
  auto* self = static_cast<TestClient*>(obj);
  std::lock_guard lk(self->mu_);
  ++self->acked_;
  self->cv_.notify_all();
}

void TestClient::cb_subscribe(mosquitto*, void* obj, int mid, int, const int*) {
  auto* self = static_cast<TestClient*>(obj);
  std::lock_guard lk(self->mu_);
  self->subacked_.insert(mid);
  self->cv_.notify_all();
}

void TestClient::cb_message(mosquitto*, void* obj, const mosquitto_message* m) {
  auto* self = static_cast<TestClient*>(obj);
  if (self->on_message) {
    self->on_message(m->topic,
                     std::string(static_cast<const char*>(m->payload), static_cast<std::size_t>(m->payloadlen)));
  }
}

int TestClient::connect(int timeout_ms) {
  if (!tls_error_.empty()) return -1;
  {
    std::lock_guard lk(mu_);
    connack_ = -2;
  }
  mosquitto_connect_async(mosq_, "127.0.0.1", port_, 10);
  mosquitto_loop_start(mosq_);
  std::unique_lock lk(mu_);
  if (!cv_.wait_for(lk, std::chrono::milliseconds(timeout_ms), [&] { return connack_ != -2; })) return -1;
  return connack_;
}

bool TestClient::publish(const std::string& topic, const std::string& payload, bool retain, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    const int rc =
        mosquitto_publish(mosq_, nullptr, topic.c_str(), static_cast<int>(payload.size()), payload.data(), 1, retain);
    if (rc == MOSQ_ERR_SUCCESS) {
      std::lock_guard lk(mu_);
      ++sent_;
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // not connected: store-and-forward
  }
  return false;
}

bool TestClient::wait_acked(int timeout_ms) {
  std::unique_lock lk(mu_);
  return cv_.wait_for(lk, std::chrono::milliseconds(timeout_ms), [&] { return acked_ >= sent_; });
}

bool TestClient::subscribe(const std::string& topic, int timeout_ms) {
  // Acknowledged ids are kept, so a SUBACK that arrives before we wait is still seen.
  int mid = 0;
  if (mosquitto_subscribe(mosq_, &mid, topic.c_str(), 1) != MOSQ_ERR_SUCCESS) return false;
  std::unique_lock lk(mu_);
  return cv_.wait_for(lk, std::chrono::milliseconds(timeout_ms), [&] { return subacked_.count(mid) > 0; });
}

void TestClient::drop_connection() {
  // Shut the socket first, so the broker sees the connection end without a DISCONNECT and
  // publishes the will (nothing can be sent on it afterwards). Then mark the client as
  // disconnecting and stop its thread normally: libmosquitto checks that state after a lost
  // connection and after its reconnect sleep, so the thread ends without reconnecting. The thread
  // is never cancelled: cancelled inside getaddrinfo() during a reconnect, libmosquitto leaks
  // the resolver's result (LeakSanitizer failed CI runs on it).
  mosquitto_reconnect_delay_set(mosq_, 3600, 3600, false);
  const int fd = mosquitto_socket(mosq_);
  if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
  mosquitto_disconnect(mosq_);
  mosquitto_loop_stop(mosq_, false);
}

void TestClient::disconnect() {
  mosquitto_disconnect(mosq_);
  mosquitto_loop_stop(mosq_, false);
}

}  // namespace wattguard::test_support
