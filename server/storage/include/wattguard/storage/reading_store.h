// The head-end's storage interface: meters, readings (raw + rollups), latest state, events, commands, audit.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wattguard/base/expected.h"
#include "wattguard/protocol/messages.h"
#include "wattguard/storage/store_types.h"

namespace wattguard::storage {

// Defaults of the query limits, shared by the interface and its implementations.
inline constexpr std::size_t kDefaultRawLimit = 100'000;
inline constexpr std::size_t kDefaultMaxPoints = 100'000;
inline constexpr std::size_t kDefaultListLimit = 100;

// The contract every backend implements: SqliteStore (embedded default); PostgreSQL planned. The virtual
// methods are the whole of what a backend must provide; the non-virtual ones are written on top of them.
//
// Thread safety: every method may be called concurrently from any thread (the ingest thread writes, HTTP
// threads read). Implementations serialise writers and let readers run alongside; a reader sees every write
// that returned before it started.
//
// Time: all times are Unix milliseconds, UTC. Range queries are [from_ms, to_ms).
//
// Errors (wattguard::Error codes): kNotFound for an unknown meter or command id, kAlreadyExists for a taken
// id, kInvalidInput for a bad parameter (with `field` and `value` set), kIoError when the database could not
// be read or written, kCorruption when it is not a wattguard database (or is newer than this build). A
// failed write leaves the store unchanged.
class ReadingStore {
 public:
  virtual ~ReadingStore() = default;

  // ---------------------------------------------------------------- meters registry
  // Adds meters all or nothing, in one transaction (bulk provisioning of fleets). created_ms 0 means now.
  // kInvalidInput for an id that is not protocol::is_valid_meter_id; kAlreadyExists names the first taken id.
  virtual Expected<void> add_meters(std::span<const MeterInfo> meters) = 0;
  // Updates name/area/owner of an existing meter (id and created_ms unchanged). kNotFound if absent.
  virtual Expected<void> update_meter(const MeterInfo& meter) = 0;
  // kNotFound if absent.
  virtual Expected<MeterInfo> get_meter(std::string_view meter_id) = 0;
  // Every meter, ordered by id.
  virtual Expected<std::vector<MeterInfo>> list_meters() = 0;

  // One meter: add_meters of one.
  Expected<void> add_meter(const MeterInfo& meter) { return add_meters(std::span<const MeterInfo>(&meter, 1)); }
  // True if the meter is provisioned (false also when the store cannot say). Asked on every API
  // request and unknown-meter reading, so a backend should answer it from memory where it can.
  virtual bool has_meter(std::string_view meter_id) { return get_meter(meter_id).ok(); }

  // ---------------------------------------------------------------- readings: writing
  // Appends a batch in one transaction and updates the rollups in the same transaction.
  // Idempotent on (meter, seq): a reading already stored (or repeated in the batch) is ignored and
  // counted as a duplicate. Invalid readings (protocol::validate without the future check) and
  // unknown meters are refused and listed in AppendResult::refused; the rest of the batch is stored.
  // A reading whose import or export register is lower than the previous reading's (by time) is
  // stored AND records a server event register_rollback. kIoError leaves the store unchanged.
  virtual Expected<AppendResult> append_readings(std::span<const protocol::Reading> readings, int64_t received_ms) = 0;

  // ---------------------------------------------------------------- readings: querying
  // Raw readings of one meter with from_ms <= time_ms < to_ms, ascending time, at most `limit`.
  // kNotFound for an unknown meter.
  virtual Expected<std::vector<protocol::Reading>> raw_readings(std::string_view meter_id, int64_t from_ms,
                                                                int64_t to_ms,
                                                                std::size_t limit = kDefaultRawLimit) = 0;

  // Aggregated readings in buckets of step_ms aligned to the Unix epoch, computed from the coarsest
  // resolution whose length is <= step_ms (raw below 1 min). The step is then rounded to the nearest
  // multiple of that resolution so rollup buckets nest exactly; the step used is returned.
  // kInvalidInput if step_ms <= 0, from_ms >= to_ms, or more than max_points buckets;
  // kNotFound for an unknown meter.
  virtual Expected<AggregateSeries> readings(std::string_view meter_id, int64_t from_ms, int64_t to_ms, int64_t step_ms,
                                             std::size_t max_points = kDefaultMaxPoints) = 0;

  // Newest reading (by time) of one meter; nullopt if it has none. kNotFound for an unknown meter.
  virtual Expected<std::optional<LatestState>> latest(std::string_view meter_id) = 0;
  // Newest reading of every meter that has one, ordered by meter id.
  virtual Expected<std::vector<LatestState>> latest_all() = 0;
  // Count and min/max seq of a meter's raw readings (all time). kNotFound for an unknown meter.
  virtual Expected<SeqSummary> seq_summary(std::string_view meter_id) = 0;

  // ---------------------------------------------------------------- events
  // Stores an event; a repeat of (meter, kind, edge, time_ms) is ignored (QoS 1 redelivery) and
  // returns the existing id. kNotFound for an unknown meter; kInvalidInput for details over 4096 characters.
  virtual Expected<int64_t> add_event(const protocol::MeterEvent& event, EventSource source, int64_t received_ms) = 0;
  // Events matching the query, newest first.
  virtual Expected<std::vector<StoredEvent>> events(const EventQuery& query) = 0;

  // ---------------------------------------------------------------- retention
  // Persists the policy. kInvalidInput for days outside [0, 36600].
  virtual Expected<void> set_retention(const RetentionPolicy& policy) = 0;
  // The persisted policy (the defaults if none was set).
  virtual Expected<RetentionPolicy> retention() = 0;
  // Deletes rows older than now_ms minus each resolution's days. Safe to call while ingesting.
  virtual Expected<RetentionResult> apply_retention(int64_t now_ms) = 0;

  // ---------------------------------------------------------------- commands (server -> meter)
  // kInvalidInput for a bad id, kAlreadyExists for a taken one, kNotFound for an unknown meter.
  // created_ms 0 means now; updated_ms 0 means created_ms.
  virtual Expected<void> add_command(const CommandRecord& command) = 0;
  // Sets state, message, relay and updated_ms (and sent_ms when state becomes kSent). kNotFound.
  virtual Expected<void> update_command(std::string_view command_id, CommandState state, std::string_view message,
                                        protocol::RelayState relay, int64_t time_ms) = 0;
  // kNotFound if absent.
  virtual Expected<CommandRecord> get_command(std::string_view command_id) = 0;
  // Newest first, at most `limit`; empty meter_id = all meters (else kNotFound for an unknown meter).
  virtual Expected<std::vector<CommandRecord>> commands(std::string_view meter_id,
                                                        std::size_t limit = kDefaultListLimit) = 0;
  // Commands still pending or sent, oldest first (for re-arming timeouts after a restart).
  virtual Expected<std::vector<CommandRecord>> open_commands() = 0;

  // ---------------------------------------------------------------- audit log (append-only)
  // Appends an entry (time_ms 0 means now) and returns its id.
  virtual Expected<int64_t> append_audit(const AuditEntry& entry) = 0;
  // Newest first, at most `limit`; empty target = all.
  virtual Expected<std::vector<AuditEntry>> audit(std::string_view target, std::size_t limit = kDefaultListLimit) = 0;
};

}  // namespace wattguard::storage
