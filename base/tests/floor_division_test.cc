#include "wattguard/base/floor_division.h"

#include <gtest/gtest.h>

#include "wattguard/base/decimal_round.h"

namespace wattguard {
namespace {

TEST(FloorDivision, RoundsTowardsMinusInfinityForTimesBefore1970) {
  EXPECT_EQ(floor_div(-1, 86400), -1);
  EXPECT_EQ(floor_div(0, 86400), 0);
  EXPECT_EQ(floor_div(86399, 86400), 0);
  EXPECT_EQ(floor_mod(-1, 86400), 86399);
  EXPECT_EQ(floor_mod(86400, 86400), 0);
}

TEST(DecimalRound, PrintsShortDecimals) {
  EXPECT_EQ(round_to_step(0.049100000000000005, 1e-4), 0.0491);
  EXPECT_EQ(round_to_step(0.78056, 1e-4), 0.7806);
}

}  // namespace
}  // namespace wattguard
