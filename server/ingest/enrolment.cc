// Enrolment: the order of steps is chosen so that a failure leaves no meter half-made: the broker user and the
// registry entry are created together by provision_meters, then the other protocols' keys.
#include "wattguard/ingest/enrolment.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "wattguard/protocol/topics.h"

namespace wattguard::ingest {

Enrolment::Enrolment(storage::ReadingStore& store, DeviceKeys& keys, std::optional<BrokerControl> broker, Clock now_ms)
    : store_(store), keys_(keys), broker_(std::move(broker)), now_ms_(or_system_clock(std::move(now_ms))) {}

Expected<void> Enrolment::reload_broker() {
  if (!broker_ || !broker_->reload) return {};
  return broker_->reload();
}

Expected<void> Enrolment::issue(const std::string& meter_id, DeviceProtocol protocol, DeviceCredentials& out) {
  std::string secret;
  if (protocol == DeviceProtocol::kMqtt) {
    auto pw = set_broker_user(broker_->files, meter_id, std::nullopt, broker_->provision);
    if (!pw.ok()) return std::move(pw).error();
    secret = std::move(pw).value();
    out.mqtt_username = meter_id;
    out.mqtt_password = secret;
  } else {
    secret = generate_device_token();
    (protocol == DeviceProtocol::kBlynk ? out.blynk_token : out.emoncms_apikey) = secret;
  }
  return keys_.set(meter_id, protocol, secret, now_ms_());
}

Expected<DeviceCredentials> Enrolment::enrol(const storage::MeterInfo& meter,
                                             std::span<const DeviceProtocol> protocols) {
  if (!protocol::is_valid_meter_id(meter.id)) {
    return Error::invalid("id", meter.id, "meter id '" + meter.id + "' must be 1 to 64 characters of A-Z a-z 0-9 _ -");
  }
  if (protocols.empty()) return Error::invalid("protocols", "[]", "a meter needs at least one protocol");
  const bool mqtt = std::find(protocols.begin(), protocols.end(), DeviceProtocol::kMqtt) != protocols.end();
  if (mqtt && !broker_) {
    Error e = Error::unavailable(
        "this server does not manage the broker's users (set mqtt.broker_password_file and mqtt.broker_acl_file), "
        "so it cannot add an MQTT meter");
    e.field = "protocols";
    e.value = "mqtt";
    return e;
  }
  std::lock_guard lock(mutex_);
  DeviceCredentials out;
  if (mqtt) {
    auto made = provision_meters(store_, broker_->files, std::span(&meter, 1), broker_->provision);
    if (!made.ok()) return std::move(made).error();
    out.mqtt_username = made->front().username;
    out.mqtt_password = made->front().password;
    if (auto k = keys_.set(meter.id, DeviceProtocol::kMqtt, *out.mqtt_password, now_ms_()); !k.ok()) return k.error();
    if (auto r = reload_broker(); !r.ok())
      spdlog::warn("enrolment: reloading the broker failed: {}", r.error().message);
  } else {
    if (store_.has_meter(meter.id)) return Error::already_exists("meter " + meter.id + " is already provisioned");
    if (auto st = store_.add_meters(std::span(&meter, 1)); !st.ok()) return st.error();
  }
  for (DeviceProtocol p : protocols) {
    if (p == DeviceProtocol::kMqtt) continue;
    if (auto r = issue(meter.id, p, out); !r.ok()) return r.error();
  }
  return out;
}

Expected<DeviceCredentials> Enrolment::rotate(const std::string& meter_id) {
  std::lock_guard lock(mutex_);
  auto info = store_.get_meter(meter_id);
  if (!info.ok()) return std::move(info).error();
  if (info->retired_ms != 0) return Error::not_found("meter " + meter_id + " is retired");
  auto protocols = keys_.protocols_of(meter_id);
  if (!protocols.ok()) return std::move(protocols).error();
  if (protocols->empty()) {
    return Error::not_found("meter " + meter_id + " has no credentials issued here (provisioned by the CLI?)");
  }
  DeviceCredentials out;
  bool mqtt = false;
  for (DeviceProtocol p : protocols.value()) {
    if (p == DeviceProtocol::kMqtt && !broker_) {
      return Error::unavailable("this server does not manage the broker's users, so it cannot re-key MQTT");
    }
    mqtt = mqtt || p == DeviceProtocol::kMqtt;
    if (auto r = issue(meter_id, p, out); !r.ok()) return r.error();
  }
  if (mqtt) {
    if (auto r = reload_broker(); !r.ok())
      spdlog::warn("enrolment: reloading the broker failed: {}", r.error().message);
  }
  return out;
}

Expected<storage::MeterInfo> Enrolment::retire(const std::string& meter_id) {
  std::lock_guard lock(mutex_);
  auto info = store_.get_meter(meter_id);
  if (!info.ok()) return std::move(info).error();
  if (info->retired_ms != 0) return std::move(info).value();
  info->retired_ms = now_ms_();
  if (auto st = store_.update_meter(info.value()); !st.ok()) return st.error();
  if (auto k = keys_.revoke_all(meter_id); !k.ok()) return k.error();
  if (broker_) {
    auto removed = remove_broker_user(broker_->files, meter_id, broker_->provision);
    if (!removed.ok()) return std::move(removed).error();
    if (removed.value()) {
      if (auto r = reload_broker(); !r.ok()) {
        spdlog::warn("enrolment: reloading the broker failed: {}", r.error().message);
      }
    }
  }
  return std::move(info).value();
}

}  // namespace wattguard::ingest
