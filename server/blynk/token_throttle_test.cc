// The per-address delay after wrong Blynk tokens.
#include "wattguard/blynk/token_throttle.h"

#include <gtest/gtest.h>

namespace wattguard::blynk {
namespace {

TEST(BlynkTokenThrottle, EachWrongTokenDoublesTheDelayOfItsAddressUpToTheCap) {
  TokenThrottle t(500, 4000);
  EXPECT_EQ(t.delay_ms("10.0.0.1", 0), 0);
  t.failed("10.0.0.1", 0);
  EXPECT_EQ(t.delay_ms("10.0.0.1", 1), 500);
  t.failed("10.0.0.1", 2);
  EXPECT_EQ(t.delay_ms("10.0.0.1", 3), 1000);
  for (int k = 0; k < 10; ++k) t.failed("10.0.0.1", 4);
  EXPECT_EQ(t.delay_ms("10.0.0.1", 5), 4000);
  EXPECT_EQ(t.delay_ms("10.0.0.2", 5), 0);  // other addresses are not slowed
}

TEST(BlynkTokenThrottle, FailuresAreForgottenAfterTenQuietMinutes) {
  TokenThrottle t(500, 30000);
  t.failed("10.0.0.1", 0);
  t.failed("10.0.0.1", 0);
  EXPECT_EQ(t.delay_ms("10.0.0.1", TokenThrottle::kForgetMs), 1000);
  EXPECT_EQ(t.delay_ms("10.0.0.1", TokenThrottle::kForgetMs + 1), 0);
  t.failed("10.0.0.1", TokenThrottle::kForgetMs + 2);
  EXPECT_EQ(t.delay_ms("10.0.0.1", TokenThrottle::kForgetMs + 3), 500);
}

}  // namespace
}  // namespace wattguard::blynk
