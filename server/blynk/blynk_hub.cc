// The state Blynk connections share, and their calls into ingest.
#include "server/blynk/blynk_hub.h"

#include <spdlog/spdlog.h>

#include "server/blynk/connection.h"

namespace wattguard::blynk {

BlynkHub::BlynkHub(const BlynkConfig& config, PinMap map, std::unordered_map<std::string, PinMap> meter_maps,
                   ingest::IngestService& ingest, ingest::DeviceKeys& keys, Clock now_ms)
    : map_(std::move(map)),
      meter_maps_(std::move(meter_maps)),
      ingest_(ingest),
      keys_(keys),
      now_ms_(or_system_clock(std::move(now_ms))),
      throttle_(config.token_delay_base_ms, config.token_delay_max_ms) {
  limits_.login_timeout_ms = int64_t{config.login_timeout_s} * 1000;
  limits_.default_heartbeat_s = config.heartbeat_s;
  limits_.heartbeat_factor = config.heartbeat_factor;
  limits_.max_messages_per_s = config.max_messages_per_s;
  limits_.quiet_ms = config.quiet_ms;
}

const PinMap& BlynkHub::pin_map_of(const std::string& meter) const {
  const auto it = meter_maps_.find(meter);
  return it == meter_maps_.end() ? map_ : it->second;
}

void BlynkHub::connection_opened(const std::shared_ptr<ConnectionBase>& connection) {
  ++open_;
  ++total_;
  std::lock_guard lock(registry_mu_);
  all_[connection.get()] = connection;
}

void BlynkHub::connection_gone(const ConnectionBase* connection) {
  --open_;
  std::lock_guard lock(registry_mu_);
  all_.erase(connection);
}

void BlynkHub::refuse_connection() { ++too_many_connections_; }

std::vector<std::shared_ptr<ConnectionBase>> BlynkHub::open_connections() {
  std::vector<std::shared_ptr<ConnectionBase>> out;
  std::lock_guard lock(registry_mu_);
  for (auto& [raw, weak] : all_) {
    if (auto c = weak.lock()) out.push_back(std::move(c));
  }
  return out;
}

Expected<std::optional<LoginGrant>> BlynkHub::look_up(const std::string& token, const std::string& remote) {
  auto meter = keys_.meter_of(ingest::DeviceProtocol::kBlynk, token);
  if (!meter.ok()) {
    if (meter.error().code != ErrorCode::kNotFound) {
      spdlog::error("blynk: token look-up failed: {}", meter.error().message);
      return std::move(meter).error();
    }
    ++logins_failed_;
    throttle_.failed(remote, now());
    return std::optional<LoginGrant>{};
  }
  LoginGrant grant;
  grant.meter_id = std::move(meter).value();
  grant.pin_map = &pin_map_of(grant.meter_id);
  if (auto live = ingest_.live_state(grant.meter_id)) {
    grant.last_reading = live->last_reading;
    grant.relay = live->relay;
  }
  ++logins_ok_;
  return std::optional<LoginGrant>(std::move(grant));
}

void BlynkHub::logged_in(const std::string& meter, const std::shared_ptr<ConnectionBase>& connection,
                         uint16_t login_command) {
  std::shared_ptr<ConnectionBase> older;
  {
    std::lock_guard lock(registry_mu_);
    auto& slot = by_meter_[meter];
    older = slot.lock();
    slot = connection;
  }
  if (older && older != connection) older->close_soon(true);
  std::weak_ptr<ConnectionBase> weak = connection;
  // Called under ingest's command lock: it only posts to the connection's strand.
  ingest_.attach_link(meter, [weak](const protocol::Command& command) {
    auto c = weak.lock();
    return c && c->deliver(command);
  });
  protocol::StatusMessage status;
  status.meter_id = meter;
  status.online = true;
  status.time_ms = now();
  status.firmware = login_command == static_cast<uint16_t>(Command::kLogin) ? "blynk (login 2)" : "blynk";
  ingest_.submit_status(std::move(status), now());
}

void BlynkHub::logged_out(const std::string& meter, const ConnectionBase* connection, bool superseded) {
  if (superseded) return;
  {
    std::lock_guard lock(registry_mu_);
    auto it = by_meter_.find(meter);
    if (it == by_meter_.end()) return;
    auto current = it->second.lock();
    if (current && current.get() != connection) return;
    by_meter_.erase(it);
  }
  ingest_.detach_link(meter);
  protocol::StatusMessage status;
  status.meter_id = meter;
  status.online = false;
  status.time_ms = now();
  ingest_.submit_status(std::move(status), now());
}

void BlynkHub::count(const SessionOutput& out) {
  if (out.frames_in) frames_in_ += out.frames_in;
  if (out.frames_out) frames_out_ += out.frames_out;
  for (Refusal r : out.refusals) ++refused_[static_cast<std::size_t>(r)];
}

void BlynkHub::submit(SessionOutput& out) {
  const int64_t received = now();
  for (auto& reading : out.readings) {
    if (auto st = ingest_.submit_reading(std::move(reading), received); st.ok()) {
      ++readings_;
    } else {
      ++refused_[static_cast<std::size_t>(Refusal::kReadingRefused)];
    }
  }
  out.readings.clear();
  for (auto& ack : out.acks) {
    ingest_.submit_ack(std::move(ack), received);
    ++acks_;
  }
  out.acks.clear();
}

bool BlynkHub::is_connected(const std::string& meter) {
  std::lock_guard lock(registry_mu_);
  auto it = by_meter_.find(meter);
  return it != by_meter_.end() && !it->second.expired();
}

BlynkStats BlynkHub::stats() const {
  BlynkStats s;
  s.connections_open = open_.load();
  s.connections_total = total_.load();
  s.logins_ok = logins_ok_.load();
  s.logins_failed = logins_failed_.load();
  s.frames_in = frames_in_.load();
  s.frames_out = frames_out_.load();
  s.readings = readings_.load();
  s.acks = acks_.load();
  for (std::size_t k = 0; k < kRefusalCount; ++k) s.refused[refusal_name(static_cast<Refusal>(k))] = refused_[k].load();
  s.refused["too_many_connections"] = too_many_connections_.load();
  return s;
}

}  // namespace wattguard::blynk
