// Meter registry and day-start register caches.
#include "wattguard/api/meter_directory.h"

#include <spdlog/spdlog.h>

#include "wattguard/api/http_message.h"

namespace wattguard::api {

const storage::MeterInfo* MeterDirectory::Snapshot::find(const std::string& id) const {
  const auto it = by_id.find(id);
  return it == by_id.end() ? nullptr : &meters[it->second];
}

const std::vector<std::string>& MeterDirectory::Snapshot::owned_by(const std::string& user) const {
  static const std::vector<std::string> kNone;
  const auto it = by_owner.find(ascii_lower(user));
  return it == by_owner.end() ? kNone : it->second;
}

MeterDirectory::MeterDirectory(storage::ReadingStore& store, int64_t refresh_ms)
    : store_(store), refresh_ms_(refresh_ms), snapshot_(std::make_shared<Snapshot>()) {}

std::shared_ptr<const MeterDirectory::Snapshot> MeterDirectory::get(int64_t now_ms) {
  std::lock_guard lock(mutex_);
  if (!stale_ && now_ms - snapshot_->loaded_ms < refresh_ms_ && now_ms >= snapshot_->loaded_ms) return snapshot_;
  // Reloading under the lock: concurrent callers wait for one load instead of all loading.
  auto list = store_.list_meters();
  if (!list.ok()) {
    spdlog::warn("api: cannot list meters: {}", list.error().message);
    return snapshot_;
  }
  auto snap = std::make_shared<Snapshot>();
  snap->meters = std::move(list.value());
  snap->loaded_ms = now_ms;
  for (std::size_t i = 0; i < snap->meters.size(); ++i) {
    const auto& m = snap->meters[i];
    snap->by_id.emplace(m.id, i);
    if (!m.owner.empty()) snap->by_owner[ascii_lower(m.owner)].push_back(m.id);
  }
  snapshot_ = std::move(snap);
  stale_ = false;
  return snapshot_;
}

void MeterDirectory::invalidate() {
  std::lock_guard lock(mutex_);
  stale_ = true;
}

std::optional<double> DayStartCache::day_start_import_wh(const std::string& meter_id, int64_t now_ms,
                                                         std::optional<int64_t> last_reading_time_ms,
                                                         std::optional<double> last_import_wh) {
  const int64_t day_start = now_ms - ((now_ms % kDayMs) + kDayMs) % kDayMs;
  {
    std::lock_guard lock(mutex_);
    const auto it = entries_.find(meter_id);
    if (it != entries_.end() && it->second.day_start_ms == day_start) {
      if (it->second.import_wh || now_ms < it->second.retry_after_ms) return it->second.import_wh;
    }
  }
  Entry entry;
  entry.day_start_ms = day_start;
  if (last_reading_time_ms && *last_reading_time_ms < day_start) {
    // Nothing yet today: the newest reading is the last one before midnight.
    entry.import_wh = last_import_wh;
  } else {
    auto series = store_.readings(meter_id, day_start, day_start + kDayMs, kDayMs, 2);
    if (series.ok() && !series->points.empty()) {
      const auto& p = series->points.front();
      // energy_import_wh is the register's advance over the day; what it advanced from is the
      // register at midnight.
      entry.import_wh = p.e_import_wh - p.energy_import_wh;
    } else {
      entry.retry_after_ms = now_ms + 30'000;
    }
  }
  std::lock_guard lock(mutex_);
  entries_[meter_id] = entry;
  return entry.import_wh;
}

}  // namespace wattguard::api
