// Meter provisioning: register meters in the store and write Mosquitto's password and ACL files.
#pragma once

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wattguard/base/expected.h"
#include "wattguard/storage/reading_store.h"

namespace wattguard::ingest {

// Files the broker is configured with (`password_file` and `acl_file` in mosquitto.conf).
// The broker re-reads them on SIGHUP; send it one after provisioning while it runs.
struct BrokerAuthFiles {
  std::filesystem::path password_file;
  std::filesystem::path acl_file;
};

inline constexpr std::string_view kDefaultServerUser = "wattguard-server";
// The Home Assistant topics the ACL allows ([homeassistant] discovery_prefix and state_prefix's defaults).
inline constexpr std::string_view kHaDiscoveryPrefix = "homeassistant";
inline constexpr std::string_view kHaStatePrefix = "wattguard/ha";

// Each meter's MQTT user name is its meter id (the ACL's %u pattern relies on it).
struct MeterCredentials {
  std::string meter_id;
  std::string username;
  std::string password;  // shown once; only its hash is stored
};

// A strong random password: 32 characters of URL-safe base64 from libsodium (192 bits).
std::string generate_password();

// A Mosquitto 2.0 password-file hash: "$7$<iterations>$<base64 salt>$<base64 PBKDF2-SHA512>",
// 12-byte random salt, 64-byte derived key, the same as `mosquitto_passwd` writes.
std::string mosquitto_password_hash(std::string_view password, int iterations = 101);
// Checks a password against such a hash (also accepts "$6$" salted SHA-512 lines).
bool mosquitto_password_matches(std::string_view password, std::string_view hash);

// The ACL: the server user reads wattguard/v1/# and writes wattguard/v1/+/cmd; every other user
// (a meter, user name = meter id) writes only its own reading, status, event and cmd/ack topics and
// reads only its own cmd. Gateway users (load tests: one login publishing for many virtual meters)
// may write every meter's reading/status/event/cmd/ack and read every cmd; they are listed in the
// file as "# gateway: <name>" so later runs keep them. The server user also writes Home Assistant's discovery
// configs (kHaDiscoveryPrefix/#) and its own state topics (kHaStatePrefix/#) and reads the relay/set commands and
// Home Assistant's status. Home Assistant users (listed as "# homeassistant: <name>") read both prefixes and write
// only the relay/set topics and Home Assistant's status.
std::string acl_file_text(std::string_view server_user, const std::vector<std::string>& gateway_users = {},
                          const std::vector<std::string>& homeassistant_users = {});

struct ProvisionOptions {
  std::string server_user = std::string(kDefaultServerUser);
  // Also create (or give a new password to) this gateway user; see acl_file_text. Empty = none.
  std::string gateway_user;
  // More than 1: gateway_user-1 .. gateway_user-N instead, one per gateway connection (the broker binds a client
  // id to its user, so connections cannot share one).
  int gateway_logins = 1;
  // The user set_broker_user creates is a Home Assistant user (see acl_file_text). Empty = none.
  std::string homeassistant_user;
  // Run `mosquitto_passwd -b` once per meter instead of hashing in-process (slow; for checking).
  bool use_mosquitto_passwd = false;
  int hash_iterations = 101;
};

// Registers the meters in the store (all or nothing) and adds a user per meter to the password
// file (replacing any line of the same user; other lines kept), then rewrites the ACL file. Files
// are replaced atomically (temp + rename). Fails, changing nothing, if a meter id is invalid or
// already provisioned. Returns the new credentials in the order given. Errors: kInvalidInput (field "meter" and
// the id), kAlreadyExists, kIoError / kCorruption (the files or the store), kUnavailable (mosquitto_passwd);
// the message is a sentence naming the meter, file or value at fault.
Expected<std::vector<MeterCredentials>> provision_meters(storage::ReadingStore& store, const BrokerAuthFiles& files,
                                                         std::span<const storage::MeterInfo> meters,
                                                         const ProvisionOptions& options = {});

// Adds or replaces one broker user (the server's own, or a meter's new password after a leak) in
// the password file, and rewrites the ACL. `password` nullopt = generate one. Returns the password.
Expected<std::string> set_broker_user(const BrokerAuthFiles& files, std::string_view user,
                                      std::optional<std::string> password, const ProvisionOptions& options = {});

// Deletes a broker user (a retired meter) from the password file and rewrites the ACL. False when there was no
// such user (nothing changed).
Expected<bool> remove_broker_user(const BrokerAuthFiles& files, std::string_view user,
                                  const ProvisionOptions& options = {});

// Ids for the bulk form: prefix + zero-padded number, e.g. ("m", 3, 20000) -> "m00003".
std::vector<std::string> bulk_meter_ids(std::string_view prefix, std::size_t first, std::size_t count,
                                        std::size_t total_width = 0);

}  // namespace wattguard::ingest
