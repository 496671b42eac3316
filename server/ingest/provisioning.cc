// Meter provisioning: registry rows in the store plus Mosquitto password-file lines and the ACL.
#include "wattguard/ingest/provisioning.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "wattguard/base/file_write.h"
#include "wattguard/base/sodium.h"
#include "wattguard/protocol/topics.h"

namespace wattguard::ingest {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kSaltBytes = 12;
constexpr std::size_t kHashBytes = 64;

std::string base64(const unsigned char* data, std::size_t len) {
  std::string out(4 * ((len + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(len));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> unbase64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  std::size_t len = static_cast<std::size_t>(n);
  if (text.ends_with("==")) {
    len -= 2;
  } else if (text.ends_with("=")) {
    len -= 1;
  }
  out.resize(len);
  return out;
}

std::string pbkdf2_sha512(std::string_view password, const std::string& salt, int iterations) {
  unsigned char key[kHashBytes];
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()), iterations,
                        EVP_sha512(), sizeof key, key) != 1) {
    throw std::runtime_error("PBKDF2 failed");
  }
  return std::string(reinterpret_cast<char*>(key), sizeof key);
}

using Users = std::map<std::string, std::string>;  // user -> hash, as in the password file

Expected<Users> read_password_file(const fs::path& path) {
  Users users;
  std::error_code ec;
  if (!fs::exists(path, ec)) return users;
  std::ifstream in(path);
  if (!in) return Error::io("cannot read password file " + path.string());
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos || colon == 0) {
      return Error::corruption("password file " + path.string() + " line " + std::to_string(line_no) +
                               " is not user:hash")
          .at(path.string(), line_no);
    }
    users[line.substr(0, colon)] = line.substr(colon + 1);
  }
  return users;
}

// Writes `text` to a new private file beside `path`; returns the temporary path.
Expected<fs::path> write_temp(const fs::path& path, const std::string& text) { return write_private_temp(path, text); }

std::string password_file_text(const Users& users) {
  std::string text;
  for (const auto& [user, hash] : users) text += user + ":" + hash + "\n";
  return text;
}

// Runs `mosquitto_passwd -U <file>` (no shell involved), which hashes a file of plain `user:password` lines in
// place: the passwords never appear in an argument list, where any local user would read them in ps.
Expected<void> run_mosquitto_passwd(const fs::path& file) {
  const pid_t pid = ::fork();
  if (pid < 0) return Error::unavailable("cannot start mosquitto_passwd");
  if (pid == 0) {
    std::freopen("/dev/null", "w", stdout);
    ::execlp("mosquitto_passwd", "mosquitto_passwd", "-U", file.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Error::unavailable("mosquitto_passwd failed (exit " + std::to_string(WEXITSTATUS(status)) +
                              "; is the mosquitto package installed?)");
  }
  return {};
}

// Hashes for the new users, either in-process or through mosquitto_passwd.
Expected<void> add_users(Users* users, const std::vector<std::pair<std::string, std::string>>& creds,
                         const ProvisionOptions& options, const fs::path& scratch_dir) {
  if (!options.use_mosquitto_passwd) {
    for (const auto& [user, password] : creds)
      (*users)[user] = mosquitto_password_hash(password, options.hash_iterations);
    return {};
  }
  std::string plain;
  for (const auto& [user, password] : creds) plain += user + ":" + password + "\n";
  auto scratch = write_private_temp(scratch_dir / "wattguard_passwd", plain);
  if (!scratch.ok()) return std::move(scratch).error();
  auto r = run_mosquitto_passwd(*scratch);
  auto back = r.ok() ? read_password_file(*scratch) : Expected<Users>(r.error());
  std::error_code ec;
  fs::remove(*scratch, ec);
  if (!back.ok()) return std::move(back).error();
  for (const auto& [user, password] : creds) {
    const auto it = back->find(user);
    if (it == back->end()) return Error::unavailable("mosquitto_passwd wrote no line for " + user);
    (*users)[user] = it->second;
  }
  return {};
}

Expected<void> replace_file(const fs::path& tmp, const fs::path& path) {
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return Error::io("cannot replace " + path.string() + ": " + ec.message());
  }
  return {};
}

}  // namespace

