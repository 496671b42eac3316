// The shard's MQTT connections: connecting (MQTT 5, TLS, last will), losing a connection and backing off,
// cutting a meter's communications, and the broker's CONNACK.
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>

#include "shard.h"
#include "wattguard/fleet/virtual_clock.h"
#include "wattguard/protocol/codec.h"
#include "wattguard/tls/mqtt_client_tls.h"

namespace wattguard::fleet {
namespace {

constexpr int kBackoffMinMs = 1000;
constexpr int kBackoffMaxMs = 30000;

Link* link_of(void* obj) { return static_cast<Link*>(obj); }

void cb_connect(mosquitto*, void* obj, int rc) { link_of(obj)->shard->on_connect(link_of(obj), rc); }
void cb_disconnect(mosquitto*, void* obj, int rc) { link_of(obj)->shard->on_disconnect(link_of(obj), rc); }
void cb_publish(mosquitto*, void* obj, int mid, int reason_code, const mosquitto_property*) {
  link_of(obj)->shard->on_publish(link_of(obj), mid, reason_code);
}
void cb_message(mosquitto*, void* obj, const mosquitto_message* msg) {
  link_of(obj)->shard->on_message(link_of(obj), msg);
}

}  // namespace

void Shard::connect(Link* link, int64_t now) {
  mosquitto* m = mosquitto_new(link->client_id.c_str(), true, link);
  if (!m) {
    link->retry_at_ms = now + kBackoffMaxMs;
    return;
  }
  // MQTT 5 by default, for its PUBACK reason codes: with 3.1.1 the broker acknowledges a reading nobody subscribed
  // to (the server's session lost in a broker crash) exactly like a delivered one, and the meter forgets it.
  // 3.1.1 only where the broker speaks nothing else (NATS); on_publish then never sees 0x10.
  mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION,
                       fleet_.config.mqtt_version == MqttVersion::kV5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
  // Our own per-meter window bounds what is in flight; the library should not queue behind it.
  mosquitto_max_inflight_messages_set(m, 0);
  mosquitto_username_pw_set(m, link->login.username.c_str(), link->login.password.c_str());
  // Checked by validate() at create: only a vanished file can fail here, which is like a broker refusing us.
  if (auto secured = tls::apply_mqtt_client_tls(m, fleet_.config.tls); !secured.ok()) {
    spdlog::warn("fleet: {}", secured.error().to_string());
    mosquitto_destroy(m);
    link->retry_at_ms = now + kBackoffMaxMs;
    return;
  }
  if (link->per_meter && !link->slots.empty()) {
    Slot* slot = link->slots.front();
    protocol::StatusMessage will;
    will.meter_id = slot->meter->id();
    will.online = false;
    const std::string payload = protocol::encode(will);
    mosquitto_will_set(m, slot->topic_status.c_str(), static_cast<int>(payload.size()), payload.data(), 1, true);
  }
  mosquitto_connect_callback_set(m, cb_connect);
  mosquitto_disconnect_callback_set(m, cb_disconnect);
  mosquitto_publish_v5_callback_set(m, cb_publish);
  mosquitto_message_callback_set(m, cb_message);
  link->mosq = m;
  link->lost = false;
  link->state = Link::State::kConnecting;
  link->connect_started_ms = now;
  const BrokerNode& node = fleet_.nodes[link->node % fleet_.nodes.size()];
  const int rc = mosquitto_connect_async(m, node.host.c_str(), node.port, fleet_.config.keepalive_s);
  const int fd = mosquitto_socket(m);
  if (rc != MOSQ_ERR_SUCCESS || fd < 0) {
    handle_lost(link, now);
    return;
  }
  link->fd = fd;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;
  ev.data.ptr = link;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  link->mask = ev.events;
}

void Shard::drop_connection(Link* link, bool abrupt) {
  if (link->fd >= 0) {
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, link->fd, nullptr);
    // Closing without DISCONNECT makes the broker publish the last will.
    if (abrupt && link->mosq && mosquitto_socket(link->mosq) == link->fd) ::shutdown(link->fd, SHUT_RDWR);
  }
  link->fd = -1;
  link->mask = 0;
  if (link->mosq) {
    mosquitto_destroy(link->mosq);
    link->mosq = nullptr;
  }
  if (link->state == Link::State::kConnected) {
    fleet_.counters.links_connected.fetch_sub(1, std::memory_order_relaxed);
  }
  link->mids.clear();
  link->unrouted_until_ms = 0;  // a new connection tries at once: the broker may have the server's session now
  // Everything in flight goes back to the queue, to be re-sent (late) on the next connection.
  for (Slot* slot : link->slots) {
    for (PendingReading& p : slot->queue) {
      if (p.mid != 0) {
        p.mid = 0;
        p.late = true;
      }
    }
    slot->inflight = 0;
    for (PendingControl& c : slot->control) c.mid = 0;
  }
}

