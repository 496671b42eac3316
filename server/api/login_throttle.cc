// Growing delay after failed sign-ins: per (address, name) and per address refusing, per name only delaying.
#include "wattguard/api/login_throttle.h"

#include <algorithm>
#include <iterator>
#include <vector>

#include "wattguard/api/http_message.h"

namespace wattguard::api {

namespace {

std::string name_key(const std::string& user) { return "u:" + ascii_lower(user); }
std::string address_key(const std::string& address) { return "a:" + address; }
// The newline cannot occur in an address, so no two (address, name) pairs share a key.
std::string pair_key(const std::string& user, const std::string& address) {
  return "p:" + address + "\n" + ascii_lower(user);
}

}  // namespace

LoginThrottle::LoginThrottle(int64_t base_delay_ms, int64_t max_delay_ms, int64_t forget_after_ms,
                             std::size_t max_entries, int64_t name_max_delay_ms)
    : base_delay_ms_(base_delay_ms),
      max_delay_ms_(std::max(base_delay_ms, max_delay_ms)),
      forget_after_ms_(forget_after_ms),
      max_entries_(max_entries),
      name_max_delay_ms_(std::max<int64_t>(0, name_max_delay_ms)) {}

int64_t LoginThrottle::delay_for(int64_t failures, int64_t cap_ms) const {
  if (failures <= 0 || base_delay_ms_ <= 0 || cap_ms <= 0) return 0;
  int64_t delay = base_delay_ms_;
  for (int64_t i = 1; i < failures && delay < cap_ms; ++i) delay *= 2;
  return std::min(delay, cap_ms);
}

int64_t LoginThrottle::remaining_locked(const std::string& key, int64_t now_ms) {
  const auto it = entries_.find(key);
  if (it == entries_.end()) return 0;
  return std::max<int64_t>(0, it->second.blocked_until_ms - now_ms);
}

int64_t LoginThrottle::fail_locked(const std::string& key, int64_t now_ms, int64_t cap_ms) {
  Entry& e = entries_[key];
  if (e.failures > 0 && now_ms - e.last_failure_ms > forget_after_ms_) e.failures = 0;
  ++e.failures;
  e.last_failure_ms = now_ms;
  const int64_t delay = delay_for(e.failures, cap_ms);
  e.blocked_until_ms = std::max(e.blocked_until_ms, now_ms + delay);
  return e.blocked_until_ms - now_ms;
}

void LoginThrottle::prune_locked(int64_t now_ms) {
  if (entries_.size() < max_entries_) return;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (now_ms - it->second.last_failure_ms > forget_after_ms_ && it->second.blocked_until_ms <= now_ms) {
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  // Still full (a flood of distinct names): forget the oldest half rather than grow without bound.
  if (entries_.size() >= max_entries_) {
    std::vector<int64_t> times;
    times.reserve(entries_.size());
    for (const auto& [key, e] : entries_) times.push_back(e.last_failure_ms);
    auto mid = times.begin() + static_cast<std::ptrdiff_t>(times.size() / 2);
    std::nth_element(times.begin(), mid, times.end());
    const int64_t cutoff = *mid;
    for (auto it = entries_.begin(); it != entries_.end();) {
      it = it->second.last_failure_ms <= cutoff ? entries_.erase(it) : std::next(it);
    }
  }
}

int64_t LoginThrottle::wait_ms(const std::string& user, const std::string& address, int64_t now_ms) {
  std::lock_guard lock(mutex_);
  return std::max(remaining_locked(pair_key(user, address), now_ms),
                  address.empty() ? 0 : remaining_locked(address_key(address), now_ms));
}

int64_t LoginThrottle::record_failure(const std::string& user, const std::string& address, int64_t now_ms) {
  std::lock_guard lock(mutex_);
  prune_locked(now_ms);
  const int64_t by_pair = fail_locked(pair_key(user, address), now_ms, max_delay_ms_);
  const int64_t by_address = address.empty() ? 0 : fail_locked(address_key(address), now_ms, max_delay_ms_);
  // The name's own count only lengthens this answer (bounded); it never blocks another address.
  const int64_t by_name = fail_locked(name_key(user), now_ms, name_max_delay_ms_);
  return std::max({by_pair, by_address, by_name});
}

void LoginThrottle::record_success(const std::string& user, const std::string& address) {
  std::lock_guard lock(mutex_);
  entries_.erase(name_key(user));
  entries_.erase(pair_key(user, address));
}

std::size_t LoginThrottle::entry_count() {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace wattguard::api
