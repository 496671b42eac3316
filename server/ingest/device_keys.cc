// DeviceKeys: a table of (kind, SHA-256 digest) -> meter. Tokens carry 190 bits of entropy, so an unsalted fast
// digest is enough to keep a stolen database from logging in, and it lets a login find its meter by index.
#include "wattguard/ingest/device_keys.h"

#include <sodium.h>

#include <algorithm>
#include <array>

#include "wattguard/base/sodium.h"

namespace wattguard::ingest {
namespace {

constexpr const char* kSchema = R"SQL(
CREATE TABLE IF NOT EXISTS device_keys(
  kind TEXT NOT NULL,
  digest TEXT NOT NULL,
  meter TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  PRIMARY KEY(kind, digest)) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS device_keys_by_meter ON device_keys(meter, kind);
)SQL";

constexpr std::size_t kMaxCached = 200'000;

std::string digest_hex(std::string_view secret) {
  std::array<unsigned char, crypto_hash_sha256_BYTES> d{};
  crypto_hash_sha256(d.data(), reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
  std::array<char, crypto_hash_sha256_BYTES * 2 + 1> hex{};
  sodium_bin2hex(hex.data(), hex.size(), d.data(), d.size());
  return std::string(hex.data(), crypto_hash_sha256_BYTES * 2);
}

}  // namespace

const char* device_protocol_name(DeviceProtocol protocol) {
  switch (protocol) {
    case DeviceProtocol::kMqtt: return "mqtt";
    case DeviceProtocol::kBlynk: return "blynk";
    case DeviceProtocol::kEmoncms: return "emoncms";
  }
  return "mqtt";
}

std::optional<DeviceProtocol> device_protocol_from_name(std::string_view name) {
  for (DeviceProtocol p : {DeviceProtocol::kMqtt, DeviceProtocol::kBlynk, DeviceProtocol::kEmoncms}) {
    if (name == device_protocol_name(p)) return p;
  }
  return std::nullopt;
}

std::string generate_device_token() {
  ensure_sodium();
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string token(32, 'A');
  for (char& c : token) c = kAlphabet[randombytes_uniform(static_cast<uint32_t>(kAlphabet.size()))];
  return token;
}

Expected<std::unique_ptr<DeviceKeys>> DeviceKeys::open(const std::string& database_path) {
  ensure_sodium();
  auto db = storage::Db::open(database_path, 5000);
  if (!db.ok()) return Error::io(db.error().message);
  std::unique_ptr<DeviceKeys> keys(new DeviceKeys(std::move(db).value()));
  for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", kSchema}) {
    if (auto s = keys->db_->exec(sql); !s.ok()) return Error::io(database_path + ": " + s.error().message);
  }
  return keys;
}

DeviceKeys::DeviceKeys(std::unique_ptr<storage::Db> db) : db_(std::move(db)) {}
DeviceKeys::~DeviceKeys() = default;

void DeviceKeys::forget_cached(const std::string& meter) {
  std::erase_if(by_digest_, [&](const auto& entry) { return entry.second == meter; });
}

Expected<void> DeviceKeys::set(const std::string& meter, DeviceProtocol protocol, std::string_view secret,
                               int64_t now_ms) {
  const std::string digest = digest_hex(secret);
  std::lock_guard lock(mutex_);
  storage::Transaction txn(*db_);
  if (auto s = txn.begin_immediate(); !s.ok()) return s.error();
  auto del = db_->prepare("DELETE FROM device_keys WHERE meter = ?1 AND kind = ?2");
  if (!del.ok()) return del.error();
  del->bind(1, meter);
  del->bind(2, device_protocol_name(protocol));
  if (auto s = db_->step_done(*del, "replacing a device key"); !s.ok()) return s.error();
  auto ins = db_->prepare("INSERT INTO device_keys(kind, digest, meter, created_ms) VALUES(?1, ?2, ?3, ?4)");
  if (!ins.ok()) return ins.error();
  ins->bind(1, device_protocol_name(protocol));
  ins->bind(2, digest);
  ins->bind(3, meter);
  ins->bind(4, now_ms);
  if (auto s = db_->step_done(*ins, "storing a device key"); !s.ok()) return s.error();
  if (auto s = txn.commit(); !s.ok()) return s.error();
  forget_cached(meter);
  return {};
}

Expected<std::string> DeviceKeys::meter_of(DeviceProtocol protocol, std::string_view secret) {
  const std::string key = std::string(device_protocol_name(protocol)) + ":" + digest_hex(secret);
  std::lock_guard lock(mutex_);
  if (auto it = by_digest_.find(key); it != by_digest_.end()) return it->second;
  auto s = db_->prepare("SELECT meter FROM device_keys WHERE kind = ?1 AND digest = ?2");
  if (!s.ok()) return s.error();
  s->bind(1, device_protocol_name(protocol));
  s->bind(2, key.substr(key.find(':') + 1));
  const int rc = s->step();
  if (rc == SQLITE_DONE) return Error::not_found(std::string("unknown ") + device_protocol_name(protocol) + " key");
  if (rc != SQLITE_ROW) return Error::io("reading device keys failed");
  std::string meter = s->text(0);
  if (by_digest_.size() >= kMaxCached) by_digest_.clear();
  by_digest_[key] = meter;
  return meter;
}

Expected<std::vector<DeviceProtocol>> DeviceKeys::protocols_of(const std::string& meter) {
  std::lock_guard lock(mutex_);
  auto s = db_->prepare("SELECT kind FROM device_keys WHERE meter = ?1");
  if (!s.ok()) return s.error();
  s->bind(1, meter);
  std::vector<DeviceProtocol> out;
  int rc;
  while ((rc = s->step()) == SQLITE_ROW) {
    if (auto p = device_protocol_from_name(s->text(0))) out.push_back(*p);
  }
  if (rc != SQLITE_DONE) return Error::io("reading device keys failed");
  std::sort(out.begin(), out.end());
  return out;
}

Expected<void> DeviceKeys::revoke_all(const std::string& meter) {
  std::lock_guard lock(mutex_);
  auto del = db_->prepare("DELETE FROM device_keys WHERE meter = ?1");
  if (!del.ok()) return del.error();
  del->bind(1, meter);
  if (auto s = db_->step_done(*del, "revoking device keys"); !s.ok()) return s.error();
  forget_cached(meter);
  return {};
}

}  // namespace wattguard::ingest