void Shard::handle_lost(Link* link, int64_t now) {
  const bool was_connected = link->state == Link::State::kConnected;
  drop_connection(link, false);
  if (link->state == Link::State::kDead) return;
  link->state = Link::State::kIdle;
  link->lost = false;
  link->backoff_ms = link->backoff_ms == 0 ? kBackoffMinMs : std::min(kBackoffMaxMs, link->backoff_ms * 2);
  if (link->refused) link->backoff_ms = kBackoffMaxMs;
  link->retry_at_ms = now + static_cast<int64_t>(link->backoff_ms * jitter(link, link->backoff_ms));
  // Fail over: the next attempt goes to the next node of a cluster (a dead node's meters spread over the others,
  // and a node that refuses or cannot be reached is not tried again and again).
  link->node = (link->node + 1) % fleet_.nodes.size();
  if (was_connected) {
    fleet_.counters.connection_losses.fetch_add(1, std::memory_order_relaxed);
    ++losses_since_log_;
  }
}

void Shard::cut_comms(Slot* slot) {
  slot->comms_cut = true;
  Link* link = slot->link;
  if (!link) return;
  if (link->per_meter) {
    drop_connection(link, true);
    link->state = Link::State::kDead;
  } else if (link->state == Link::State::kConnected) {
    // A gateway cannot drop one meter's connection: it says what the last will would have.
    publish_status(link, slot, false);
  }
}

void Shard::power_off(Slot* slot) {
  if (slot->stopped) return;
  slot->stopped = true;
  fleet_.counters.meters_stopped.fetch_add(1, std::memory_order_relaxed);
  if (!slot->comms_cut) cut_comms(slot);
  if (slot->link) touch(slot->link);
}

void Shard::on_connect(Link* link, int rc) {
  if (rc != 0) {
    if (!link->refused) {
      spdlog::warn("fleet: broker refused {} '{}': {}", link->per_meter ? "meter" : "gateway", link->login.username,
                   mosquitto_reason_string(rc));
    }
    link->refused = true;
    link->lost = true;
    return;
  }
  link->state = Link::State::kConnected;
  link->refused = false;
  link->backoff_ms = 0;
  fleet_.counters.connects.fetch_add(1, std::memory_order_relaxed);
  fleet_.counters.links_connected.fetch_add(1, std::memory_order_relaxed);
  if (link->per_meter) {
    const std::string topic = protocol::make_topic(link->slots.front()->meter->id(), protocol::TopicKind::kCmd);
    mosquitto_subscribe(link->mosq, nullptr, topic.c_str(), 1);
  } else {
    mosquitto_subscribe(link->mosq, nullptr, protocol::wildcard_topic(protocol::TopicKind::kCmd).c_str(), 1);
  }
  for (Slot* slot : link->slots) {
    if (slot->stopped) continue;
    publish_status(link, slot, !slot->comms_cut);
    mark_send(slot);
  }
  touch(link);
}

void Shard::on_disconnect(Link* link, int rc) {
  (void)rc;
  link->lost = true;
}

}  // namespace wattguard::fleet
