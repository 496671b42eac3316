// Helpers for the end-to-end tests: a private broker with a fleet's users,
// and a collector that subscribes as the server user and records everything the meters send.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "wattguard/broker/broker_process.h"
#include "wattguard/fleet/credentials.h"
#include "wattguard/fleet/fleet.h"
#include "wattguard/protocol/messages.h"
#include "wattguard/test_support/temp_dir.h"

struct mosquitto;

namespace wattguard::e2e {

using test_support::TempDir;

inline constexpr const char* kServerUser = "wattguard-server";
inline constexpr const char* kGatewayUser = "wattguard-gateway";
// Gateway users start_broker() makes (wattguard-gateway-1...): at most this many gateway connections.
inline constexpr int kGatewayUsers = 4;

// A broker with a server user, a gateway user and one user per meter id, plus the matching
// credentials for a fleet.
struct FleetBroker {
  std::unique_ptr<broker::BrokerProcess> process;
  fleet::CredentialSet credentials;
  std::string server_password;
};
FleetBroker start_broker(const std::filesystem::path& dir, const std::vector<std::string>& meter_ids);

// A fleet configuration for tests: fast virtual time, the broker's port and credentials.
fleet::FleetConfig test_fleet_config(const FleetBroker& broker, std::size_t meters, double speed);

// Subscribes to wattguard/v1/# as the server user (persistent session, QoS 1) and records
// readings, events, acks and statuses. Reconnects by itself across broker restarts.
class Collector {
 public:
  Collector(uint16_t port, const std::string& password, const std::string& client_id = "e2e-collector");
  ~Collector();

  // Blocks until pred() holds (checked under the lock after each message) or the timeout passes.
  bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds timeout);
  // Publishes a command as the server would.
  void send_command(const protocol::Command& command);

  // Copies, taken under the lock.
  std::map<std::string, std::vector<protocol::Reading>> readings() const;
  std::vector<protocol::MeterEvent> events() const;
  std::vector<protocol::CommandAck> acks() const;
  std::map<std::string, protocol::StatusMessage> statuses() const;  // latest per meter
  std::size_t rejected() const;

  // For predicates passed to wait_for (the lock is held then): no copies.
  const std::map<std::string, std::vector<protocol::Reading>>& readings_locked() const { return readings_; }
  const std::vector<protocol::MeterEvent>& events_locked() const { return events_; }
  const std::vector<protocol::CommandAck>& acks_locked() const { return acks_; }
  const std::map<std::string, protocol::StatusMessage>& statuses_locked() const { return statuses_; }
  // Distinct sequence numbers of a meter (duplicates from QoS 1 redelivery removed).
  std::set<uint64_t> seqs_locked(const std::string& meter_id) const;

  void on_message(const std::string& topic, std::string_view payload);
  void on_subscribed();

 private:
  bool subscribed_ = false;
  mosquitto* mosq_ = nullptr;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, std::vector<protocol::Reading>> readings_;
  std::vector<protocol::MeterEvent> events_;
  std::vector<protocol::CommandAck> acks_;
  std::map<std::string, protocol::StatusMessage> statuses_;
  std::size_t rejected_ = 0;
};

// True when `seqs` is exactly first..last with nothing missing.
bool contiguous(const std::set<uint64_t>& seqs, uint64_t first, uint64_t last);

}  // namespace wattguard::e2e
