// The fleet's broker credentials: one user per meter (user name = meter id), and optionally gateway
// users that may publish for every meter (load benchmarks beyond the fd limit). The broker binds a client id
// to its user (use_username_as_clientid), so each gateway connection needs a user of its own.
//
// File format (CSV, '#' comments and blank lines ignored, header line optional):
//   meter_id,username,password[,command_key]
//   m00001,m00001,3vX...,5f0c...  one line per meter; command_key (64 hex digits) verifies the server's signed
//                                 commands (protocol/command_signature.h); without it commands are not checked
//   *,wattguard-gateway-1,Jq9...  a gateway user (meter id "*"); one line per gateway connection
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "wattguard/base/expected.h"
#include "wattguard/protocol/command_signature.h"

namespace wattguard::fleet {

struct BrokerLogin {
  std::string username;
  std::string password;
  // The meter's key for the server's signed commands: when set, a command without a valid signature, a
  // replayed one or one that never expires is refused (acked ok=false) and not executed.
  std::optional<protocol::CommandKey> command_key;
};

struct CredentialSet {
  std::unordered_map<std::string, BrokerLogin> meters;  // by meter id
  std::vector<BrokerLogin> gateways;                    // distinct users, one per gateway connection

  // The login of a meter; nullopt when the file has none for it.
  const BrokerLogin* find(const std::string& meter_id) const;
};

// Parses the text of a credentials file. Errors (kInvalidInput) carry `origin` and the line as source and
// line, and name the field and the value in the message.
Expected<CredentialSet> parse_credentials(const std::string& text, const std::string& origin);
Expected<CredentialSet> load_credentials(const std::filesystem::path& path);
// Writes them in the format above (mode 0600); the meters in `order` first, then the gateways.
Expected<void> save_credentials(const std::filesystem::path& path, const CredentialSet& set,
                                const std::vector<std::string>& order);

// A random password of 32 URL-safe characters (from /dev/urandom).
std::string random_password();

}  // namespace wattguard::fleet
