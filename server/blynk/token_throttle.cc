// Per-address login delay after wrong tokens.
#include "wattguard/blynk/token_throttle.h"

#include <algorithm>

namespace wattguard::blynk {

int64_t TokenThrottle::delay_ms(const std::string& address, int64_t now_ms) {
  std::lock_guard lock(mutex_);
  auto it = by_address_.find(address);
  if (it == by_address_.end()) return 0;
  if (now_ms - it->second.last_ms > kForgetMs) {
    by_address_.erase(it);
    return 0;
  }
  const int shift = std::min(it->second.count - 1, 30);
  return std::min<int64_t>(static_cast<int64_t>(base_ms_) << shift, max_ms_);
}

void TokenThrottle::failed(const std::string& address, int64_t now_ms) {
  std::lock_guard lock(mutex_);
  if (by_address_.size() >= kMaxAddresses && !by_address_.count(address)) by_address_.clear();
  Failures& f = by_address_[address];
  if (now_ms - f.last_ms > kForgetMs) f.count = 0;
  ++f.count;
  f.last_ms = now_ms;
}

}  // namespace wattguard::blynk
