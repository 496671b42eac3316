// The growing per-address delay before a Blynk login is answered, after wrong tokens from that address:
// guessing a 32-character token becomes slower with every miss, while a device with a right token from a clean
// address logs in at once. Thread-safe: one mutex.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace wattguard::blynk {

class TokenThrottle {
 public:
  // Failures are forgotten after kForgetMs without a new one.
  static constexpr int64_t kForgetMs = 10 * 60 * 1000;
  // Addresses remembered at most; over that the table starts afresh (an attacker rotating addresses gains
  // nothing per address it would not have had anyway).
  static constexpr std::size_t kMaxAddresses = 100'000;

  TokenThrottle(int base_ms, int max_ms) : base_ms_(base_ms), max_ms_(max_ms) {}

  // How long to wait before answering a login from `address` now.
  int64_t delay_ms(const std::string& address, int64_t now_ms);
  void failed(const std::string& address, int64_t now_ms);

 private:
  struct Failures {
    int count = 0;
    int64_t last_ms = 0;
  };
  std::mutex mutex_;
  std::unordered_map<std::string, Failures> by_address_;  // guarded by mutex_
  int base_ms_;
  int max_ms_;
};

}  // namespace wattguard::blynk
