// ReadingStore on PostgreSQL (15, through libpqxx): readings in monthly range partitions, one writer
// connection and a pool of reader connections. See docs/storage.md, "PostgreSQL".
#pragma once

#include <memory>
#include <string>

#include "wattguard/storage/reading_store.h"

namespace wattguard::storage {

struct PgOptions {
  // A libpq connection string, e.g. "host=127.0.0.1 port=5432 dbname=wattguard user=wattguard".
  std::string conninfo;
  int reader_connections = 4;  // concurrent readers (HTTP threads), each its own connection
  // Partitions of the readings table are created this many months ahead of the current one (at open and
  // whenever a batch reaches a month without one), so a month boundary never costs an append a DDL.
  int partitions_ahead_months = 2;
};

// The schema is versioned (table schema_version); open() applies the missing migrations in one transaction
// under an advisory lock (several servers may start at once) and refuses a newer schema (kCorruption naming
// both versions).
//
// Thread-safe: writes are serialised by a mutex on the single writer connection and each runs in one
// transaction; reads lease a connection from the reader pool (waiting while all are leased) and see every
// write committed before they started. A connection that broke (PostgreSQL restarted) is reopened on the
// next call; until PostgreSQL is back, calls fail with kIoError naming the host and port.
//
// Several servers may share one database: ingest is idempotent on (meter, seq) across them (the seq ledger's
// primary key decides). This instance caches each meter's newest reading for rollback detection; another
// server writing the same meter's readings makes that cache stale (meters are split between servers, so a
// meter has one writer at a time).
class PgStore final : public ReadingStore {
 public:
  // Connects and migrates. Errors: kInvalidInput (bad options), kIoError (PostgreSQL unreachable: the
  // message names host and port), kCorruption (a newer schema).
  static Expected<std::unique_ptr<PgStore>> open(const PgOptions& options);
  ~PgStore() override;
  PgStore(const PgStore&) = delete;
  PgStore& operator=(const PgStore&) = delete;

  static constexpr int kSchemaVersion = 1;

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

  // Names of the readings table's partitions, oldest first (for tests and operators).
  Expected<std::vector<std::string>> reading_partitions();

 private:
  struct Impl;
  explicit PgStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace wattguard::storage
