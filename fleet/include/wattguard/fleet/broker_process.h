// A private Mosquitto broker run as a child process, for `wattguard demo`, `wattguard bench ingest`
// and the end-to-end tests: its own config, password file and ACL in a directory, on a free
// loopback port, stopped (SIGTERM, so it saves its persistence file) when the object goes away.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wattguard/fleet/credentials.h"
#include "wattguard/base/expected.h"

namespace wattguard::fleet {

struct BrokerUser {
  std::string name;
  std::string password;
};

struct BrokerSetup {
  std::filesystem::path dir;          // mosquitto.conf, passwd, acl, persistence and log go here
  uint16_t port = 0;                  // 0: a free loopback port
  BrokerUser server;                  // reads wattguard/v1/#, writes wattguard/v1/+/cmd
  std::vector<BrokerUser> meters;     // each may use only wattguard/v1/<its name>/...
  std::optional<BrokerUser> gateway;  // may publish for every meter and read every meter's cmd
  bool persistence = true;            // keep QoS 1 queues across a (clean) broker restart
  std::string executable = "mosquitto";
  // Hashes one password for the password file (e.g. ingest::mosquitto_password_hash). Unset: the
  // file is written in plain text and hashed by `mosquitto_passwd -U`.
  std::function<std::string(const std::string&)> hash_password;
  // The ACL file's text (e.g. ingest::acl_file_text). Unset: broker_acl_text().
  std::optional<std::string> acl_text;
};

// The ACL: the server user, the gateway user (if any), then a pattern for every meter user.
std::string broker_acl_text(const std::string& server_user, const std::optional<std::string>& gateway_user);

// A TCP port on 127.0.0.1 that was free a moment ago.
uint16_t pick_free_port();

// Raises this process's open-file limit to its hard limit (sockets for thousands of meters);
// returns the new soft limit.
uint64_t raise_fd_limit();

class BrokerProcess {
 public:
  // Writes the files (passwords hashed by mosquitto_passwd), starts mosquitto and waits until it
  // accepts connections. Fails with the broker's log tail if it exits or is not ready in time.
  static Expected<std::unique_ptr<BrokerProcess>, std::string> start(const BrokerSetup& setup, int timeout_ms = 15000);
  ~BrokerProcess();
  BrokerProcess(const BrokerProcess&) = delete;
  BrokerProcess& operator=(const BrokerProcess&) = delete;

  // SIGTERM and wait (then SIGKILL after `grace_ms`). Idempotent.
  void stop(int grace_ms = 10000);
  // Kills it at once (SIGKILL: no persistence saved), like a crash.
  void kill();
  // Starts it again on the same port with the same files.
  Expected<bool, std::string> restart(int timeout_ms = 15000);
  bool running() const { return pid_ > 0; }

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path log_file() const { return dir_ / "mosquitto.log"; }
  std::string log_tail(std::size_t max_bytes = 2000) const;

 private:
  BrokerProcess() = default;
  Expected<bool, std::string> launch(int timeout_ms);

  std::filesystem::path dir_;
  std::string executable_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace wattguard::fleet
