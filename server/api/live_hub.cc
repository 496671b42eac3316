// Live message fan-out.
#include "wattguard/api/live_hub.h"

#include <vector>

namespace wattguard::api {

uint64_t LiveHub::subscribe(std::weak_ptr<LiveSink> sink, std::optional<MeterSet> meters) {
  std::lock_guard lock(mutex_);
  const uint64_t id = next_id_++;
  subscribers_.emplace(id, Subscriber{std::move(sink), std::move(meters)});
  return id;
}

void LiveHub::unsubscribe(uint64_t id) {
  std::lock_guard lock(mutex_);
  subscribers_.erase(id);
}

void LiveHub::publish(std::string_view meter_id, const std::shared_ptr<const std::string>& message) {
  // Offers happen under the hub's mutex (offer() only queues, so this stays short). The sinks
  // locked here are released only after the mutex: if one was the last reference, its destructor
  // unsubscribes, which needs the mutex.
  std::vector<std::shared_ptr<LiveSink>> keep_alive;
  std::lock_guard lock(mutex_);
  ++published_;
  std::string key;
  for (auto it = subscribers_.begin(); it != subscribers_.end();) {
    Subscriber& sub = it->second;
    if (sub.meters) {
      if (key.empty()) key.assign(meter_id);
      if (sub.meters->count(key) == 0) {
        ++it;
        continue;
      }
    }
    auto sink = sub.sink.lock();
    if (!sink) {
      it = subscribers_.erase(it);
      continue;
    }
    const OfferResult result = sink->offer(message);
    keep_alive.push_back(std::move(sink));
    switch (result) {
      case OfferResult::kQueued:
        ++delivered_;
        ++it;
        break;
      case OfferResult::kOverflow:
        ++dropped_;
        it = subscribers_.erase(it);
        break;
      case OfferResult::kClosed: it = subscribers_.erase(it); break;
    }
  }
}

void LiveHub::access_changed() {
  std::vector<std::shared_ptr<LiveSink>> sinks;
  {
    std::lock_guard lock(mutex_);
    sinks.reserve(subscribers_.size());
    for (const auto& [id, sub] : subscribers_) {
      if (auto sink = sub.sink.lock()) sinks.push_back(std::move(sink));
    }
  }
  // Outside the mutex: a sink released here may be the last reference, and its destructor unsubscribes.
  for (const auto& sink : sinks) sink->access_changed();
}

LiveHub::Stats LiveHub::stats() {
  std::lock_guard lock(mutex_);
  return Stats{subscribers_.size(), published_, delivered_, dropped_};
}

}  // namespace wattguard::api
