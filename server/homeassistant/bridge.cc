// The bridge's broker session: announce at connect and on Home Assistant's birth, mirror state, take commands.
#include "wattguard/homeassistant/bridge.h"

#include <mosquitto.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>

namespace wattguard::homeassistant {
namespace {

constexpr int kQos = 1;

std::string trimmed_upper(std::string_view text) {
  std::string out;
  for (char ch : text) {
    if (!std::isspace(static_cast<unsigned char>(ch)))
      out += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  }
  return out;
}

}  // namespace

struct Bridge::Impl {
  Impl(BridgeOptions o, storage::ReadingStore& s) : options(std::move(o)), store(s) {}

  BridgeOptions options;
  storage::ReadingStore& store;
  mosquitto* mosq = nullptr;
  std::atomic<bool> running{false};
  std::atomic<bool> connected{false};
  std::atomic<uint64_t> discovery_published{0};
  std::atomic<uint64_t> states_published{0};
  std::atomic<uint64_t> commands_received{0};
  std::atomic<uint64_t> commands_refused{0};
  std::mutex acked_mu;
  std::condition_variable acked_cv;
  int last_acked_mid = 0;
  std::mutex announced_mu;
  std::set<std::string> announced;  // meters whose discovery went out on this connection

  // Queues a QoS 1 publish; its message id (0 when it was not queued).
  int publish(const std::string& topic, std::string_view payload, bool retain) {
    if (mosq == nullptr) return 0;
    int mid = 0;
    const int rc =
        mosquitto_publish(mosq, &mid, topic.c_str(), static_cast<int>(payload.size()), payload.data(), kQos, retain);
    if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN) {
      spdlog::warn("homeassistant: publishing {} failed: {}", topic, mosquitto_strerror(rc));
    }
    return rc == MOSQ_ERR_SUCCESS ? mid : 0;
  }

  static void cb_publish(mosquitto*, void* self_ptr, int mid) {
    auto* self = static_cast<Impl*>(self_ptr);
    {
      std::lock_guard lock(self->acked_mu);
      self->last_acked_mid = mid;
    }
    self->acked_cv.notify_all();
  }

  void announce(const storage::MeterInfo& meter) {
    for (const auto& m : discovery_messages(options.topics, meter, options.sw_version)) {
      publish(m.topic, m.payload, m.retain);
      ++discovery_published;
    }
  }

  void publish_state(const protocol::Reading& r) {
    publish(state_topic(options.topics, r.meter_id), state_payload(r), true);
    ++states_published;
  }

  // Every meter of the store, then each one's availability and newest state (retained, so Home Assistant sees
  // them whenever it subscribes).
  void announce_all() {
    auto meters = store.list_meters();
    if (!meters.ok()) {
      spdlog::warn("homeassistant: cannot list meters: {}", meters.error().message);
      return;
    }
    {
      std::lock_guard lock(announced_mu);
      for (const auto& m : meters.value()) announced.insert(m.id);
    }
    for (const auto& m : meters.value()) announce(m);
    publish(server_status_topic(options.topics), "online", true);
    for (const auto& live : options.live_states()) {
      publish(availability_topic(options.topics, live.meter_id), availability_payload(live.connectivity), true);
      if (live.last_reading) publish_state(*live.last_reading);
    }
  }

  // A meter first seen after the connection's announcement (added at run time): announce it now.
  void announce_if_new(const std::string& meter_id) {
    {
      std::lock_guard lock(announced_mu);
      if (!announced.insert(meter_id).second) return;
    }
    auto meter = store.get_meter(meter_id);
    storage::MeterInfo info;
    info.id = meter_id;
    announce(meter.ok() ? meter.value() : info);
    publish(availability_topic(options.topics, meter_id), "online", true);
  }

  void on_relay_set(const std::string& meter_id, std::string_view payload) {
    ++commands_received;
    const std::string word = trimmed_upper(payload);
    if (word != "ON" && word != "OFF") {
      ++commands_refused;
      spdlog::warn("homeassistant: relay command for {} is neither ON nor OFF; ignored", meter_id);
      return;
    }
    auto sent = options.relay(meter_id, word == "ON");
    if (!sent.ok()) {
      ++commands_refused;
      spdlog::warn("homeassistant: relay {} for {} refused: {}", word, meter_id, sent.error().message);
      return;
    }
    spdlog::info("homeassistant: relay {} for {} sent as command {}", word, meter_id, sent.value());
  }

  static void cb_connect(mosquitto* m, void* self_ptr, int rc) {
    auto* self = static_cast<Impl*>(self_ptr);
    if (rc != 0) {
      spdlog::warn("homeassistant: broker refused the connection: {}", mosquitto_connack_string(rc));
      return;
    }
    self->connected = true;
    {
      std::lock_guard lock(self->announced_mu);
      self->announced.clear();
    }
    for (const std::string& topic : {relay_set_filter(self->options.topics), ha_status_topic(self->options.topics)}) {
      const int r = mosquitto_subscribe(m, nullptr, topic.c_str(), kQos);
      if (r != MOSQ_ERR_SUCCESS) spdlog::warn("homeassistant: subscribe {} failed: {}", topic, mosquitto_strerror(r));
    }
    self->announce_all();
    spdlog::info("homeassistant: connected; discovery under {}/, state under {}/",
                 self->options.topics.discovery_prefix, self->options.topics.state_prefix);
  }

