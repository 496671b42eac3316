// A private N-node NATS cluster (JetStream + MQTT listener) run as child processes on loopback, for the clustered
// broker's tests and demo (docs/scale-out.md): files written (nats_cluster_config.h), nodes started, readiness
// (a JetStream meta leader known to every node, and every MQTT port accepting), one node stopped, killed (-9) or
// restarted, everything stopped when the object goes away. Not thread-safe: one thread drives it; start it from a
// thread that lives as long as the nodes should (they get SIGTERM when it ends, like BrokerProcess's).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "wattguard/base/expected.h"
#include "wattguard/broker/nats_cluster_config.h"

namespace wattguard::broker {

class NatsCluster {
 public:
  // Chooses free ports, writes users.conf and node-<k>.conf, starts every node and waits until ready().
  // Errors: kInvalidInput (nodes < 1), kIoError (files), kUnavailable (no nats-server, a node that exits, or not
  // ready within timeout_ms; the message carries the log tails).
  static Expected<std::unique_ptr<NatsCluster>> start(const NatsClusterSetup& setup, int timeout_ms = 30000);
  ~NatsCluster();  // stop_all()
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;

  int nodes() const { return static_cast<int>(ports_.size()); }
  const NatsNodePorts& ports(int k) const { return ports_.at(static_cast<std::size_t>(k)); }
  uint16_t mqtt_port(int k) const { return ports(k).mqtt; }
  bool running(int k) const { return pids_.at(static_cast<std::size_t>(k)) > 0; }
  pid_t pid(int k) const { return pids_.at(static_cast<std::size_t>(k)); }

  // Starts node k (if not running) with its files and store as they are; does not wait for readiness.
  Expected<void> launch(int k);
  // SIGTERM (a clean shutdown: stores flushed, connections closed), SIGKILL after grace_ms. Idempotent.
  void stop(int k, int grace_ms = 10000);
  // SIGKILL at once, like a crash: nothing flushed, connections cut.
  void kill(int k);
  // launch(k), then waits until the cluster is ready again (the node caught up and its MQTT port accepts).
  Expected<void> restart(int k, int timeout_ms = 30000);
  void stop_all();

  // Every running node accepts MQTT connections and knows the JetStream meta leader (monitor /jsz).
  bool ready() const;
  // Waits for ready(). Errors: kUnavailable with the log tails.
  Expected<void> wait_ready(int timeout_ms);
  // The node whose name (node-<k>) /jsz reports as the JetStream meta leader, asked of a running node; -1 if
  // none knows one.
  int meta_leader() const;

  std::filesystem::path log_file(int k) const;
  // The end of every node's log, for error messages.
  std::string log_tail(std::size_t max_bytes_per_node = 1500) const;

 private:
  NatsCluster() = default;

  std::filesystem::path dir_;
  std::string executable_;
  std::vector<NatsNodePorts> ports_;
  std::vector<pid_t> pids_;
};

}  // namespace wattguard::broker
