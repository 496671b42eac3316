// Shape and bucket arithmetic of aggregated queries, shared by the backends.
#include "server/storage/aggregate_query.h"

#include <algorithm>
#include <string>

namespace wattguard::storage {

Expected<AggregateSeries> series_shape(int64_t from_ms, int64_t to_ms, int64_t step_ms, std::size_t max_points) {
  constexpr int64_t kMaxTimeMs = int64_t{1} << 50;  // year ~37,600: keeps the arithmetic below from overflowing
  if (step_ms <= 0) return Error::invalid("step_ms", std::to_string(step_ms), "step must be positive");
  if (from_ms >= to_ms) return Error::invalid("from_ms", std::to_string(from_ms), "from must be before to");
  if (from_ms < 0 || to_ms > kMaxTimeMs || step_ms > kMaxTimeMs) {
    return Error::invalid("from_ms", std::to_string(from_ms), "from, to or step out of range");
  }
  AggregateSeries series;
  series.source = Resolution::kRaw;
  for (auto it = kAllResolutions.rbegin(); it != kAllResolutions.rend(); ++it) {
    if (*it != Resolution::kRaw && resolution_ms(*it) <= step_ms) {
      series.source = *it;
      break;
    }
  }
  const int64_t res_ms = resolution_ms(series.source);
  series.step_ms = step_ms;
  if (res_ms > 0) {
    const int64_t multiple = std::max<int64_t>(1, (step_ms + res_ms / 2) / res_ms);
    series.step_ms = multiple * res_ms;
  }
  const int64_t aligned_from = bucket_start(from_ms, series.step_ms);
  const int64_t buckets = (to_ms - aligned_from + series.step_ms - 1) / series.step_ms;
  if (buckets > static_cast<int64_t>(max_points)) {
    return Error::invalid("step_ms", std::to_string(step_ms),
                          "range / step gives " + std::to_string(buckets) + " points, more than " +
                              std::to_string(max_points));
  }
  return series;
}

void BucketSums::to_points(AggregateSeries* series) const {
  bool has_prev = prev.has_value();
  double prev_imp = has_prev ? std::get<1>(*prev) : 0, prev_exp = has_prev ? std::get<2>(*prev) : 0;
  series->points.reserve(series->points.size() + acc.size());
  for (const auto& [bucket, a] : acc) {
    series->points.push_back(a.to_point(bucket, has_prev, prev_imp, prev_exp));
    has_prev = true;
    prev_imp = a.last_imp;
    prev_exp = a.last_exp;
  }
}

}  // namespace wattguard::storage
