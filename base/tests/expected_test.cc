#include "wattguard/base/expected.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace wattguard {
namespace {

Expected<int> parse_digit(char c) {
  if (c < '0' || c > '9') return Error::invalid("digit", std::string(1, c), "not a digit");
  return c - '0';
}

TEST(Expected, HoldsAValueOrAnError) {
  const auto good = parse_digit('7');
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 7);
  const auto bad = parse_digit('x');
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "digit");
  EXPECT_EQ(bad.error().value, "x");
}

TEST(Expected, MovesOutMoveOnlyValues) {
  Expected<std::unique_ptr<int>> e(std::make_unique<int>(3));
  std::unique_ptr<int> p = std::move(e).value();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 3);
}

TEST(Expected, VoidIsOkByDefaultAndCarriesAnErrorOtherwise) {
  const Expected<void> fine;
  EXPECT_TRUE(fine.ok());
  const Expected<void> failed = Error::io("disk full");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::kIoError);
}

}  // namespace
}  // namespace wattguard
