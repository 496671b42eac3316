// Raw chunks: how a meter's readings are packed into rows of raw_chunks (up to 128 records spanning at
// most 1 h), and the reads that find readings in them. See docs/storage.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "wattguard/base/expected.h"
#include "wattguard/protocol/messages.h"
#include "wattguard/storage/sqlite_db.h"

namespace wattguard::storage {

inline constexpr int64_t kChunkMaxReadings = 128;
inline constexpr int64_t kChunkMaxSpanMs = 3'600'000;  // queries look back this far for chunks overlapping a range

// One reading with where it came from (meter key, arrival time, staging batch).
struct Row {
  int64_t key = 0;
  int64_t received_ms = 0;
  int64_t staging_id = 0;
  std::size_t index = 0;  // position in the caller's batch (append only)
  protocol::Reading r;    // meter_id may be empty inside the store
};

// Orders readings by time, then seq.
bool by_time_seq(const Row& a, const Row& b);
// Orders readings by meter key, then time, then seq.
bool by_key_time_seq(const Row& a, const Row& b);

// Decodes the chunk in the current row of `s` (record count in column n_col, blob in data_col) and appends
// its records to out. A damaged chunk (blob shorter than its count says) is skipped, never read past.
void decode_chunk(const Stmt& s, int n_col, int data_col, int64_t key, std::vector<Row>* out);
// The records of rows[begin, end) as one chunk blob.
std::string encode_records(const std::vector<Row>& rows, std::size_t begin, std::size_t end);

// Chunks of `key` that may hold readings with from_ms <= time < to_ms, decoded, in any order (the caller
// filters by time).
Expected<void> chunks_in_range(Db& db, int64_t key, int64_t from_ms, int64_t to_ms, std::vector<Row>* out);
// The newest stored reading with time < before_ms (INT64_MAX: the newest of all), from chunks.
Expected<std::optional<Row>> newest_chunk_reading_before(Db& db, int64_t key, int64_t before_ms);
// The oldest stored reading with time > after_ms, from chunks.
Expected<std::optional<Row>> oldest_chunk_reading_after(Db& db, int64_t key, int64_t after_ms);
// True if a chunk of `key` holds a reading with this seq. Reads only the seq field of each record.
Expected<bool> chunk_has_seq(Db& db, int64_t key, uint64_t seq);

}  // namespace wattguard::storage
