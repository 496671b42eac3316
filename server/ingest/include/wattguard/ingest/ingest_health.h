// Counters of the ingest service (read by GET /api/v1/health); a copy, taken under a lock.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace wattguard::ingest {

struct IngestHealth {
  bool connected = false;           // MQTT session up right now
  uint64_t connects = 0;            // successful (re)connections since start
  uint64_t messages_received = 0;   // every MQTT message on our subscriptions
  uint64_t readings_received = 0;   // messages on .../reading
  uint64_t readings_stored = 0;     // committed new rows
  uint64_t readings_duplicate = 0;  // (meter, seq) already stored: ignored (QoS 1 redelivery, replay)
  uint64_t readings_late = 0;       // stored out of time order (store-and-forward)
  uint64_t statuses_received = 0;
  uint64_t events_stored = 0;  // meter-raised and server-raised
  uint64_t acks_received = 0;
  uint64_t commands_sent = 0;
  uint64_t commands_timed_out = 0;
  uint64_t rejected_total = 0;
  // Rejected messages per protocol::rejection_name; every reason is present (0 when none).
  std::map<std::string, uint64_t> rejected;
  uint64_t batches_written = 0;
  uint64_t store_errors = 0;  // batches the store failed to write (retried)
  // The store's last write failed and nothing has been written since (disk full, database locked, ...):
  // readings wait in the queue, then at the broker. The error says why.
  bool storage_failing = false;
  int64_t storage_failing_since_ms = 0;
  std::string storage_error;
  uint64_t journal_append_errors = 0;  // messages that could not be journaled (see ingest_journal.h)
  uint64_t journal_replayed = 0;       // messages replayed from an earlier run's journal at start
  std::size_t pending_readings = 0;    // accepted, waiting for the writer
  std::size_t meters_online = 0;
  std::size_t meters_offline = 0;
  std::size_t meters_stale = 0;  // heard from, silent for over 2 periods + 1 s, not yet offline
  std::size_t meters_known = 0;  // provisioned meters
};

}  // namespace wattguard::ingest
