// Reading and writing the fleet's credentials file.
#include "wattguard/fleet/credentials.h"

#include <fstream>
#include <random>
#include <sstream>

#include "wattguard/base/file_write.h"
#include "wattguard/protocol/topics.h"

namespace wattguard::fleet {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> split_commas(const std::string& line) {
  std::vector<std::string> out;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, ',')) out.push_back(trim(field));
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

}  // namespace

const BrokerLogin* CredentialSet::find(const std::string& meter_id) const {
  auto it = meters.find(meter_id);
  return it == meters.end() ? nullptr : &it->second;
}

Expected<CredentialSet> parse_credentials(const std::string& text, const std::string& origin) {
  CredentialSet set;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    const auto fields = split_commas(t);
    // The text reads "<origin> line <n>: <what>", naming the field and value in <what>.
    const auto bad = [&origin, number](std::string what) {
      return Error::invalid("", "", std::move(what)).at(origin, number);
    };
    if (fields.size() != 3 && fields.size() != 4) {
      return bad("expected 3 or 4 fields meter_id,username,password[,command_key], found " +
                 std::to_string(fields.size()));
    }
    if (fields[0] == "meter_id" && fields[1] == "username") continue;  // header
    if (fields[1].empty()) return bad("field username is empty");
    if (fields[2].empty()) return bad("field password is empty for user '" + fields[1] + "'");
    BrokerLogin login{fields[1], fields[2], std::nullopt};
    if (fields.size() == 4 && !fields[3].empty()) {
      auto key = protocol::command_key_from_hex(fields[3]);
      // The key is a secret: the message names the field, never the value.
      if (!key.ok()) return bad("field command_key of meter '" + fields[0] + "' is not 64 hex digits");
      login.command_key = key.value();
    }
    if (fields[0] == "*") {
      for (const BrokerLogin& g : set.gateways) {
        if (g.username == login.username) return bad("gateway user '" + login.username + "' appears twice");
      }
      set.gateways.push_back(login);
      continue;
    }
    if (!protocol::is_valid_meter_id(fields[0])) {
      return bad("field meter_id '" + fields[0] + "' is not a valid meter id ([A-Za-z0-9_-]{1,64})");
    }
    if (!set.meters.emplace(fields[0], login).second) {
      return bad("meter_id '" + fields[0] + "' appears twice");
    }
  }
  return set;
}

Expected<CredentialSet> load_credentials(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return Error::io("cannot read credentials file " + path.string());
  std::stringstream buf;
  buf << in.rdbuf();
  return parse_credentials(buf.str(), path.string());
}

Expected<void> save_credentials(const std::filesystem::path& path, const CredentialSet& set,
                                const std::vector<std::string>& order) {
  std::string out = "# wattguard fleet credentials (secret): meter_id,username,password,command_key; '*' = gateway\n";
  out += "meter_id,username,password,command_key\n";
  for (const std::string& id : order) {
    const BrokerLogin* login = set.find(id);
    if (!login) continue;
    out += id + "," + login->username + "," + login->password + "," +
           (login->command_key ? protocol::command_key_to_hex(*login->command_key) : std::string()) + "\n";
  }
  for (const BrokerLogin& g : set.gateways) out += "*," + g.username + "," + g.password + ",\n";
  return write_file_atomically(path, out, 0600);
}

std::string random_password() {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::random_device rd;  // /dev/urandom on Linux
  std::string out;
  for (int k = 0; k < 32; ++k) out.push_back(kAlphabet[rd() % 64]);
  return out;
}

}  // namespace wattguard::fleet
