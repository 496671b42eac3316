// The test meters (see test_meters.h).
#include "wattguard/test_support/test_meters.h"

#include <mosquitto.h>

#include <chrono>
#include <stdexcept>
#include <thread>

#include "wattguard/base/clock.h"
#include "wattguard/protocol/codec.h"
#include "wattguard/protocol/topics.h"

namespace wattguard::test_support {

TestMeters::TestMeters(uint16_t port, std::vector<std::string> answering) : answering_(std::move(answering)) {
  mosquitto_lib_init();
  client_ = mosquitto_new(nullptr, true, this);
  mosquitto_message_callback_set(client_, &TestMeters::on_message);
  mosquitto_subscribe_callback_set(client_, &TestMeters::on_subscribe);
  if (mosquitto_connect(client_, "127.0.0.1", port, 30) != MOSQ_ERR_SUCCESS) {
    mosquitto_destroy(client_);
    throw std::runtime_error("test meters cannot connect");
  }
  mosquitto_loop_start(client_);
  for (const auto& id : answering_) {
    const std::string topic = protocol::make_topic(id, protocol::TopicKind::kCmd);
    mosquitto_subscribe(client_, nullptr, topic.c_str(), 1);
  }
  // A command published before the broker took a subscription would pass unseen: wait for every SUBACK.
  for (int i = 0; i < 500 && subscriptions_acked_.load() < answering_.size(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (subscriptions_acked_.load() < answering_.size()) throw std::runtime_error("test meters' subscriptions not acked");
}

void TestMeters::on_subscribe(mosquitto*, void* self_ptr, int, int, const int*) {
  static_cast<TestMeters*>(self_ptr)->subscriptions_acked_.fetch_add(1);
}

TestMeters::~TestMeters() {
  mosquitto_disconnect(client_);
  mosquitto_loop_stop(client_, false);
  mosquitto_destroy(client_);
}

void TestMeters::publish_raw(const std::string& topic, const std::string& payload) {
  mosquitto_publish(client_, nullptr, topic.c_str(), static_cast<int>(payload.size()), payload.data(), 1, false);
}

void TestMeters::publish(const protocol::Reading& r) {
  publish_raw(protocol::make_topic(r.meter_id, protocol::TopicKind::kReading), protocol::encode(r));
}

void TestMeters::on_message(mosquitto*, void* self_ptr, const mosquitto_message* msg) {
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
  ack.time_ms = system_now_ms();
  const std::string ack_topic = protocol::make_topic(cmd->meter_id, protocol::TopicKind::kCmdAck);
  const std::string text = protocol::encode(ack);
  mosquitto_publish(self->client_, nullptr, ack_topic.c_str(), static_cast<int>(text.size()), text.data(), 1, false);
}

}  // namespace wattguard::test_support
