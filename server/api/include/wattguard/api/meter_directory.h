// Caches of store data the API reads on nearly every request: the meter registry (who owns
// which meter) and each meter's import register at the start of the UTC day ("today's kWh").
// Both are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "wattguard/storage/reading_store.h"

namespace wattguard::api {

// The meter registry, reloaded from the store when older than `refresh_ms` (meters can be
// provisioned by another process) or after invalidate().
class MeterDirectory {
 public:
  struct Snapshot {
    std::vector<storage::MeterInfo> meters;  // ordered by id
    std::unordered_map<std::string, std::size_t> by_id;
    std::unordered_map<std::string, std::vector<std::string>> by_owner;  // lower-case owner -> ids
    int64_t loaded_ms = 0;

    const storage::MeterInfo* find(const std::string& id) const;
    const std::vector<std::string>& owned_by(const std::string& user) const;  // empty when none
  };

  MeterDirectory(storage::ReadingStore& store, int64_t refresh_ms);

  // The current snapshot (reloading it first when stale). Never null; empty if the store fails.
  std::shared_ptr<const Snapshot> get(int64_t now_ms);
  void invalidate();

 private:
  storage::ReadingStore& store_;
  const int64_t refresh_ms_;
  std::mutex mutex_;
  std::shared_ptr<const Snapshot> snapshot_;
  bool stale_ = true;
};

// Import register of each meter at 00:00 UTC of the current day: the last reading before
// midnight (from the 1-day rollup), computed once per meter per day.
class DayStartCache {
 public:
  explicit DayStartCache(storage::ReadingStore& store) : store_(store) {}

  // nullopt when the meter has no reading yet (retried at most every 30 s).
  // `last_reading_time_ms`/`last_import_wh`: the newest reading known, if any (saves a query
  // when the meter has not reported yet today).
  std::optional<double> day_start_import_wh(const std::string& meter_id, int64_t now_ms,
                                            std::optional<int64_t> last_reading_time_ms,
                                            std::optional<double> last_import_wh);

 private:
  struct Entry {
    int64_t day_start_ms = 0;
    std::optional<double> import_wh;
    int64_t retry_after_ms = 0;  // for an unknown value
  };
  storage::ReadingStore& store_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

inline constexpr int64_t kDayMs = 86'400'000;

}  // namespace wattguard::api
