// NATS cluster configuration text: users with per-meter permissions, and each node's config.
#include "wattguard/broker/nats_cluster_config.h"

#include <crypt.h>

#include <algorithm>
#include <sstream>

namespace wattguard::broker {
namespace {

// bcrypt's lowest cost (2^4 rounds, about a millisecond): see nats_users_text in the header for why.
constexpr unsigned long kBcryptCost = 4;

// What a meter (its own id) or a gateway ("*": every meter) may publish: the four topics a meter sends.
std::string meter_publish_subjects(const std::string& meter) {
  std::string out;
  for (const char* suffix : {"reading", "status", "event", "cmd.ack"}) {
    out += std::string(out.empty() ? "" : ", ") + "\"wattguard.v1." + meter + "." + suffix + "\"";
  }
  return out;
}

// NATS delivers a QoS 1 subscription's messages (from its JetStream consumer) on a $MQTT.sub.<id> subject, which
// the MQTT client must be allowed to subscribe to; an MQTT client cannot name that subject itself (the server
// refuses MQTT filters under $MQTT/sub), and meters may not connect over the NATS protocol at all.
constexpr const char* kMqttDelivery = "\"$MQTT.sub.>\"";

}  // namespace

Expected<std::string> nats_password_hash(const std::string& password) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  // No random bytes given: libcrypt takes them from the operating system.
  if (!crypt_gensalt_rn("$2b$", kBcryptCost, nullptr, 0, salt, sizeof(salt))) {
    return Error::internal("crypt_gensalt_rn (bcrypt) failed");
  }
  crypt_data data{};
  const char* hash = crypt_rn(password.c_str(), salt, &data, sizeof(data));
  if (!hash || hash[0] != '$') return Error::internal("crypt_rn (bcrypt) failed");
  return std::string(hash);
}

Expected<std::string> nats_users_text(const NatsClusterSetup& setup) {
  std::ostringstream out;
  out << "# Written by wattguard: the server, the gateways (if any), then one user per meter (name = meter id).\n"
      << "# MQTT topic wattguard/v1/<id>/reading is NATS subject wattguard.v1.<id>.reading.\n"
      << "authorization {\n  users: [\n";
  const auto user = [&](const BrokerUser& u, const std::string& permissions) -> Expected<void> {
    auto hash = nats_password_hash(u.password);
    if (!hash.ok()) return std::move(hash).error();
    out << "    { user: \"" << u.name << "\", password: \"" << hash.value() << "\"" << permissions << " }\n";
    return {};
  };
  // The server: full rights. It is the cluster's one trusted client (our own process), it reads every meter's
  // messages and writes their commands, and its MQTT session drives JetStream consumers on its behalf.
  if (auto r = user(setup.server, ", permissions: { publish: \">\", subscribe: \">\" }"); !r.ok()) return r.error();
  for (const BrokerUser& g : setup.gateways) {
    const std::string p = ", allowed_connection_types: [\"MQTT\"], permissions: { publish: [" +
                          meter_publish_subjects("*") + "], subscribe: [\"wattguard.v1.*.cmd\", " + kMqttDelivery +
                          "] }";
    if (auto r = user(g, p); !r.ok()) return r.error();
  }
  for (const BrokerUser& m : setup.meters) {
    // The Mosquitto ACL's `pattern write wattguard/v1/%u/...` and `pattern read wattguard/v1/%u/cmd`, spelt out
    // per user (NATS has no %u). MQTT only: the NATS protocol port would let a login subscribe to raw subjects.
    const std::string p = ", allowed_connection_types: [\"MQTT\"], permissions: { publish: [" +
                          meter_publish_subjects(m.name) + "], subscribe: [\"wattguard.v1." + m.name + ".cmd\", " +
                          kMqttDelivery + "] }";
    if (auto r = user(m, p); !r.ok()) return r.error();
  }
  out << "  ]\n}\n";
  return out.str();
}

std::string nats_node_config(const NatsClusterSetup& setup, const std::vector<NatsNodePorts>& ports, int k,
                             const std::filesystem::path& store_dir, const std::filesystem::path& users_file) {
  const NatsNodePorts& p = ports.at(static_cast<std::size_t>(k));
  const int replicas = std::clamp(setup.replicas, 1, static_cast<int>(ports.size()));
  std::ostringstream c;
  c << "# Written by wattguard: node " << k << " of a private " << ports.size()
    << "-node NATS cluster (docs/scale-out.md).\n"
    << "server_name: \"node-" << k << "\"\n"
    << "listen: \"127.0.0.1:" << p.client << "\"\n"
    << "http: \"127.0.0.1:" << p.monitor
    << "\"\n"
    // Our largest message is a few KiB: the same cap as the Mosquitto broker's max_packet_size.
    << "max_payload: " << kMaxPacketBytes << "\n"
    << "cluster {\n  name: \"" << setup.cluster_name << "\"\n  listen: \"127.0.0.1:" << p.cluster << "\"\n  routes: [";
  for (std::size_t j = 0; j < ports.size(); ++j) {
    // A route to itself is detected and dropped; listing every node keeps the files alike.
    c << (j ? ", " : "") << "\"nats-route://127.0.0.1:" << ports[j].cluster << "\"";
  }
  c << "]\n}\n"
    << "jetstream {\n  store_dir: \"" << store_dir.string() << "\"\n  max_memory_store: " << setup.max_memory_bytes
    << "\n  max_file_store: " << setup.max_file_bytes << "\n}\n"
    << "mqtt {\n  listen: \"127.0.0.1:" << p.mqtt
    << "\"\n"
    // $MQTT_sess, $MQTT_msgs, $MQTT_rmsgs and every session's consumers on `replicas` nodes: a reading is
    // acknowledged (PUBACK) only once a majority of them has stored it.
    << "  stream_replicas: " << replicas << "\n  consumer_replicas: " << replicas
    << "\n"
    // Unacknowledged QoS 1 messages to a subscriber are sent again after this (the server acks at once).
    << "  ack_wait: \"30s\"\n}\n"
    // Relative to this file (NATS joins an include's path to the including file's directory).
    << "include \"" << users_file.filename().string() << "\"\n";
  return c.str();
}

std::string nats_server_binary() { return find_server_program("nats-server"); }

}  // namespace wattguard::broker
