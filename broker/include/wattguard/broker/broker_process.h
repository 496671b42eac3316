// A private Mosquitto broker run as a child process, for `wattguard demo`, `wattguard bench ingest`
// and every test that needs a real broker: its own config, password file, ACL and persistence in a
// directory, on a free loopback port, stopped (SIGTERM, so it saves its persistence file, then
// SIGKILL) when the object goes away. Not thread-safe: one thread starts, stops and reloads it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wattguard/base/expected.h"

namespace wattguard::broker {

// The largest MQTT packet the broker takes (max_packet_size): far above any message of ours (readings and
// commands are under 4 KiB, Home Assistant discovery a few KiB), far below what would hurt the server.
inline constexpr int kMaxPacketBytes = 65'536;

struct BrokerUser {
  std::string name;
  std::string password;
};

// Who may connect, and who writes the password file and the ACL.
enum class BrokerAccess {
  kUsers,        // the users of BrokerSetup, with their ACL (the default)
  kCallerFiles,  // password_file() and acl_file() start empty; the caller fills them before launch()
  kAnonymous,    // anyone, on every topic: no password file, no ACL
};

// A second listener that speaks MQTT over TLS, beside the plain one (Mosquitto's per_listener_settings stays false,
// so one password file, ACL and anonymity rule govern both).
struct BrokerTlsListener {
  uint16_t port = 0;                       // 0: a free loopback port
  std::filesystem::path certificate_file;  // PEM, the broker's certificate (and chain)
  std::filesystem::path key_file;          // PEM, its unencrypted private key
  // Optional: the authority trusted for client certificates (Mosquitto's `cafile` on the listener). Our meters
  // log in with passwords, so nothing requires one.
  std::filesystem::path ca_file;
};

struct BrokerSetup {
  std::filesystem::path dir;  // mosquitto.conf, passwd, acl, persistence and log go here
  uint16_t port = 0;          // 0: a free loopback port
  BrokerAccess access = BrokerAccess::kUsers;
  // kUsers only:
  BrokerUser server;                 // reads wattguard/v1/#, writes wattguard/v1/+/cmd
  std::vector<BrokerUser> meters;    // each may use only wattguard/v1/<its name>/...
  std::vector<BrokerUser> gateways;  // each may publish for every meter and read every meter's cmd
  // Hashes one password for the password file (e.g. ingest::mosquitto_password_hash). Unset: the
  // file is written in plain text and hashed by `mosquitto_passwd -U`.
  std::function<std::string(const std::string&)> hash_password;
  // The ACL file's text (e.g. ingest::acl_file_text). Unset: broker_acl_text().
  std::optional<std::string> acl_text;

  bool persistence = true;  // keep QoS 1 queues across a (clean) broker restart
  // use_username_as_clientid (not with kAnonymous, which has no user names): a client id belongs to its user.
  bool bind_client_ids = true;
  std::optional<BrokerTlsListener> tls;  // also listen for MQTT over TLS
  // Empty: mosquitto_binary(). The broker inherits this process's open-file limit: raise it first
  // when thousands of clients will connect.
  std::string executable;
};

// A setup whose password file and ACL the caller fills (provisioning, ingest and alerts tests).
inline BrokerSetup caller_files_setup(std::filesystem::path dir) {
  BrokerSetup setup;
  setup.dir = std::move(dir);
  setup.access = BrokerAccess::kCallerFiles;
  return setup;
}

// An anonymous broker without persistence (the server's API tests).
inline BrokerSetup anonymous_setup(std::filesystem::path dir) {
  BrokerSetup setup;
  setup.dir = std::move(dir);
  setup.access = BrokerAccess::kAnonymous;
  setup.persistence = false;
  return setup;
}

// The ACL: the server user, the gateway users (if any), then a pattern for every meter user.
std::string broker_acl_text(const std::string& server_user, const std::vector<std::string>& gateway_users = {});

// The lines of mosquitto.conf that open `listener` on 127.0.0.1 at `port` (its own free port chosen by the caller).
std::string tls_listener_config(const BrokerTlsListener& listener, uint16_t port);

// The mosquitto executable (on PATH or in the usual sbin folders), or empty if it is not installed.
std::string mosquitto_binary();
// The executable `name` on PATH or in /usr/sbin, /usr/local/sbin (where Debian puts servers, which a user's PATH
// may lack), or empty if there is none.
std::string find_server_program(const std::string& name);
// True when something accepts TCP connections on 127.0.0.1:`port` right now.
bool port_accepts(uint16_t port);

// A TCP port on 127.0.0.1 that was free a moment ago; 0 if none could be found.
uint16_t free_port();

class BrokerProcess {
 public:
  // Writes the files (directory, config, password file, ACL) on a fixed port without starting the
  // broker, for callers that add to the password file or ACL first (then launch()).
  static Expected<std::unique_ptr<BrokerProcess>> prepare(const BrokerSetup& setup);
  // prepare(), then launch().
  static Expected<std::unique_ptr<BrokerProcess>> start(const BrokerSetup& setup, int timeout_ms = 15000);
  ~BrokerProcess();  // stop()
  BrokerProcess(const BrokerProcess&) = delete;
  BrokerProcess& operator=(const BrokerProcess&) = delete;

  // Starts mosquitto (if not running) and waits until it accepts connections. Fails with the
  // broker's log tail if it exits or is not ready within `timeout_ms`.
  Expected<void> launch(int timeout_ms = 15000);
  // SIGTERM and wait (then SIGKILL after `grace_ms`). Idempotent.
  void stop(int grace_ms = 10000);
  // Kills it at once (SIGKILL: no persistence saved), like a crash.
  void kill();
  // Starts it again on the same port with the same files.
  Expected<void> restart(int timeout_ms = 15000);
  // SIGHUP: the broker re-reads its password file and ACL. It gives no sign of having done so,
  // so this waits a moment (300 ms) before returning.
  void reload();
  bool running() const { return pid_ > 0; }

  uint16_t port() const { return port_; }
  uint16_t tls_port() const { return tls_port_; }  // 0 without a TLS listener
  pid_t pid() const { return pid_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path password_file() const { return dir_ / "passwd"; }
  std::filesystem::path acl_file() const { return dir_ / "acl"; }
  std::filesystem::path log_file() const { return dir_ / "mosquitto.log"; }
  // The end of the broker's stderr and log, for error messages.
  std::string log_tail(std::size_t max_bytes = 2000) const;

 private:
  BrokerProcess() = default;

  std::filesystem::path dir_;
  std::string executable_;
  uint16_t port_ = 0;
  uint16_t tls_port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace wattguard::broker
