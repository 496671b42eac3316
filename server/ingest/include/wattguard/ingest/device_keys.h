// The secrets meters log in with on protocols other than our MQTT: a Blynk device's auth token and an emoncms
// uploader's API key, one of each kind per meter, kept as SHA-256 digests in the readings' SQLite file. Also
// the record that a meter has an MQTT password (the password's own hash lives in the broker's password file).
// Thread-safe: one connection behind a mutex, plus a cache of recent lookups.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "wattguard/base/expected.h"
#include "wattguard/storage/sqlite_db.h"

namespace wattguard::ingest {

// How a meter talks to us. The names are the API's ("mqtt", "blynk", "emoncms").
enum class DeviceProtocol : uint8_t { kMqtt, kBlynk, kEmoncms };
const char* device_protocol_name(DeviceProtocol protocol);
std::optional<DeviceProtocol> device_protocol_from_name(std::string_view name);

// A token of 32 characters of A-Z a-z 0-9 from libsodium (190 bits): the length and alphabet of Blynk's tokens
// and accepted by every emoncms uploader's API-key field.
std::string generate_device_token();

class DeviceKeys {
 public:
  static Expected<std::unique_ptr<DeviceKeys>> open(const std::string& database_path);
  ~DeviceKeys();
  DeviceKeys(const DeviceKeys&) = delete;
  DeviceKeys& operator=(const DeviceKeys&) = delete;

  // Stores `secret` as meter's key of that kind, replacing the previous one (which stops working at once).
  Expected<void> set(const std::string& meter, DeviceProtocol protocol, std::string_view secret, int64_t now_ms);
  // The meter whose key of that kind is `secret`; kNotFound when none.
  Expected<std::string> meter_of(DeviceProtocol protocol, std::string_view secret);
  // The kinds a meter has keys of, in enum order.
  Expected<std::vector<DeviceProtocol>> protocols_of(const std::string& meter);
  // Deletes every key of the meter (retirement).
  Expected<void> revoke_all(const std::string& meter);

 private:
  explicit DeviceKeys(std::unique_ptr<storage::Db> db);
  void forget_cached(const std::string& meter);

  std::mutex mutex_;
  std::unique_ptr<storage::Db> db_;                         // guarded by mutex_
  std::unordered_map<std::string, std::string> by_digest_;  // guarded by mutex_: "<kind>:<digest>" -> meter
};

}  // namespace wattguard::ingest