  static void cb_disconnect(mosquitto*, void* self_ptr, int rc) {
    auto* self = static_cast<Impl*>(self_ptr);
    self->connected = false;
    if (rc != 0 && self->running)
      spdlog::warn("homeassistant: lost the broker ({}); reconnecting", mosquitto_strerror(rc));
  }

  static void cb_message(mosquitto*, void* self_ptr, const mosquitto_message* msg) {
    auto* self = static_cast<Impl*>(self_ptr);
    const std::string_view topic(msg->topic);
    const std::string_view payload(static_cast<const char*>(msg->payload),
                                   static_cast<std::size_t>(std::max(0, msg->payloadlen)));
    try {
      if (topic == ha_status_topic(self->options.topics)) {
        // Home Assistant (re)started: announce again so it needs no retained configs.
        if (payload == "online") self->announce_all();
        return;
      }
      if (auto meter = meter_of_relay_set(self->options.topics, topic)) self->on_relay_set(*meter, payload);
    } catch (const std::exception& e) {
      // The edge of libmosquitto's thread: a bug is logged, the session goes on.
      spdlog::error("homeassistant: handling {} failed: {}", topic, e.what());
    }
  }
};

Bridge::Bridge(BridgeOptions options, storage::ReadingStore& store)
    : impl_(std::make_unique<Impl>(std::move(options), store)) {}

Bridge::~Bridge() { stop(); }

Expected<void> Bridge::start() {
  Impl& m = *impl_;
  if (!m.options.relay) return Error::invalid("relay", "", "the Home Assistant bridge needs the relay callback");
  if (!m.options.live_states) return Error::invalid("live_states", "", "the Home Assistant bridge needs live states");
  if (m.running.exchange(true)) return {};
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
  m.mosq = mosquitto_new(m.options.client_id.c_str(), true, &m);
  if (m.mosq == nullptr) return Error::internal("cannot create the Home Assistant MQTT client");
  mosquitto_connect_callback_set(m.mosq, &Impl::cb_connect);
  mosquitto_disconnect_callback_set(m.mosq, &Impl::cb_disconnect);
  mosquitto_message_callback_set(m.mosq, &Impl::cb_message);
  mosquitto_publish_callback_set(m.mosq, &Impl::cb_publish);
  mosquitto_reconnect_delay_set(m.mosq, 1, 30, true);
  if (!m.options.username.empty()) {
    mosquitto_username_pw_set(m.mosq, m.options.username.c_str(),
                              m.options.password.empty() ? nullptr : m.options.password.c_str());
  }
  auto secured = tls::check_mqtt_client_tls(m.options.tls, "mqtt.ca_file");
  if (secured.ok()) secured = tls::apply_mqtt_client_tls(m.mosq, m.options.tls);
  if (!secured.ok()) {
    mosquitto_destroy(m.mosq);
    m.mosq = nullptr;
    m.running = false;
    return std::move(secured).error();
  }
  // A server that goes away unannounced makes every meter unavailable (availability_mode all).
  const std::string will_topic = server_status_topic(m.options.topics);
  mosquitto_will_set(m.mosq, will_topic.c_str(), 7, "offline", kQos, true);
  const int rc = mosquitto_connect_async(m.mosq, m.options.host.c_str(), m.options.port, m.options.keepalive_s);
  if (rc != MOSQ_ERR_SUCCESS) {
    spdlog::warn("homeassistant: cannot reach broker {}:{} yet: {}", m.options.host, m.options.port,
                 mosquitto_strerror(rc));
  }
  if (const int lrc = mosquitto_loop_start(m.mosq); lrc != MOSQ_ERR_SUCCESS) {
    mosquitto_destroy(m.mosq);
    m.mosq = nullptr;
    m.running = false;
    return Error::unavailable(std::string("cannot start the Home Assistant MQTT thread: ") + mosquitto_strerror(lrc));
  }
  return {};
}

void Bridge::stop() {
  Impl& m = *impl_;
  if (!m.running.exchange(false)) return;
  if (m.connected) {
    // A clean disconnect discards the last will, so say "offline" ourselves and let the broker have it first.
    const int mid = m.publish(server_status_topic(m.options.topics), "offline", true);
    std::unique_lock lock(m.acked_mu);
    m.acked_cv.wait_for(lock, std::chrono::seconds(2), [&] { return mid == 0 || m.last_acked_mid == mid; });
  }
  mosquitto_disconnect(m.mosq);
  mosquitto_loop_stop(m.mosq, false);
  mosquitto_destroy(m.mosq);
  m.mosq = nullptr;
  m.connected = false;
}

BridgeStats Bridge::stats() const {
  const Impl& m = *impl_;
  return {m.connected.load(), m.discovery_published.load(), m.states_published.load(), m.commands_received.load(),
          m.commands_refused.load()};
}

void Bridge::on_reading(const protocol::Reading& reading) {
  Impl& m = *impl_;
  if (!m.running || !m.connected) return;  // announce_all() sends the newest state at (re)connect
  m.announce_if_new(reading.meter_id);
  m.publish_state(reading);
}

void Bridge::on_status(const ingest::MeterLive& state) {
  Impl& m = *impl_;
  if (!m.running || !m.connected) return;
  m.publish(availability_topic(m.options.topics, state.meter_id), availability_payload(state.connectivity), true);
}

}  // namespace wattguard::homeassistant
