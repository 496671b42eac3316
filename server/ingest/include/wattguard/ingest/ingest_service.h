// The MQTT side of `wattguard serve`: subscribe, validate, store in batches, track meters and commands.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wattguard/base/expected.h"
#include "wattguard/ingest/ingest_config.h"
#include "wattguard/ingest/ingest_health.h"
#include "wattguard/ingest/ingest_observer.h"
#include "wattguard/ingest/meter_live.h"
#include "wattguard/protocol/messages.h"
#include "wattguard/storage/reading_store.h"

namespace wattguard::ingest {

struct CommandRequest {
  std::string meter_id;
  protocol::CommandKind kind = protocol::CommandKind::kPing;
  std::optional<uint32_t> period_s;  // set_period only, 1..3600
  std::string requested_by;          // user / token name, stored with the command and in the audit log
  std::string reason;                // why (audit log)
  int timeout_ms = 0;                // 0 = IngestConfig::command_timeout_ms
};

// Life cycle: construct, add observers, start(), ..., stop() (or destroy).
// Threads: libmosquitto's network thread receives messages and decodes them; a writer thread
// stores batches and notifies observers; a timer thread ticks liveness (stale, offline) and command timeouts.
// Every public method is thread-safe and may be called from HTTP threads.
//
// Delivery guarantee: the MQTT session is persistent (clean_session=false, fixed client id) and
// readings are QoS 1. A message is acknowledged to the broker by libmosquitto when it is received,
// before it is stored, so a server crash can lose the batch in memory; a clean stop() flushes it.
// Duplicates from redelivery are ignored by the store's (meter, seq) key.
class IngestService {
 public:
  // `store` must outlive the service.
  IngestService(IngestConfig config, storage::ReadingStore& store);
  ~IngestService();  // calls stop()
  IngestService(const IngestService&) = delete;
  IngestService& operator=(const IngestService&) = delete;

  // Loads the meter registry and latest states from the store, connects and subscribes. Fails if the
  // configuration is unusable (kInvalidInput, naming the setting) or the store cannot be read (kIoError); a
  // broker that is down is NOT an error (the service keeps trying to connect, see IngestHealth::connected).
  Expected<void> start();
  // Flushes pending readings, disconnects, joins threads. Idempotent.
  void stop();

  // Observers are held weakly-by-contract: remove before destroying. Safe to call at any time.
  void add_observer(IngestObserver* observer);
  void remove_observer(IngestObserver* observer);

  IngestHealth health() const;
  bool connected() const;

  // Live state of all provisioned meters (ordered by id), or of one (nullopt if not provisioned).
  std::vector<MeterLive> live_states() const;
  std::optional<MeterLive> live_state(const std::string& meter_id) const;

  // Re-reads the meter registry from the store (after provisioning from another process).
  // Unknown meters are also re-checked on their own, at most once per 10 s per id.
  void reload_meters();

  // Stores the command (state pending), publishes it to wattguard/v1/<meter>/cmd (QoS 1) and
  // tracks it: sent when the broker has it, then acked / failed from the meter's cmd/ack, or
  // timed_out. Returns the stored record (state pending or sent). Appends an audit entry.
  // Errors: kNotFound (unknown meter; field "meter"), kInvalidInput (field "period_s" or "timeout_ms"),
  // kIoError (the store refused the command).
  Expected<storage::CommandRecord> send_command(const CommandRequest& request);

  // --- Meters on other protocols (Blynk, emoncms): their adapters hand ingest what the MQTT path would have
  // decoded, and from here on a reading is a reading (storage, live state, observers, analytics).

  // Validates and queues one reading. seq 0 = ingest numbers it: one more than the meter's last reading.
  // Errors: kNotFound (field "meter": unknown or retired meter), kInvalidInput (the field out of range),
  // both also counted as rejections like an MQTT message would be.
  Expected<void> submit_reading(protocol::Reading reading, int64_t received_ms);
  // A connection opened or closed (the adapter's equivalent of the retained MQTT status).
  void submit_status(protocol::StatusMessage status, int64_t received_ms);
  // The device confirmed (or refused) command `ack.id`.
  void submit_ack(protocol::CommandAck ack, int64_t received_ms);

  // While a link is attached, commands for the meter go to it instead of MQTT; it answers false when it
  // cannot deliver now (the command then waits for the next attach, or times out). Called under the command
  // tracker's lock: it must only queue the bytes, never call back into ingest.
  using CommandLink = std::function<bool(const protocol::Command&)>;
  void attach_link(const std::string& meter_id, CommandLink link);
  void detach_link(const std::string& meter_id);

  // Blocks until every reading received so far is stored (tests, shutdown); false on timeout.
  bool flush(int timeout_ms);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wattguard::ingest
