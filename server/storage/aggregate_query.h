// The backend-neutral half of ReadingStore::readings: choosing the source resolution and step, and summing
// readings or rollup buckets into step buckets. Shared by the SQLite and PostgreSQL stores.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <tuple>

#include "server/storage/rollup.h"
#include "wattguard/base/expected.h"
#include "wattguard/storage/store_types.h"

namespace wattguard::storage {

// The source resolution and step of an aggregated query (see ReadingStore::readings), after checking the
// range and the number of buckets; the points are left empty.
Expected<AggregateSeries> series_shape(int64_t from_ms, int64_t to_ms, int64_t step_ms, std::size_t max_points);

// Step buckets of an aggregated query, and the register before the range (time, import, export) that the
// first bucket's energy is counted from.
struct BucketSums {
  std::map<int64_t, RollupAccumulator> acc;
  std::optional<std::tuple<int64_t, double, double>> prev;

  void consider_prev(int64_t t, double imp, double exp) {
    if (!prev || t >= std::get<0>(*prev)) prev = std::make_tuple(t, imp, exp);
  }
  // Appends one point per bucket to series->points, each bucket's energy counted from the one before.
  void to_points(AggregateSeries* series) const;
};

}  // namespace wattguard::storage
