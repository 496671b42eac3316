// End-to-end test helpers: a private broker, the collecting subscriber.
#include "tests/e2e_support.h"

#include <mosquitto.h>

#include "wattguard/fleet/fd_limit.h"
#include "wattguard/protocol/codec.h"
#include "wattguard/protocol/topics.h"

namespace wattguard::e2e {
namespace {

void collector_message(mosquitto*, void* obj, const mosquitto_message* msg) {
  if (!msg || !msg->topic) return;
  static_cast<Collector*>(obj)->on_message(msg->topic, std::string_view(static_cast<const char*>(msg->payload),
                                                                        static_cast<std::size_t>(msg->payloadlen)));
}

void collector_connect(mosquitto* m, void*, int rc) {
  if (rc == 0) mosquitto_subscribe(m, nullptr, "wattguard/v1/#", 1);
}

void collector_subscribed(mosquitto*, void* obj, int, int, const int*) {
  static_cast<Collector*>(obj)->on_subscribed();
}

}  // namespace

FleetBroker start_broker(const std::filesystem::path& dir, const std::vector<std::string>& meter_ids) {
  FleetBroker b;
  b.server_password = fleet::random_password();
  broker::BrokerSetup setup;
  setup.dir = dir;
  setup.server = {kServerUser, b.server_password};
  // A few gateway users, one per gateway connection (the broker binds each client id to its user).
  for (int g = 1; g <= kGatewayUsers; ++g) {
    const std::string name = std::string(kGatewayUser) + "-" + std::to_string(g);
    const std::string gateway_password = fleet::random_password();
    setup.gateways.push_back(broker::BrokerUser{name, gateway_password});
    b.credentials.gateways.push_back(fleet::BrokerLogin{name, gateway_password, std::nullopt});
  }
  for (const std::string& id : meter_ids) {
    const std::string pw = fleet::random_password();
    setup.meters.push_back({id, pw});
    b.credentials.meters[id] = fleet::BrokerLogin{id, pw, std::nullopt};
  }
  fleet::raise_fd_limit();  // the broker inherits it
  auto started = broker::BrokerProcess::start(setup);
  if (!started.ok()) throw std::runtime_error("broker: " + started.error().message);
  b.process = std::move(started).value();
  return b;
}

fleet::FleetConfig test_fleet_config(const FleetBroker& broker, std::size_t meters, double speed) {
  fleet::FleetConfig c;
  c.meters = meters;
  c.broker_port = broker.process->port();
  c.credentials = broker.credentials;
  c.speed = speed;
  c.fidelity = fleet::Fidelity::kSamples;
  c.sample_rate_hz = 2000;
  c.threads = 2;
  c.journal_fsync = false;
  c.keepalive_s = 10;
  return c;
}

Collector::Collector(uint16_t port, const std::string& password, const std::string& client_id) {
  mosquitto_lib_init();
  mosq_ = mosquitto_new(client_id.c_str(), false, this);
  mosquitto_username_pw_set(mosq_, kServerUser, password.c_str());
  mosquitto_message_callback_set(mosq_, collector_message);
  mosquitto_connect_callback_set(mosq_, collector_connect);
  mosquitto_subscribe_callback_set(mosq_, collector_subscribed);
  mosquitto_reconnect_delay_set(mosq_, 1, 2, false);
  mosquitto_connect(mosq_, "127.0.0.1", port, 10);
  mosquitto_loop_start(mosq_);
  // Tests start their fleet next: nothing it publishes may race the subscription.
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, std::chrono::seconds(20), [this] { return subscribed_; })) {
    throw std::runtime_error("collector: no subscription to the broker on port " + std::to_string(port));
  }
}

void Collector::on_subscribed() {
  std::lock_guard lock(mutex_);
  subscribed_ = true;
  changed_.notify_all();
}

Collector::~Collector() {
  mosquitto_disconnect(mosq_);
  mosquitto_loop_stop(mosq_, false);
  mosquitto_destroy(mosq_);
}

void Collector::on_message(const std::string& topic, std::string_view payload) {
  const auto parsed = protocol::parse_topic(topic);
  if (!parsed) return;
  protocol::DecodeContext ctx;
  ctx.topic_meter_id = parsed->meter_id;
  std::lock_guard lock(mutex_);
  switch (parsed->kind) {
    case protocol::TopicKind::kReading: {
      auto r = protocol::decode_reading(payload, ctx);
      if (r.ok()) readings_[parsed->meter_id].push_back(r.value());
      else ++rejected_;
      break;
    }
    case protocol::TopicKind::kEvent: {
      auto e = protocol::decode_event(payload, ctx);
      if (e.ok()) events_.push_back(e.value());
      else ++rejected_;
      break;
    }
    case protocol::TopicKind::kCmdAck: {
      auto a = protocol::decode_ack(payload, ctx);
      if (a.ok()) acks_.push_back(a.value());
      else ++rejected_;
      break;
    }
    case protocol::TopicKind::kStatus: {
      auto s = protocol::decode_status(payload, ctx);
      if (s.ok()) statuses_[parsed->meter_id] = s.value();
      else ++rejected_;
      break;
    }
    case protocol::TopicKind::kCmd: break;
  }
  changed_.notify_all();
}

bool Collector::wait_for(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, pred);
}

void Collector::send_command(const protocol::Command& command) {
  const std::string payload = protocol::encode(command);
  const std::string topic = protocol::make_topic(command.meter_id, protocol::TopicKind::kCmd);
  mosquitto_publish(mosq_, nullptr, topic.c_str(), static_cast<int>(payload.size()), payload.data(), 1, false);
}

std::map<std::string, std::vector<protocol::Reading>> Collector::readings() const {
  std::lock_guard lock(mutex_);
  return readings_;
}
std::vector<protocol::MeterEvent> Collector::events() const {
  std::lock_guard lock(mutex_);
  return events_;
}
std::vector<protocol::CommandAck> Collector::acks() const {
  std::lock_guard lock(mutex_);
  return acks_;
}
std::map<std::string, protocol::StatusMessage> Collector::statuses() const {
  std::lock_guard lock(mutex_);
  return statuses_;
}
std::size_t Collector::rejected() const {
  std::lock_guard lock(mutex_);
  return rejected_;
}

std::set<uint64_t> Collector::seqs_locked(const std::string& meter_id) const {
  std::set<uint64_t> out;
  auto it = readings_.find(meter_id);
  if (it == readings_.end()) return out;
  for (const auto& r : it->second) out.insert(r.seq);
  return out;
}

bool contiguous(const std::set<uint64_t>& seqs, uint64_t first, uint64_t last) {
  if (seqs.empty()) return first > last;
  return *seqs.begin() == first && *seqs.rbegin() == last && seqs.size() == last - first + 1;
}

}  // namespace wattguard::e2e
