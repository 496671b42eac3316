// ReadingStore on SQLite: WAL, one writer connection and a pool of reader connections.
#pragma once

#include <memory>
#include <string>

#include "server/storage/reading_store.h"

namespace wattguard::storage {

struct SqliteOptions {
  std::string path;              // database file; created if missing (parent directory must exist)
  int reader_connections = 4;    // concurrent readers (HTTP threads); each has its own prepared statements
  int cache_mib = 64;            // page cache of the writer connection
  bool synchronous_full = false; // false: WAL + synchronous=NORMAL (durable across process crashes,
                                 // the last transactions may be lost on power failure)
  int busy_timeout_ms = 5000;    // wait this long for another process's lock (e.g. the CLI provisioning)
};

// The schema is versioned (table schema_version); open() migrates an older file forward and refuses
// a newer one (kCorruption). See docs/storage.md for the tables.
//
// Thread-safe: writes are serialised by a mutex on the single writer connection; reads take a
// connection from the reader pool and see the last committed batch (WAL snapshot). Several
// processes may open the same file (e.g. `wattguard meters provision` while the server runs).
class SqliteStore final : public ReadingStore {
 public:
  // Opens (creating/migrating) the database. Errors: kIoError (cannot open), kCorruption.
  static StoreResult<std::unique_ptr<SqliteStore>> open(const SqliteOptions& options);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  static constexpr int kSchemaVersion = 1;

  StoreStatus add_meter(const MeterInfo& meter) override;
  StoreStatus add_meters(std::span<const MeterInfo> meters) override;
  StoreStatus update_meter(const MeterInfo& meter) override;
  StoreResult<MeterInfo> get_meter(std::string_view meter_id) override;
  bool has_meter(std::string_view meter_id) override;
  StoreResult<std::vector<MeterInfo>> list_meters() override;

  StoreResult<AppendResult> append_readings(std::span<const protocol::Reading> readings,
                                            int64_t received_ms) override;
  StoreResult<std::vector<protocol::Reading>> raw_readings(std::string_view meter_id, int64_t from_ms,
                                                           int64_t to_ms, std::size_t limit = 100'000) override;
  StoreResult<AggregateSeries> readings(std::string_view meter_id, int64_t from_ms, int64_t to_ms,
                                        int64_t step_ms, std::size_t max_points = 100'000) override;
  StoreResult<std::optional<LatestState>> latest(std::string_view meter_id) override;
  StoreResult<std::vector<LatestState>> latest_all() override;
  StoreResult<SeqSummary> seq_summary(std::string_view meter_id) override;

  StoreResult<int64_t> add_event(const protocol::MeterEvent& event, EventSource source,
                                 int64_t received_ms) override;
  StoreResult<std::vector<StoredEvent>> events(const EventQuery& query) override;

  StoreStatus set_retention(const RetentionPolicy& policy) override;
  StoreResult<RetentionPolicy> retention() override;
  StoreResult<RetentionResult> apply_retention(int64_t now_ms) override;

  StoreStatus add_command(const CommandRecord& command) override;
  StoreStatus update_command(std::string_view command_id, CommandState state, std::string_view message,
                             protocol::RelayState relay, int64_t time_ms) override;
  StoreResult<CommandRecord> get_command(std::string_view command_id) override;
  StoreResult<std::vector<CommandRecord>> commands(std::string_view meter_id, std::size_t limit = 100) override;
  StoreResult<std::vector<CommandRecord>> open_commands() override;

  StoreResult<int64_t> append_audit(const AuditEntry& entry) override;
  StoreResult<std::vector<AuditEntry>> audit(std::string_view target, std::size_t limit = 100) override;

  // The underlying file (for the API engineer's own tables: open a separate connection to it).
  const std::string& path() const;

 private:
  struct Impl;
  explicit SqliteStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace wattguard::storage