std::string generate_password() {
  ensure_sodium();
  unsigned char bytes[24];
  randombytes_buf(bytes, sizeof bytes);
  char out[sodium_base64_ENCODED_LEN(sizeof bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(out, sizeof out, bytes, sizeof bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return out;
}

std::string mosquitto_password_hash(std::string_view password, int iterations) {
  ensure_sodium();
  std::string salt(kSaltBytes, '\0');
  randombytes_buf(salt.data(), salt.size());
  const std::string key = pbkdf2_sha512(password, salt, iterations);
  return "$7$" + std::to_string(iterations) + "$" +
         base64(reinterpret_cast<const unsigned char*>(salt.data()), salt.size()) + "$" +
         base64(reinterpret_cast<const unsigned char*>(key.data()), key.size());
}

bool mosquitto_password_matches(std::string_view password, std::string_view hash) {
  // "$7$<iterations>$<salt>$<key>" (PBKDF2-SHA512) or "$6$<salt>$<sha512(password || salt)>".
  auto field = [&](std::size_t& pos) -> std::string_view {
    const auto end = hash.find('$', pos);
    std::string_view f = hash.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    pos = end == std::string_view::npos ? hash.size() : end + 1;
    return f;
  };
  if (hash.starts_with("$7$")) {
    std::size_t pos = 3;
    const std::string iterations(field(pos));
    const auto salt = unbase64(field(pos));
    const auto key = unbase64(field(pos));
    const int n = std::atoi(iterations.c_str());
    if (!salt || !key || n <= 0 || key->size() != kHashBytes) return false;
    const std::string computed = pbkdf2_sha512(password, *salt, n);
    return CRYPTO_memcmp(computed.data(), key->data(), kHashBytes) == 0;
  }
  if (hash.starts_with("$6$")) {
    std::size_t pos = 3;
    const auto salt = unbase64(field(pos));
    const auto key = unbase64(field(pos));
    if (!salt || !key || key->size() != 64) return false;
    unsigned char digest[64];
    unsigned int len = 0;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha512(), nullptr);
    EVP_DigestUpdate(ctx, password.data(), password.size());
    EVP_DigestUpdate(ctx, salt->data(), salt->size());
    EVP_DigestFinal_ex(ctx, digest, &len);
    EVP_MD_CTX_free(ctx);
    return len == 64 && CRYPTO_memcmp(digest, key->data(), 64) == 0;
  }
  return false;
}

std::string acl_file_text(std::string_view server_user, const std::vector<std::string>& gateway_users,
                          const std::vector<std::string>& homeassistant_users) {
  std::ostringstream out;
  out << "# Mosquitto ACL for wattguard, written by `wattguard meters provision`; rewritten on every run.\n"
         "# The head-end server reads every meter's messages and sends commands; for Home Assistant it publishes\n"
         "# discovery and state and reads relay commands and Home Assistant's status.\n"
      << "user " << server_user << "\n"
      << "topic read wattguard/v1/#\n"
         "topic write wattguard/v1/+/cmd\n"
      << "topic write " << kHaDiscoveryPrefix << "/#\n"
      << "topic read " << kHaDiscoveryPrefix << "/status\n"
      << "topic write " << kHaStatePrefix << "/#\n"
      << "topic read " << kHaStatePrefix << "/+/relay/set\n\n";
  for (const std::string& h : homeassistant_users) {
    out << "# homeassistant: " << h << "\n"
        << "user " << h << "\n"
        << "topic read " << kHaDiscoveryPrefix << "/#\n"
        << "topic write " << kHaDiscoveryPrefix << "/status\n"
        << "topic read " << kHaStatePrefix << "/#\n"
        << "topic write " << kHaStatePrefix << "/+/relay/set\n\n";
  }
  for (const std::string& g : gateway_users) {
    out << "# gateway: " << g << "\n"
        << "user " << g << "\n"
        << "topic write wattguard/v1/+/reading\n"
           "topic write wattguard/v1/+/status\n"
           "topic write wattguard/v1/+/event\n"
           "topic write wattguard/v1/+/cmd/ack\n"
           "topic read wattguard/v1/+/cmd\n\n";
  }
  out << "# Every other user is a meter whose user name is its meter id (%u): it may publish only its own\n"
         "# readings, status (also its last will), events and command acks, and read only its own commands.\n"
         "pattern write wattguard/v1/%u/reading\n"
         "pattern write wattguard/v1/%u/status\n"
         "pattern write wattguard/v1/%u/event\n"
         "pattern write wattguard/v1/%u/cmd/ack\n"
         "pattern read wattguard/v1/%u/cmd\n";
  return out.str();
}

namespace {

// The gateway users to create: none, `gateway_user` itself, or gateway_user-1..-N for N logins (one per gateway
// connection: the broker binds each client id to its user).
std::vector<std::string> gateway_users(const ProvisionOptions& options) {
  if (options.gateway_user.empty()) return {};
  if (options.gateway_logins <= 1) return {options.gateway_user};
  std::vector<std::string> names;
  for (int g = 1; g <= options.gateway_logins; ++g) names.push_back(options.gateway_user + "-" + std::to_string(g));
  return names;
}

// Users of one kind already in an ACL file we wrote (its "<marker><name>" lines), plus `extra`.
std::vector<std::string> listed_users(const fs::path& acl, std::string_view marker,
                                      const std::vector<std::string>& extra) {
  std::set<std::string> names;
  std::ifstream in(acl);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(marker)) names.insert(line.substr(marker.size()));
  }
  for (const std::string& e : extra) {
    if (!e.empty()) names.insert(e);
  }
  return {names.begin(), names.end()};
}

// The new password file and ACL, written beside the real ones (replace_file puts them in place).
struct AuthTemps {
  fs::path password_file;
  fs::path acl_file;
};
Expected<AuthTemps> write_auth_temps(const BrokerAuthFiles& files, const Users& users,
                                     const ProvisionOptions& options) {
  auto pw_tmp = write_temp(files.password_file, password_file_text(users));
  if (!pw_tmp.ok()) return std::move(pw_tmp).error();
  auto acl_tmp =
      write_temp(files.acl_file,
                 acl_file_text(options.server_user, listed_users(files.acl_file, "# gateway: ", gateway_users(options)),
                               listed_users(files.acl_file, "# homeassistant: ", {options.homeassistant_user})));
  if (!acl_tmp.ok()) {
    fs::remove(pw_tmp.value());
    return std::move(acl_tmp).error();
  }
  return AuthTemps{pw_tmp.value(), acl_tmp.value()};
}

}  // namespace

