// The fleet's broker credentials: one user per meter (user name = meter id), and optionally a
// gateway user that may publish for every meter (load benchmarks beyond the fd limit).
//
// File format (CSV, '#' comments and blank lines ignored, header line optional):
//   meter_id,username,password
//   m00001,m00001,3vX...          one line per meter
//   *,wattguard-gateway,Jq9...    the gateway user (meter id "*")
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "wattguard/base/expected.h"

namespace wattguard::fleet {

struct BrokerLogin {
  std::string username;
  std::string password;
};

struct CredentialSet {
  std::unordered_map<std::string, BrokerLogin> meters;  // by meter id
  std::optional<BrokerLogin> gateway;

  // The login of a meter; nullopt when the file has none for it.
  const BrokerLogin* find(const std::string& meter_id) const;
};

// Parses the text of a credentials file. Errors (kInvalidInput) carry `origin` and the line as source and
// line, and name the field and the value in the message.
Expected<CredentialSet> parse_credentials(const std::string& text, const std::string& origin);
Expected<CredentialSet> load_credentials(const std::filesystem::path& path);
// Writes them in the format above (mode 0600); the meters in `order` first, then the gateway.
Expected<void> save_credentials(const std::filesystem::path& path, const CredentialSet& set,
                                const std::vector<std::string>& order);

// A random password of 32 URL-safe characters (from /dev/urandom).
std::string random_password();

}  // namespace wattguard::fleet
