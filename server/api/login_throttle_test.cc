// Tests of the growing sign-in delay (with an explicit clock, not real time).
#include "wattguard/api/login_throttle.h"

#include <gtest/gtest.h>

namespace wattguard::api {
namespace {

TEST(LoginThrottle, DelayDoublesUpToTheCap) {
  LoginThrottle t(500, 4000);
  EXPECT_EQ(t.delay_for(0), 0);
  EXPECT_EQ(t.delay_for(1), 500);
  EXPECT_EQ(t.delay_for(2), 1000);
  EXPECT_EQ(t.delay_for(3), 2000);
  EXPECT_EQ(t.delay_for(4), 4000);
  EXPECT_EQ(t.delay_for(50), 4000);
}

TEST(LoginThrottle, FailuresBlockTheAddressForThatNameUntilTheDelayPasses) {
  LoginThrottle t(500, 30000);
  EXPECT_EQ(t.wait_ms("alice", "10.0.0.1", 0), 0);
  EXPECT_EQ(t.record_failure("alice", "10.0.0.1", 0), 500);
  EXPECT_EQ(t.wait_ms("alice", "10.0.0.1", 100), 400);
  EXPECT_EQ(t.wait_ms("ALICE", "10.0.0.1", 100), 400);  // any case
  EXPECT_EQ(t.wait_ms("alice", "10.0.0.1", 500), 0);
  EXPECT_EQ(t.record_failure("alice", "10.0.0.1", 600), 1000);
  EXPECT_EQ(t.record_failure("alice", "10.0.0.1", 1600), 2000);
  EXPECT_EQ(t.wait_ms("alice", "10.0.0.1", 1600), 2000);
}

TEST(LoginThrottle, AnotherAddressFailingForANameNeverBlocksIt) {
  // An attacker at 10.6.6.6 keeps failing for "admin": the real admin at 10.0.0.1 may still try at once.
  LoginThrottle t(500, 30000);
  for (int i = 0; i < 40; ++i) t.record_failure("admin", "10.6.6.6", i * 30000);
  const int64_t now = 39 * 30000 + 1;  // just after the last failure
  EXPECT_GT(t.wait_ms("admin", "10.6.6.6", now), 0);
  EXPECT_EQ(t.wait_ms("admin", "10.0.0.1", now), 0);
}

TEST(LoginThrottle, FailuresForANameFromEverywhereOnlyAddABoundedDelay) {
  LoginThrottle t(500, 30000, 15 * 60 * 1000, 100000, /*name_max_delay_ms=*/2000);
  // Each failure from a new address: the name's count grows, but its delay stops at 2 s.
  int64_t delay = 0;
  for (int i = 0; i < 20; ++i) delay = t.record_failure("admin", "10.0.1." + std::to_string(i), 0);
  EXPECT_EQ(delay, 2000);
  EXPECT_EQ(t.wait_ms("admin", "10.0.2.1", 0), 0);
}

TEST(LoginThrottle, AddressIsThrottledAcrossNames) {
  LoginThrottle t(500, 30000);
  t.record_failure("u1", "10.0.0.1", 0);
  t.record_failure("u2", "10.0.0.1", 500);
  t.record_failure("u3", "10.0.0.1", 1500);
  // The address has three failures although each name has one.
  EXPECT_EQ(t.wait_ms("u4", "10.0.0.1", 1500), 2000);
  EXPECT_EQ(t.wait_ms("u4", "10.0.0.2", 1500), 0);
}

TEST(LoginThrottle, SuccessClearsTheName) {
  LoginThrottle t(500, 30000);
  t.record_failure("bob", "", 0);
  t.record_failure("bob", "", 500);
  t.record_success("bob", "");
  EXPECT_EQ(t.wait_ms("bob", "", 600), 0);
  EXPECT_EQ(t.record_failure("bob", "", 2000), 500);
}

TEST(LoginThrottle, OldFailuresAreForgotten) {
  LoginThrottle t(500, 30000, /*forget_after_ms=*/60000);
  t.record_failure("carl", "", 0);
  t.record_failure("carl", "", 500);
  EXPECT_EQ(t.record_failure("carl", "", 200000), 500);  // counting starts again
}

TEST(LoginThrottle, UnknownAndKnownNamesBehaveAlike) {
  // The throttle never looks at whether a user exists: same inputs, same delays.
  LoginThrottle t(250, 30000);
  EXPECT_EQ(t.record_failure("exists", "a", 0), t.record_failure("does-not-exist", "b", 0));
}

TEST(LoginThrottle, MemoryIsBounded) {
  LoginThrottle t(500, 30000, 60000, /*max_entries=*/100);
  for (int i = 0; i < 1000; ++i) t.record_failure("user" + std::to_string(i), "", i);
  EXPECT_LE(t.entry_count(), 101u);
}

}  // namespace
}  // namespace wattguard::api
