// The configuration files of a private NATS cluster on loopback whose nodes speak MQTT to meters and server
// (docs/scale-out.md, "The clustered broker"): per node its ports, JetStream store and routes to the others; the
// users with the equivalent of our Mosquitto ACL; the MQTT streams and consumers replicated on every node.
// Pure text: nothing here starts a process (nats_cluster_process.h does). Thread-safe (free functions).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "wattguard/base/expected.h"
#include "wattguard/broker/broker_process.h"

namespace wattguard::broker {

// The ports one node listens on, all on 127.0.0.1.
struct NatsNodePorts {
  uint16_t client = 0;   // NATS protocol (nobody of ours uses it; meters may not, see nats_users_text)
  uint16_t cluster = 0;  // routes between the nodes
  uint16_t mqtt = 0;     // meters and the server
  uint16_t monitor = 0;  // HTTP monitoring (/jsz: JetStream meta leader, for readiness)
};

struct NatsClusterSetup {
  std::filesystem::path dir;  // node-<k>/ (config, store, log) and users.conf go here
  int nodes = 3;
  std::string cluster_name = "wattguard";
  BrokerUser server;                 // reads wattguard/v1/#, writes every meter's cmd (full rights, see .cc)
  std::vector<BrokerUser> meters;    // each may use only wattguard/v1/<its name>/...
  std::vector<BrokerUser> gateways;  // each may publish for every meter and read every meter's cmd
  // Copies of the MQTT session, message and retained-message streams and of each session's consumers: 3 on
  // 3 nodes, so a node's death loses nothing and a majority (2) keeps accepting. Capped at `nodes`.
  int replicas = 3;
  // JetStream limits per node. Small on purpose: the streams hold only what a subscriber has not acknowledged.
  int64_t max_memory_bytes = 64ll << 20;
  int64_t max_file_bytes = 1ll << 30;
  // Empty: nats_server_binary().
  std::string executable;
};

// The `authorization` block shared by every node (users.conf, mode 0600, included by each node's config).
// Passwords are bcrypt hashes (cost 4: our passwords are 192 random bits, so a slow hash buys nothing against
// guessing and would cost every MQTT CONNECT CPU time). MQTT topic a/b/c is NATS subject a.b.c.
Expected<std::string> nats_users_text(const NatsClusterSetup& setup);

// Node `k`'s configuration: its name (node-<k>), ports, store directory, routes to every node, JetStream, the
// MQTT listener with the replication of its streams, and `include` of the users file.
std::string nats_node_config(const NatsClusterSetup& setup, const std::vector<NatsNodePorts>& ports, int k,
                             const std::filesystem::path& store_dir, const std::filesystem::path& users_file);

// A bcrypt hash of `password` as NATS reads it ($2b$04$...). Errors: kInternal if libcrypt fails.
Expected<std::string> nats_password_hash(const std::string& password);

// The nats-server executable (on PATH or in the usual sbin folders), or empty if it is not installed.
std::string nats_server_binary();

}  // namespace wattguard::broker
