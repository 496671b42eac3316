// Slows down password guessing: each failed sign-in for a user name or from an address
// doubles the wait before that name or address may try again (base, 2x base, 4x base, ...
// up to a cap). Keys are the submitted name, whether or not such a user exists, so the
// throttle reveals nothing about which names are real. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace wattguard::api {

class LoginThrottle {
 public:
  // Failures older than `forget_after_ms` (counted from the last one) are forgotten.
  LoginThrottle(int64_t base_delay_ms, int64_t max_delay_ms, int64_t forget_after_ms = 15 * 60 * 1000,
                std::size_t max_entries = 100000);

  // How long (ms) an attempt for `user` from `address` must still wait; 0 = may try now.
  int64_t wait_ms(const std::string& user, const std::string& address, int64_t now_ms);

  // Records a failed attempt and returns the delay it earned (what wait_ms now returns).
  int64_t record_failure(const std::string& user, const std::string& address, int64_t now_ms);

  // A successful sign-in clears the user name's failures (the address keeps its own).
  void record_success(const std::string& user);

  // Delay after `failures` consecutive failures: base * 2^(failures-1), capped.
  int64_t delay_for(int64_t failures) const;

  std::size_t entry_count();

 private:
  struct Entry {
    int64_t failures = 0;
    int64_t last_failure_ms = 0;
    int64_t blocked_until_ms = 0;
  };
  int64_t remaining_locked(const std::string& key, int64_t now_ms);
  int64_t fail_locked(const std::string& key, int64_t now_ms);
  void prune_locked(int64_t now_ms);

  const int64_t base_delay_ms_;
  const int64_t max_delay_ms_;
  const int64_t forget_after_ms_;
  const std::size_t max_entries_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace wattguard::api
