// Records the head-end stores besides raw readings: meters, aggregates, events, commands, audit.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "wattguard/protocol/messages.h"
#include "wattguard/protocol/rejection.h"

namespace wattguard::storage {

// A provisioned meter. Readings from meters not in the registry are refused.
struct MeterInfo {
  std::string id;          // protocol::is_valid_meter_id
  std::string name;        // display name, may be empty
  std::string area;        // service area (the meter reader's patch); may be empty
  std::string owner;       // consumer owner (user name in the API's user table); may be empty
  int64_t created_ms = 0;  // set by the store when 0
  int64_t retired_ms = 0;  // when it was retired (taken out of service, history kept); 0 = in service

  bool operator==(const MeterInfo&) const = default;
};

// Storage resolutions, finest first. Rollup buckets are aligned to the Unix epoch (UTC).
enum class Resolution : uint8_t { kRaw, k1Min, k15Min, k1Hour, k1Day };
inline constexpr std::array<Resolution, 5> kAllResolutions = {Resolution::kRaw, Resolution::k1Min, Resolution::k15Min,
                                                              Resolution::k1Hour, Resolution::k1Day};
int64_t resolution_ms(Resolution res);        // 0 for raw, 60'000, 900'000, 3'600'000, 86'400'000
const char* resolution_name(Resolution res);  // "raw", "1m", "15m", "1h", "1d"

enum class EventSource : uint8_t { kMeter, kServer };  // "meter", "server"
const char* event_source_name(EventSource source);

struct StoredEvent {
  int64_t id = 0;  // store-assigned, ascending
  protocol::MeterEvent event;
  EventSource source = EventSource::kMeter;
  int64_t received_ms = 0;
};

// What append_readings did with a batch.
struct AppendResult {
  std::size_t stored = 0;      // new rows
  std::size_t duplicates = 0;  // (meter, seq) already stored (or twice in the batch): ignored
  std::size_t late = 0;        // stored rows older than the meter's newest reading (rollups corrected)
  std::size_t rollbacks = 0;   // register_rollback events raised by this batch
  // Readings refused (unknown meter, invalid values); each with the reading's index in the batch.
  struct Refused {
    std::size_t index = 0;
    protocol::Rejection reason = protocol::Rejection::kOutOfRange;
    std::string detail;
  };
  std::vector<Refused> refused;
  // Batch indices of the duplicates, ascending (so the caller knows which readings are new).
  std::vector<std::size_t> duplicate_indices;
  // Server events the batch raised (register_rollback), as stored; for the ingest's observers.
  std::vector<StoredEvent> events;
  // The batch IS stored, but upkeep after its commit failed (e.g. a compaction step on a full disk; it is tried
  // again with the next append). Empty when all went well. Never retry the batch for it: it is committed.
  std::string maintenance_error;
};

// One step bucket of an aggregated query. Averages are over the readings in the bucket.
struct AggregatePoint {
  int64_t t_ms = 0;    // bucket start (aligned to step)
  uint32_t count = 0;  // raw readings in the bucket
  double p_avg_w = 0, p_min_w = 0, p_max_w = 0;
  double vrms_avg = 0, vrms_min = 0, vrms_max = 0;
  double irms_avg = 0, s_avg_va = 0, q_avg_var = 0, pf_avg = 0, freq_avg_hz = 0;
  // Energy in the bucket = last register in this bucket minus the last register before it (the
  // previous bucket, or the newest reading before `from`; the bucket's first reading when there is
  // none). Clamped at 0: a register that went backwards counts no energy (a rollback event says why).
  double energy_import_wh = 0, energy_export_wh = 0;
  double e_import_wh = 0, e_export_wh = 0;  // registers of the bucket's last reading
  uint32_t flags = 0;                       // OR of the readings' flags
  bool operator==(const AggregatePoint&) const = default;
};

struct AggregateSeries {
  Resolution source = Resolution::kRaw;  // what the points were computed from
  int64_t step_ms = 0;                   // the step actually used (see ReadingStore::readings)
  std::vector<AggregatePoint> points;    // empty buckets are omitted; ascending t_ms
};

// Newest reading of a meter (by time) and when the server received it.
struct LatestState {
  protocol::Reading reading;
  int64_t received_ms = 0;
};

// Count and sequence span of a meter's stored raw readings (for loss checks: max-min+1-count).
struct SeqSummary {
  uint64_t count = 0;
  uint64_t min_seq = 0;
  uint64_t max_seq = 0;
};

struct EventQuery {
  std::string meter_id;         // empty = all meters
  int64_t from_ms = INT64_MIN;  // event time, inclusive
  int64_t to_ms = INT64_MAX;    // exclusive
  std::optional<protocol::EventKind> kind;
  std::size_t limit = 1000;  // newest first
};

// Days to keep per resolution; 0 = forever. Applied by apply_retention().
struct RetentionPolicy {
  int raw_days = 90;
  int min1_days = 365;
  int min15_days = 3 * 365;
  int hour1_days = 0;
  int day1_days = 0;
  bool operator==(const RetentionPolicy&) const = default;
};

struct RetentionResult {
  std::array<uint64_t, 5> deleted{};  // rows deleted per resolution, indexed like kAllResolutions
};

enum class CommandState : uint8_t { kPending, kSent, kAcked, kFailed, kTimedOut };
const char* command_state_name(CommandState state);  // "pending", "sent", "acked", "failed", "timed_out"
std::optional<CommandState> command_state_from_name(std::string_view name);

struct CommandRecord {
  std::string id;  // protocol::Command::id
  std::string meter_id;
  protocol::CommandKind kind = protocol::CommandKind::kPing;
  std::string args_json = "{}";  // e.g. {"period_s":10}
  std::string requested_by;      // user / token name / "policy:<area>"
  CommandState state = CommandState::kPending;
  std::string message;                                          // ack message, or why it failed / timed out
  protocol::RelayState relay = protocol::RelayState::kUnknown;  // from the ack
  int64_t created_ms = 0;
  int64_t sent_ms = 0;     // 0 until published
  int64_t updated_ms = 0;  // last state change
  bool operator==(const CommandRecord&) const = default;
};

struct AuditEntry {
  int64_t id = 0;  // store-assigned
  int64_t time_ms = 0;
  std::string actor;    // who (user, token, "system")
  std::string action;   // what, e.g. "command.relay_off", "meter.provision"
  std::string target;   // e.g. meter id
  std::string details;  // why / free text or JSON
};

}  // namespace wattguard::storage
