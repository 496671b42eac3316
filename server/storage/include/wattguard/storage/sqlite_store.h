// ReadingStore on SQLite: WAL, one writer connection and a pool of reader connections.
#pragma once

#include <memory>
#include <string>

#include "wattguard/storage/reading_store.h"

namespace wattguard::storage {

struct SqliteOptions {
  std::string path;               // database file; created if missing (parent directory must exist)
  int reader_connections = 4;     // concurrent readers (HTTP threads); each has its own prepared statements
  int cache_mib = 64;             // page cache of the writer connection
  bool synchronous_full = false;  // false: WAL + synchronous=NORMAL (durable across process crashes,
                                  // the last transactions may be lost on power failure)
  int busy_timeout_ms = 5000;     // wait this long for another process's lock (e.g. the CLI provisioning)
  // Staging (see docs/storage.md): each appended batch is first written as one row of the staging
  // table (a few sequential pages per commit, however many meters the batch spans), then compacted
  // into per-meter chunks and rollups. A compaction cycle starts when more than
  // staging_max_readings are staged or the oldest staged batch is older than staging_max_age_ms;
  // it moves the staged readings a range of meters at a time (at most compact_step_meters meters
  // and about compact_step_readings readings per step, one step per append), because a step's
  // cost is mostly one chunk update and four rollup upserts per meter it touches.
  // Staged readings are also held in memory (about 200 bytes each) so readers see them at once.
  std::size_t staging_max_readings = 200'000;
  int staging_max_age_ms = 60'000;
  std::size_t compact_step_readings = 20'000;
  std::size_t compact_step_meters = 1'000;
  bool compact_on_close = true;  // false only in tests that simulate a crash
};

// The schema is versioned (table schema_version); open() migrates an older file forward and refuses
// a newer one (kCorruption). See docs/storage.md for the tables.
//
// Thread-safe: writes are serialised by a mutex on the single writer connection; reads take a
// connection from the reader pool and see the last committed batch (WAL snapshot) plus the batches
// still in staging, which this object also keeps in memory.
//
// Processes: the first SqliteStore to open a file takes an exclusive lock (<path>-writer.lock) and
// uses staging; other processes may open the same file at the same time (e.g. `wattguard meters
// provision` while the server runs): their appends bypass staging (slower, written straight to
// chunks and rollups), and they see the lock holder's readings once compacted (within
// staging_max_age_ms while it ingests, at the latest when it closes or restarts).
class SqliteStore final : public ReadingStore {
 public:
  // Opens (creating/migrating) the database. Errors: kInvalidInput (bad options), kIoError (cannot open),
  // kCorruption.
  static Expected<std::unique_ptr<SqliteStore>> open(const SqliteOptions& options);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  static constexpr int kSchemaVersion = 3;

  // ReadingStore (see there for the contracts).
  Expected<void> add_meters(std::span<const MeterInfo> meters) override;
  Expected<void> update_meter(const MeterInfo& meter) override;
  Expected<MeterInfo> get_meter(std::string_view meter_id) override;
  bool has_meter(std::string_view meter_id) override;
  Expected<std::vector<MeterInfo>> list_meters() override;

  Expected<AppendResult> append_readings(std::span<const protocol::Reading> readings, int64_t received_ms) override;
  Expected<std::vector<protocol::Reading>> raw_readings(std::string_view meter_id, int64_t from_ms, int64_t to_ms,
                                                        std::size_t limit = kDefaultRawLimit) override;
  Expected<AggregateSeries> readings(std::string_view meter_id, int64_t from_ms, int64_t to_ms, int64_t step_ms,
                                     std::size_t max_points = kDefaultMaxPoints) override;
  Expected<std::optional<LatestState>> latest(std::string_view meter_id) override;
  Expected<std::vector<LatestState>> latest_all() override;
  Expected<SeqSummary> seq_summary(std::string_view meter_id) override;

  Expected<int64_t> add_event(const protocol::MeterEvent& event, EventSource source, int64_t received_ms) override;
  Expected<std::vector<StoredEvent>> events(const EventQuery& query) override;

  Expected<void> set_retention(const RetentionPolicy& policy) override;
  Expected<RetentionPolicy> retention() override;
  Expected<RetentionResult> apply_retention(int64_t now_ms) override;

  Expected<void> add_command(const CommandRecord& command) override;
  Expected<void> update_command(std::string_view command_id, CommandState state, std::string_view message,
                                protocol::RelayState relay, int64_t time_ms) override;
  Expected<CommandRecord> get_command(std::string_view command_id) override;
  Expected<std::vector<CommandRecord>> commands(std::string_view meter_id,
                                                std::size_t limit = kDefaultListLimit) override;
  Expected<std::vector<CommandRecord>> open_commands() override;

  Expected<int64_t> append_audit(const AuditEntry& entry) override;
  Expected<std::vector<AuditEntry>> audit(std::string_view target, std::size_t limit = kDefaultListLimit) override;

  // Compacts everything staged now (normally done in steps by append_readings and on close).
  Expected<void> compact();
  // True if this instance holds the writer lock and stages appends.
  bool is_primary_writer() const;

  // The underlying file (for the API engineer's own tables: open a separate connection to it).
  const std::string& path() const;

 private:
  struct Impl;
  explicit SqliteStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace wattguard::storage
