// The SQL of the rollup tables (one per resolution above raw) and the mapping of their rows to accumulators.
#pragma once

#include <cstdint>
#include <string>

#include "server/storage/rollup.h"
#include "wattguard/base/expected.h"
#include "wattguard/storage/sqlite_db.h"
#include "wattguard/storage/store_types.h"

namespace wattguard::storage {

// Per-resolution SQL, built once; the c_str() pointers key the statement caches (so they must stay put).
struct RollupSql {
  std::string upsert;        // adds an accumulator to (meter, bucket_ms)
  std::string select_range;  // bucket_ms then the accumulator columns, for meter and [from, to)
  std::string select_prev;   // last_ms, last_imp, last_exp of the newest bucket before a time
  std::string delete_older;  // buckets of a meter before a time
};

// REQUIRES: res != Resolution::kRaw.
const RollupSql& rollup_sql(Resolution res);

// The accumulator in columns [c, c + 19) of the current row of `s` (the order of select_range after bucket_ms).
RollupAccumulator accumulator_from_row(const Stmt& s, int c);

// Adds `a` to the bucket of `key` in the rollup table of `res`. Inside the caller's transaction.
Expected<void> upsert_rollup(Db& db, Resolution res, int64_t key, int64_t bucket, const RollupAccumulator& a);

}  // namespace wattguard::storage
