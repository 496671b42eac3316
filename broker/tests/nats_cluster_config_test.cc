// The NATS cluster's files as text: each meter's permissions are its own topics only, passwords are bcrypt
// hashes (never the password itself), every node routes to every node and replicates the MQTT streams.
#include "wattguard/broker/nats_cluster_config.h"

#include <crypt.h>
#include <gtest/gtest.h>

namespace wattguard::broker {
namespace {

NatsClusterSetup two_meters() {
  NatsClusterSetup s;
  s.dir = "/tmp/unused";
  s.server = {"wattguard-server", "server-secret-123"};
  s.meters = {{"m00001", "meter-one-secret"}, {"m00002", "meter-two-secret"}};
  return s;
}

// The line of the users file that defines `user`.
std::string line_of(const std::string& text, const std::string& user) {
  const auto at = text.find("user: \"" + user + "\"");
  if (at == std::string::npos) return "";
  return text.substr(at, text.find('\n', at) - at);
}

TEST(NatsClusterConfig, EachMeterMayUseOnlyItsOwnTopicsAndOnlyOverMqtt) {
  const auto users = nats_users_text(two_meters());
  ASSERT_TRUE(users.ok()) << users.error().message;
  const std::string one = line_of(users.value(), "m00001");
  ASSERT_FALSE(one.empty()) << users.value();
  for (const char* subject :
       {"\"wattguard.v1.m00001.reading\"", "\"wattguard.v1.m00001.status\"", "\"wattguard.v1.m00001.event\"",
        "\"wattguard.v1.m00001.cmd.ack\"", "subscribe: [\"wattguard.v1.m00001.cmd\", \"$MQTT.sub.>\"]"}) {
    EXPECT_NE(one.find(subject), std::string::npos) << subject << " in " << one;
  }
  EXPECT_EQ(one.find("m00002"), std::string::npos) << one;
  EXPECT_EQ(one.find('>', one.find("publish")), one.find("$MQTT.sub.>") + 10) << "a wildcard publish: " << one;
  EXPECT_NE(one.find("allowed_connection_types: [\"MQTT\"]"), std::string::npos) << one;
  EXPECT_NE(line_of(users.value(), "wattguard-server").find("publish: \">\""), std::string::npos);
}

TEST(NatsClusterConfig, PasswordsAreStoredAsBcryptHashesThatVerify) {
  const auto users = nats_users_text(two_meters());
  ASSERT_TRUE(users.ok());
  EXPECT_EQ(users.value().find("meter-one-secret"), std::string::npos);
  EXPECT_EQ(users.value().find("server-secret-123"), std::string::npos);
  const std::string one = line_of(users.value(), "m00001");
  const auto start = one.find("password: \"") + 11;
  const std::string hash = one.substr(start, one.find('"', start) - start);
  ASSERT_EQ(hash.rfind("$2b$04$", 0), 0u) << hash;
  crypt_data data{};
  EXPECT_EQ(std::string(crypt_rn("meter-one-secret", hash.c_str(), &data, sizeof(data))), hash);
  EXPECT_NE(std::string(crypt_rn("meter-two-secret", hash.c_str(), &data, sizeof(data))), hash);
}

TEST(NatsClusterConfig, EveryNodeRoutesToAllAndReplicatesTheMqttStreams) {
  NatsClusterSetup s = two_meters();
  s.replicas = 5;  // more than there are nodes: capped at 3
  const std::vector<NatsNodePorts> ports = {{4001, 5001, 6001, 7001},
                                            {4002, 5002, 6002, 7002},
                                            {4003, 5003, 6003, 7003}};
  const std::string conf = nats_node_config(s, ports, 1, "/data/node-1/jetstream", "/data/users.conf");
  for (const char* want : {"server_name: \"node-1\"", "listen: \"127.0.0.1:4002\"", "http: \"127.0.0.1:7002\"",
                           "listen: \"127.0.0.1:5002\"", "nats-route://127.0.0.1:5001", "nats-route://127.0.0.1:5003",
                           "listen: \"127.0.0.1:6002\"", "stream_replicas: 3", "consumer_replicas: 3",
                           "store_dir: \"/data/node-1/jetstream\"", "include \"users.conf\""}) {
    EXPECT_NE(conf.find(want), std::string::npos) << want << " in\n" << conf;
  }
}

}  // namespace
}  // namespace wattguard::broker
