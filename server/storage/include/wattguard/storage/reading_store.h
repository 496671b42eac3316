// The head-end's storage interface: meters, readings (raw + rollups), latest state, events, commands, audit.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wattguard/storage/store_status.h"
#include "wattguard/storage/store_types.h"
#include "wattguard/protocol/messages.h"

namespace wattguard::storage {

// Implementations: SqliteStore (embedded default); PostgreSQL planned.
//
// Thread safety: every method may be called concurrently from any thread (the ingest thread
// writes, HTTP threads read). Implementations serialise writers and let readers run alongside.
//
// Time: all times are Unix milliseconds, UTC. Range queries are [from_ms, to_ms).
class ReadingStore {
 public:
  virtual ~ReadingStore() = default;

  // --- Meters registry ---
  // kAlreadyExists if the id is taken; kInvalidArgument for a bad id.
  virtual StoreStatus add_meter(const MeterInfo& meter) = 0;
  // All or nothing, in one transaction (bulk provisioning of fleets); kAlreadyExists names the first taken id.
  virtual StoreStatus add_meters(std::span<const MeterInfo> meters) = 0;
  // Updates name/area/owner of an existing meter (id and created_ms unchanged). kNotFound if absent.
  virtual StoreStatus update_meter(const MeterInfo& meter) = 0;
  virtual StoreResult<MeterInfo> get_meter(std::string_view meter_id) = 0;  // kNotFound
  virtual bool has_meter(std::string_view meter_id) = 0;
  virtual StoreResult<std::vector<MeterInfo>> list_meters() = 0;  // ordered by id

  // --- Readings ---
  // Appends a batch in one transaction and updates the rollups in the same transaction.
  // Idempotent on (meter, seq): a reading already stored (or repeated in the batch) is ignored and
  // counted as a duplicate. Invalid readings (protocol::validate without the future check) and
  // unknown meters are refused and listed in AppendResult::refused; the rest of the batch is stored.
  // A reading whose import or export register is lower than the previous reading's (by time) is
  // stored AND records a server event register_rollback. kIoError leaves the store unchanged.
  virtual StoreResult<AppendResult> append_readings(std::span<const protocol::Reading> readings,
                                                    int64_t received_ms) = 0;

  // Raw readings of one meter with from_ms <= time_ms < to_ms, ascending time, at most `limit`.
  virtual StoreResult<std::vector<protocol::Reading>> raw_readings(std::string_view meter_id,
                                                                   int64_t from_ms, int64_t to_ms,
                                                                   std::size_t limit = 100'000) = 0;

  // Aggregated readings in buckets of step_ms aligned to the Unix epoch, computed from the coarsest
  // resolution whose length is <= step_ms (raw below 1 min). The step is then rounded to the nearest
  // multiple of that resolution so rollup buckets nest exactly; the step used is returned.
  // kInvalidArgument if step_ms <= 0, from_ms >= to_ms, or more than max_points buckets;
  // kNotFound for an unknown meter.
  virtual StoreResult<AggregateSeries> readings(std::string_view meter_id, int64_t from_ms,
                                                int64_t to_ms, int64_t step_ms,
                                                std::size_t max_points = 100'000) = 0;

  // Newest reading (by time) of one meter; nullopt if it has none. kNotFound for an unknown meter.
  virtual StoreResult<std::optional<LatestState>> latest(std::string_view meter_id) = 0;
  // Newest reading of every meter that has one, ordered by meter id.
  virtual StoreResult<std::vector<LatestState>> latest_all() = 0;
  // Count and min/max seq of a meter's raw readings (all time). kNotFound for an unknown meter.
  virtual StoreResult<SeqSummary> seq_summary(std::string_view meter_id) = 0;

  // --- Events ---
  // Stores an event; a repeat of (meter, kind, edge, time_ms) is ignored (QoS 1 redelivery) and
  // returns the existing id. kNotFound for an unknown meter.
  virtual StoreResult<int64_t> add_event(const protocol::MeterEvent& event, EventSource source,
                                         int64_t received_ms) = 0;
  virtual StoreResult<std::vector<StoredEvent>> events(const EventQuery& query) = 0;

  // --- Retention ---
  virtual StoreStatus set_retention(const RetentionPolicy& policy) = 0;  // persisted
  virtual StoreResult<RetentionPolicy> retention() = 0;
  // Deletes rows older than now_ms minus each resolution's days. Safe to call while ingesting.
  virtual StoreResult<RetentionResult> apply_retention(int64_t now_ms) = 0;

  // --- Commands (server -> meter) ---
  virtual StoreStatus add_command(const CommandRecord& command) = 0;  // kAlreadyExists, kNotFound (meter)
  // Sets state, message, relay and updated_ms (and sent_ms when state becomes kSent). kNotFound.
  virtual StoreStatus update_command(std::string_view command_id, CommandState state,
                                     std::string_view message, protocol::RelayState relay,
                                     int64_t time_ms) = 0;
  virtual StoreResult<CommandRecord> get_command(std::string_view command_id) = 0;
  // Newest first; empty meter_id = all meters.
  virtual StoreResult<std::vector<CommandRecord>> commands(std::string_view meter_id,
                                                           std::size_t limit = 100) = 0;
  // Commands still pending or sent (for re-arming timeouts after a restart).
  virtual StoreResult<std::vector<CommandRecord>> open_commands() = 0;

  // --- Audit log (append-only) ---
  virtual StoreResult<int64_t> append_audit(const AuditEntry& entry) = 0;
  // Newest first; empty target = all.
  virtual StoreResult<std::vector<AuditEntry>> audit(std::string_view target, std::size_t limit = 100) = 0;
};

}  // namespace wattguard::storage
