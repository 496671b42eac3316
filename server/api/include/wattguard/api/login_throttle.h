// Slows down password guessing without letting a guesser lock the real user out. Each failed sign-in earns a
// doubling delay (base, 2x base, 4x base, ... up to a cap) for the address it came from, counted per (address,
// name) and per address across names; while that runs the address is refused (429). Failures for a name from
// every address together only lengthen failed answers, by at most `name_max_delay_ms`: they never refuse, so a
// correct password from an address that has not failed is accepted while another address is throttled for the
// same name. Keys are the submitted names, whether or not such a user exists, so the throttle reveals nothing
// about which names are real. Thread-safe.
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
                std::size_t max_entries = 100000, int64_t name_max_delay_ms = 2000);

  // How long (ms) `address` must still wait before it may try `user` again (its failures for that name, or its
  // failures across names); 0 = may try now. Other addresses' failures never count here.
  int64_t wait_ms(const std::string& user, const std::string& address, int64_t now_ms);

  // Records a failed attempt and returns how long to hold its answer: the address's delay (what wait_ms now
  // returns), or the name's bounded delay when that is longer.
  int64_t record_failure(const std::string& user, const std::string& address, int64_t now_ms);

  // A successful sign-in clears the name's failures and this address's for the name (the address keeps its count
  // across names).
  void record_success(const std::string& user, const std::string& address);

  // Delay after `failures` consecutive failures: base * 2^(failures-1), capped at `cap_ms`.
  int64_t delay_for(int64_t failures) const { return delay_for(failures, max_delay_ms_); }
  int64_t delay_for(int64_t failures, int64_t cap_ms) const;

  std::size_t entry_count();

 private:
  struct Entry {
    int64_t failures = 0;
    int64_t last_failure_ms = 0;
    int64_t blocked_until_ms = 0;
  };
  int64_t remaining_locked(const std::string& key, int64_t now_ms);
  int64_t fail_locked(const std::string& key, int64_t now_ms, int64_t cap_ms);
  void prune_locked(int64_t now_ms);

  const int64_t base_delay_ms_;
  const int64_t max_delay_ms_;
  const int64_t forget_after_ms_;
  const std::size_t max_entries_;
  const int64_t name_max_delay_ms_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace wattguard::api