Expected<std::vector<MeterCredentials>> provision_meters(storage::ReadingStore& store, const BrokerAuthFiles& files,
                                                         std::span<const storage::MeterInfo> meters,
                                                         const ProvisionOptions& options) {
  if (meters.empty()) return Error::invalid("meters", "", "no meters to provision");
  if (options.hash_iterations < 1) {
    return Error::invalid("hash_iterations", std::to_string(options.hash_iterations),
                          "hash_iterations must be at least 1");
  }
  std::set<std::string> seen;
  for (std::size_t i = 0; i < meters.size(); ++i) {
    const std::string& id = meters[i].id;
    if (!protocol::is_valid_meter_id(id)) {
      return Error::invalid("meter", id,
                            "meter id '" + id + "' (item " + std::to_string(i + 1) +
                                ") must be 1 to 64 characters of A-Z a-z 0-9 _ -");
    }
    const auto gateways = gateway_users(options);
    if (id == options.server_user || std::find(gateways.begin(), gateways.end(), id) != gateways.end()) {
      return Error::invalid("meter", id,
                            "meter id '" + id + "' is the name of the server's or the gateway's broker user");
    }
    if (!seen.insert(id).second) return Error::invalid("meter", id, "meter id '" + id + "' is given twice");
    if (store.has_meter(id)) return Error::already_exists("meter " + id + " is already provisioned");
  }
  auto users = read_password_file(files.password_file);
  if (!users.ok()) return std::move(users).error();
  // A meter's broker user is its id: an id that names an existing user (the server, a gateway, Home Assistant)
  // would overwrite that user's password and hand the new meter its rights.
  for (const auto& m : meters) {
    if (users->count(m.id) != 0 || m.id == options.server_user) {
      return Error::already_exists("meter id '" + m.id + "' is the name of an existing broker user; choose another id");
    }
  }
  if (options.gateway_logins < 1 || options.gateway_logins > 1024) {
    return Error::invalid("gateway_logins", std::to_string(options.gateway_logins),
                          "gateway logins must be 1 to 1024, not " + std::to_string(options.gateway_logins));
  }
  for (const std::string& gateway : gateway_users(options)) {
    if (gateway == options.server_user || store.has_meter(gateway) || seen.count(gateway) != 0) {
      return Error::already_exists("gateway user '" + gateway + "' is the server's user or a meter's");
    }
  }

  std::vector<MeterCredentials> creds;
  creds.reserve(meters.size());
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& m : meters) {
    creds.push_back(MeterCredentials{m.id, m.id, generate_password()});
    pairs.emplace_back(m.id, creds.back().password);
  }
  for (const std::string& gateway : gateway_users(options)) {
    // Meter id "*" marks a gateway in credentials files (see fleet/credentials.h).
    creds.push_back(MeterCredentials{"*", gateway, generate_password()});
    pairs.emplace_back(gateway, creds.back().password);
  }
  const fs::path dir = files.password_file.has_parent_path() ? files.password_file.parent_path() : fs::path(".");
  if (auto r = add_users(&users.value(), pairs, options, dir); !r.ok()) return std::move(r).error();

  auto tmp = write_auth_temps(files, users.value(), options);
  if (!tmp.ok()) return std::move(tmp).error();
  // The store is the point of no return: if it refuses, the broker files are left untouched.
  if (auto st = store.add_meters(meters); !st.ok()) {
    fs::remove(tmp->password_file);
    fs::remove(tmp->acl_file);
    return Error::io("registering meters failed: " + st.error().message);
  }
  if (auto r = replace_file(tmp->password_file, files.password_file); !r.ok()) {
    fs::remove(tmp->acl_file);
    Error e = std::move(r).error();
    e.message += " (meters are registered; re-issue their passwords with set_broker_user)";
    return e;
  }
  if (auto r = replace_file(tmp->acl_file, files.acl_file); !r.ok()) return std::move(r).error();
  return creds;
}

