// Walking the tuning households' day-ahead origins (tuning_origins.h).
#include "wattguard/evaluation/tuning_origins.h"

namespace wattguard::evaluation {

void for_each_tuning_origin(const std::vector<ForecastDataSet>& sets, int day_stride,
                            const std::function<void(const TuningOrigin&)>& visit) {
  analytics::FeatureScratch scratch;
  for (const auto& set : sets) {
    for (const RealHousehold& h : set.households) {
      if (!in_tuning_split(h.name) || h.days.empty()) continue;
      const int64_t first = h.days.front().day;
      const analytics::HalfHourHistory history = household_history(h);
      for (const RealDay& d : h.days) {
        const int64_t day = d.day - first;
        if (day < kForecastWarmupDays || day % day_stride != 0) continue;
        const int64_t origin = day * analytics::kSlotsPerDay;
        const analytics::OriginSummary summary = analytics::forecast_origin_summary(history, origin, scratch);
        visit(TuningOrigin{history, origin, d, summary, scratch});
      }
    }
  }
}

}  // namespace wattguard::evaluation
