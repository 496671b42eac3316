// IngestService's MQTT side, on libmosquitto's network thread: every message decoded and validated, admitted
// only from provisioned meters (refusals counted, logged once per meter and reason) and queued for the writer;
// connection handling; commands published (signed) or handed to a meter's own link.
#include <mosquitto.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>

#include "server/ingest/ingest_service_impl.h"
#include "wattguard/protocol/codec.h"
#include "wattguard/protocol/command_signature.h"
#include "wattguard/protocol/topics.h"

namespace wattguard::ingest {
namespace {

using protocol::Rejection;
using protocol::TopicKind;

constexpr int64_t kUnknownRecheckMs = 10'000;         // an unknown meter id is looked up again at most this often
constexpr std::size_t kMaxLoggedRejections = 10'000;  // (meter, reason) pairs remembered for log-once
constexpr std::size_t kMaxNegativeCache = 100'000;

}  // namespace

void IngestService::Impl::reject(const std::string& meter, Rejection reason, const std::string& detail) {
  {
    std::lock_guard lk(health_mu);
    ++health.rejected_total;
    ++health.rejected[std::string(protocol::rejection_name(reason))];
  }
  bool log = false;
  {
    std::lock_guard lk(log_mu);
    if (logged.size() < kMaxLoggedRejections) log = logged.emplace(meter, reason).second;
  }
  if (log) {
    spdlog::warn("ingest: refused message from meter '{}': {} (further {} from this meter are counted, not logged)",
                 meter, detail, protocol::rejection_name(reason));
  }
}

bool IngestService::Impl::is_known(const std::string& meter_id) {
  const int64_t t = now();
  {
    std::lock_guard lk(known_mu);
    if (known.count(meter_id)) return true;
    auto it = unknown_until.find(meter_id);
    if (it != unknown_until.end() && it->second > t) return false;
  }
  // Provisioned since we loaded the registry? A retired meter counts as unknown.
  const auto info = store.get_meter(meter_id);
  const bool has = info.ok() && info->retired_ms == 0;
  std::lock_guard lk(known_mu);
  if (has) {
    known.insert(meter_id);
    unknown_until.erase(meter_id);
  } else {
    if (unknown_until.size() >= kMaxNegativeCache) unknown_until.clear();
    unknown_until[meter_id] = t + kUnknownRecheckMs;
  }
  return has;
}

void IngestService::Impl::on_message(const mosquitto_message* msg) {
  const std::string topic = msg->topic ? msg->topic : "";
  const std::string_view payload(static_cast<const char*>(msg->payload), static_cast<std::size_t>(msg->payloadlen));
  accept(topic, payload, now(), msg->retain, std::nullopt);
}

void IngestService::Impl::accept(const std::string& topic, std::string_view payload, int64_t received, bool retained,
                                 std::optional<uint64_t> replayed_from) {
  // A replayed message was counted when it first arrived.
  if (!replayed_from) count(&IngestHealth::messages_received);
  // Refused for good: a replayed record is done with.
  auto refuse = [&](const std::string& meter, Rejection reason, const std::string& detail) {
    reject(meter, reason, detail);
    if (replayed_from && journal) journal->handled(*replayed_from);
  };
  auto parsed = protocol::parse_topic(topic);
  if (!parsed) {
    refuse("?", Rejection::kUnknownTopic, "topic '" + topic.substr(0, 128) + "' is outside wattguard/v1/<meter>/...");
    return;
  }
  const protocol::DecodeContext ctx{received, parsed->meter_id};
  // Decoded and from a provisioned meter, or refused (counted, logged once).
  auto admit = [&](const auto& decoded) {
    if (!decoded.ok()) {
      refuse(parsed->meter_id, protocol::rejection_of(decoded.error()), protocol::describe(decoded.error()));
      return false;
    }
    if (!is_known(parsed->meter_id)) {
      refuse(parsed->meter_id, Rejection::kUnknownMeter, "meter " + parsed->meter_id + " is not provisioned");
      return false;
    }
    return true;
  };
  // Journaled before this callback returns, which is before libmosquitto sends the PUBACK (ingest_journal.h).
  auto journaled = [&]() -> uint64_t {
    if (replayed_from) return *replayed_from;
    return journal ? journal->append(received, topic, payload) : 0;
  };
  switch (parsed->kind) {
    case TopicKind::kReading: {
      if (!replayed_from) count(&IngestHealth::readings_received);
      auto d = protocol::decode_reading(payload, ctx);
      if (admit(d)) queue.push_reading(ReadingItem{std::move(d.value()), received, journaled()});
      return;
    }
    case TopicKind::kStatus: {
      if (payload.empty()) return;  // a cleared retained message
      count(&IngestHealth::statuses_received);
      auto d = protocol::decode_status(payload, ctx);
      // Not journaled: a status is a state that the next status, reading or silence supersedes.
      if (admit(d)) queue.push_work(StatusItem{std::move(d.value()), received, retained});
      return;
    }
    case TopicKind::kEvent: {
      auto d = protocol::decode_event(payload, ctx);
      if (admit(d)) queue.push_work(EventItem{std::move(d.value()), received, journaled()});
      return;
    }
    case TopicKind::kCmdAck: {
      if (!replayed_from) count(&IngestHealth::acks_received);
      auto d = protocol::decode_ack(payload, ctx);
      if (admit(d)) queue.push_work(AckItem{std::move(d.value()), received, journaled()});
      return;
    }
    case TopicKind::kCmd:  // our own commands are not subscribed to; ignore if a broker echoes one
      if (replayed_from && journal) journal->handled(*replayed_from);
      return;
  }
}

void IngestService::Impl::on_connect(int rc) {
  if (rc != 0) {
    spdlog::warn("ingest: broker {}:{} refused the connection: {}", config.host, config.port,
                 mosquitto_connack_string(rc));
    return;
  }
  // Not "connected" yet: until the broker has acknowledged the subscriptions, a meter's message can pass
  // unseen. Mosquitto handles one client's packets in order, so the last SUBACK covers all of them.
  const bool shared = !config.share_group.empty();
  auto sub = [&](TopicKind kind, bool share) {
    const std::string t =
        share ? protocol::shared_subscription(config.share_group, kind) : protocol::wildcard_topic(kind);
    int mid = 0;
    const int r = mosquitto_subscribe(mosq, &mid, t.c_str(), 1);
    if (r != MOSQ_ERR_SUCCESS) spdlog::warn("ingest: subscribe {} failed: {}", t, mosquitto_strerror(r));
    return mid;
  };
  sub(TopicKind::kReading, shared);
  sub(TopicKind::kEvent, shared);
  sub(TopicKind::kCmdAck, shared);
  // Status is subscribed to without sharing: every server needs every meter's state, and
  // retained messages are not delivered on shared subscriptions.
  last_subscribe_mid = sub(TopicKind::kStatus, false);
}

void IngestService::Impl::on_subscribe(int mid) {
  if (mid != last_subscribe_mid) return;
  connected = true;
  {
    std::lock_guard lk(health_mu);
    ++health.connects;
    health.connected = true;
  }
  spdlog::info("ingest: connected to {}:{} as {}", config.host, config.port, config.username);
  queue.push_work(ConnectedItem{now()});
}

void IngestService::Impl::on_disconnect(int rc) {
  connected = false;
  {
    std::lock_guard lk(health_mu);
    health.connected = false;
  }
  if (rc != 0 && running) spdlog::warn("ingest: lost the broker connection ({}); reconnecting", mosquitto_strerror(rc));
}

std::optional<int> IngestService::Impl::publish_command(const TrackedCommand& t) {
  {
    std::lock_guard lk(links_mu);
    auto link = links.find(t.record.meter_id);
    if (link != links.end()) {
      if (!link->second(t.command)) return std::nullopt;
      const int mid = next_link_mid--;
      count(&IngestHealth::commands_sent);
      // Handed to the device's connection: as good as the broker's PUBACK.
      queue.push_work(PublishedItem{mid});
      return mid;
    }
  }
  if (!connected) return std::nullopt;
  const std::string topic = protocol::make_topic(t.record.meter_id, TopicKind::kCmd);
  std::string payload;
  if (config.command_master_key) {
    // Signed afresh on every publish: a nonce above every earlier one, also across restarts (it starts
    // from the clock in microseconds), so the meter can refuse anything it has seen.
    protocol::Command signed_command = t.command;
    last_nonce = std::max(last_nonce + 1, static_cast<uint64_t>(std::max<int64_t>(now(), 0)) * 1000);
    protocol::sign_command(signed_command, protocol::derive_command_key(*config.command_master_key, t.record.meter_id),
                           last_nonce);
    payload = protocol::encode(signed_command);
  } else {
    payload = protocol::encode(t.command);
  }
  int mid = 0;
  const int rc =
      mosquitto_publish(mosq, &mid, topic.c_str(), static_cast<int>(payload.size()), payload.data(), 1, false);
  if (rc != MOSQ_ERR_SUCCESS) {
    spdlog::warn("ingest: publishing command {} deferred: {}", t.record.id, mosquitto_strerror(rc));
    return std::nullopt;
  }
  count(&IngestHealth::commands_sent);
  return mid;
}

}  // namespace wattguard::ingest