Expected<std::string> set_broker_user(const BrokerAuthFiles& files, std::string_view user,
                                      std::optional<std::string> password, const ProvisionOptions& options) {
  if (user.empty() || user.find_first_of(":\n\r") != std::string_view::npos) {
    return Error::invalid("user", std::string(user),
                          "broker user name '" + std::string(user) + "' must be non-empty without ':' or line breaks");
  }
  if (password && (password->empty() || password->find_first_of("\n\r") != std::string::npos)) {
    return Error::invalid("password", "", "password must be non-empty and on one line");
  }
  auto users = read_password_file(files.password_file);
  if (!users.ok()) return std::move(users).error();
  const std::string pw = password ? *password : generate_password();
  const fs::path dir = files.password_file.has_parent_path() ? files.password_file.parent_path() : fs::path(".");
  if (auto r = add_users(&users.value(), {{std::string(user), pw}}, options, dir); !r.ok()) return std::move(r).error();
  auto tmp = write_auth_temps(files, users.value(), options);
  if (!tmp.ok()) return std::move(tmp).error();
  if (auto r = replace_file(tmp->password_file, files.password_file); !r.ok()) return std::move(r).error();
  if (auto r = replace_file(tmp->acl_file, files.acl_file); !r.ok()) return std::move(r).error();
  return pw;
}

Expected<bool> remove_broker_user(const BrokerAuthFiles& files, std::string_view user,
                                  const ProvisionOptions& options) {
  auto users = read_password_file(files.password_file);
  if (!users.ok()) return std::move(users).error();
  if (users->erase(std::string(user)) == 0) return false;
  auto tmp = write_auth_temps(files, users.value(), options);
  if (!tmp.ok()) return std::move(tmp).error();
  if (auto r = replace_file(tmp->password_file, files.password_file); !r.ok()) return std::move(r).error();
  if (auto r = replace_file(tmp->acl_file, files.acl_file); !r.ok()) return std::move(r).error();
  return true;
}

std::vector<std::string> bulk_meter_ids(std::string_view prefix, std::size_t first, std::size_t count,
                                        std::size_t total_width) {
  std::vector<std::string> ids;
  ids.reserve(count);
  const std::size_t last = first + count - (count > 0 ? 1 : 0);
  const std::size_t width = std::max(total_width, std::to_string(last).size());
  for (std::size_t i = 0; i < count; ++i) {
    std::string n = std::to_string(first + i);
    if (n.size() < width) n.insert(0, width - n.size(), '0');
    ids.push_back(std::string(prefix) + n);
  }
  return ids;
}

}  // namespace wattguard::ingest
