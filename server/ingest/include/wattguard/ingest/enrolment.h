// Adding, re-keying and retiring meters while the server runs (POST/DELETE /api/v1/meters): the store's
// registry, the keys of each protocol the meter speaks, and the broker's password and ACL files with a reload
// of the running broker. Thread-safe: one enrolment at a time.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "wattguard/base/clock.h"
#include "wattguard/base/expected.h"
#include "wattguard/ingest/device_keys.h"
#include "wattguard/ingest/provisioning.h"
#include "wattguard/storage/reading_store.h"

namespace wattguard::ingest {

// The broker this server manages the users of: its files, and how to make the running broker re-read them
// (Mosquitto re-reads both on SIGHUP).
struct BrokerControl {
  BrokerAuthFiles files;
  ProvisionOptions provision;              // server_user must be the server's own broker user
  std::function<Expected<void>()> reload;  // optional
};

// What a meter logs in with, shown once: only the protocols it speaks are set.
struct DeviceCredentials {
  std::optional<std::string> mqtt_username;
  std::optional<std::string> mqtt_password;
  std::optional<std::string> blynk_token;
  std::optional<std::string> emoncms_apikey;
};

class Enrolment {
 public:
  // `broker` nullopt: this server does not manage the broker's users, so MQTT meters cannot be added here.
  // Everything referenced must outlive the object.
  Enrolment(storage::ReadingStore& store, DeviceKeys& keys, std::optional<BrokerControl> broker, Clock now_ms);

  // Registers the meter and issues a secret per protocol (at least one). Errors: kInvalidInput (field "id" or
  // "protocols"), kAlreadyExists, kUnavailable (MQTT asked of a server that does not manage the broker), kIoError.
  Expected<DeviceCredentials> enrol(const storage::MeterInfo& meter, std::span<const DeviceProtocol> protocols);
  // New secrets for every protocol the meter has; the old ones stop working. kNotFound for an unknown or
  // retired meter.
  Expected<DeviceCredentials> rotate(const std::string& meter_id);
  // Takes the meter out of service: its secrets and broker user are removed, its history is kept. Retiring a
  // retired meter changes nothing. Returns the meter as stored.
  Expected<storage::MeterInfo> retire(const std::string& meter_id);

  bool manages_broker() const { return broker_.has_value(); }

 private:
  Expected<void> reload_broker();
  Expected<void> issue(const std::string& meter_id, DeviceProtocol protocol, DeviceCredentials& out);

  std::mutex mutex_;
  storage::ReadingStore& store_;
  DeviceKeys& keys_;
  std::optional<BrokerControl> broker_;
  Clock now_ms_;
};

}  // namespace wattguard::ingest
