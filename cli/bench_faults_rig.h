// The system one fault drill of `wattguard bench faults` runs against, on loopback: a private Mosquitto (a real
// child process), `wattguard serve` as a separate process (this same binary, so kill -9 is real), and virtual
// meters in this process with their fsync'd journals, some of them (the outage meters) behind a FaultLink that
// can cut their network. Also how the drill observes it: the store's reading counts through the REST API while
// it runs, health, and the database rows once the server has stopped.
// Thread safety: none; one thread drives a rig.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/bench_faults_accounting.h"
#include "cli/bench_faults_link.h"
#include "wattguard/base/expected.h"
#include "wattguard/broker/broker_process.h"
#include "wattguard/fleet/fleet.h"

namespace wattguard::cli {

struct RigOptions {
  std::filesystem::path dir;  // the drill's own directory (fresh); server/, broker/, journals, logs go here
  std::string self_exe = "/proc/self/exe";
  std::size_t meters = 20;        // meters connected straight to the broker
  std::size_t outage_meters = 0;  // meters behind the cuttable link
  uint32_t period_ms = 1000;
  uint64_t seed = 1;
  // The server's data directory on a tmpfs of this size (MiB), mounted here and unmounted by the rig; 0: no
  // mount.
  uint64_t tmpfs_mib = 0;
  // Non-empty: the server runs under libfaketime (this library) and reads its clock offset from
  // clock_offset_file ("+0", "+3600"...) at every call.
  std::string faketime_library;
  std::filesystem::path clock_offset_file;
};

// What the server's health said at one look: "ok"/"degraded" from /api/v1/health ("down" when it did not
// answer) and the /readyz status code (0 when it did not answer).
struct HealthLook {
  std::string status = "down";
  int ready_status = 0;
  std::optional<int64_t> now_ms;           // the server's clock (health's now_ms)
  std::optional<uint64_t> storage_errors;  // health's storage.errors
};

class Rig {
 public:
  // Mounts (when asked), registers the meters and an API token in a fresh database, starts the broker, the
  // server and the fleets, and waits until every meter is connected.
  static Expected<std::unique_ptr<Rig>> start(const RigOptions& options);
  ~Rig();  // stops whatever still runs (fleets, server by SIGKILL, broker) and unmounts
  Rig(const Rig&) = delete;
  Rig& operator=(const Rig&) = delete;

  // ---- the server process
  Expected<void> start_server(int ready_timeout_ms = 90'000);  // spawn, then wait for /readyz 200
  void kill_server();                                          // SIGKILL, reaped
  // SIGTERM and wait up to grace_ms (then SIGKILL); false when it needed the SIGKILL.
  bool stop_server(int grace_ms);
  pid_t server_pid() const { return server_pid_; }

  broker::BrokerProcess& broker() { return *broker_; }
  FaultLink* link() { return link_.get(); }
  const std::filesystem::path& server_data_dir() const { return server_dir_; }

  // The outage meters restart from their journals (stop, open the journal again, start): what a real meter
  // does after a power cycle during a long outage.
  Expected<void> restart_outage_fleet();

  // ---- observing
  // Readings made so far by every meter (from their sequence numbers).
  uint64_t made() const;
  // Readings queued in the meters (unsent or awaiting PUBACK).
  uint64_t queued() const;
  // Readings the store holds for the drill's meters, asked through the REST API; nullopt when the server did not
  // answer every request.
  std::optional<uint64_t> stored_now() const;
  HealthLook health() const;
  // Meters stop making readings (queued ones are still sent).
  void pause_meters();
  // Clean stop of the meters (their queues get drain_ms to be acknowledged).
  void stop_meters(int drain_ms);
  // Every meter's books from the database's rows. REQUIRES: the server stopped (the store is opened here).
  Expected<std::vector<MeterBooks>> books();

  // The end of the server's log, for messages.
  std::string server_log_tail(std::size_t max_bytes = 1500) const;

 private:
  Rig() = default;
  Expected<void> prepare_store();
  Expected<std::unique_ptr<fleet::Fleet>> make_fleet(bool outage);
  std::vector<std::string> all_ids() const;

  RigOptions options_;
  std::filesystem::path server_dir_;
  bool mounted_ = false;
  std::string token_;
  uint16_t http_port_ = 0;
  int64_t start_ms_ = 0;
  std::string server_password_;
  fleet::CredentialSet credentials_;
  std::unique_ptr<broker::BrokerProcess> broker_;
  std::unique_ptr<FaultLink> link_;
  std::unique_ptr<fleet::Fleet> fleet_;
  std::unique_ptr<fleet::Fleet> outage_fleet_;
  pid_t server_pid_ = -1;
};

}  // namespace wattguard::cli
