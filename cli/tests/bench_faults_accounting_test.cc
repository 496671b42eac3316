// bench faults' figures from hand-made books and samples: every count and the recovery time worked out by hand.
#include "cli/bench_faults_accounting.h"

#include <gtest/gtest.h>

namespace wattguard::cli {
namespace {

TEST(CountDrill, EveryReadingStoredOnceIsNothingLostNothingTwice) {
  const DrillCounts c = count_drill({{1, 3, {3, 1, 2}}, {1, 2, {1, 2}}});
  EXPECT_EQ(c.sent, 5u);
  EXPECT_EQ(c.stored, 5u);
  EXPECT_EQ(c.lost, 0u);
  EXPECT_EQ(c.stored_twice, 0u);
  EXPECT_EQ(c.unexpected, 0u);
}

TEST(CountDrill, MissingSequenceNumbersAreLostAndRepeatedRowsAreStoredTwice) {
  // Meter 1 made 1..5: 2 and 4 missing, 5 stored three times (two rows beyond the first).
  const DrillCounts c = count_drill({{1, 5, {1, 3, 5, 5, 5}}, {1, 1, {1, 1}}});
  EXPECT_EQ(c.sent, 6u);
  EXPECT_EQ(c.stored, 4u);
  EXPECT_EQ(c.lost, 2u);
  EXPECT_EQ(c.stored_twice, 3u);
}

TEST(CountDrill, RowsWithASequenceNoMeterMadeAreNotCountedAsStored) {
  // Seq 9 was never made (made 1..2): it must not hide the loss of seq 2.
  const DrillCounts c = count_drill({{1, 2, {1, 9}}});
  EXPECT_EQ(c.stored, 1u);
  EXPECT_EQ(c.lost, 1u);
  EXPECT_EQ(c.unexpected, 1u);
}

TEST(RecoveredAfter, IsTheStartOfTheLastCaughtUpRunAfterTheFaultsEnd) {
  // Fault ends at 10 s; the store trails by 30 at 11 s and 12 s, is within the lag of 5 from 13 s on.
  const std::vector<Sample> s = {{9, 100, 60},   {10, 110, 60},  {11, 120, 90},
                                 {12, 130, 100}, {13, 140, 136}, {14, 150, 150}};
  const auto r = recovered_after(s, 10, 0, 5);
  ASSERT_TRUE(r.has_value());
  EXPECT_DOUBLE_EQ(*r, 3.0);
}

TEST(RecoveredAfter, ASampleWithoutAnAnswerBreaksTheRun) {
  const std::vector<Sample> s = {{10, 100, 100}, {11, 110, std::nullopt}, {12, 120, 120}, {13, 130, 130}};
  const auto r = recovered_after(s, 10, 0, 0);
  ASSERT_TRUE(r.has_value());
  EXPECT_DOUBLE_EQ(*r, 2.0);
}

TEST(RecoveredAfter, LostReadingsDoNotHoldRecoveryBack) {
  // 20 readings were lost for good: a store 20 behind is caught up.
  const std::vector<Sample> s = {{10, 100, 50}, {11, 110, 90}, {12, 120, 100}};
  EXPECT_FALSE(recovered_after(s, 10, 0, 0).has_value());
  const auto r = recovered_after(s, 10, 20, 0);
  ASSERT_TRUE(r.has_value());
  EXPECT_DOUBLE_EQ(*r, 1.0);
}

TEST(RecoveredAfter, NeverCaughtUpOrNoSampleAfterTheEndIsNotRecovered) {
  EXPECT_FALSE(recovered_after({{11, 100, 10}, {12, 110, 20}}, 10, 0, 5).has_value());
  EXPECT_FALSE(recovered_after({{5, 100, 100}}, 10, 0, 0).has_value());
  EXPECT_FALSE(recovered_after({}, 10, 0, 0).has_value());
}

}  // namespace
}  // namespace wattguard::cli
