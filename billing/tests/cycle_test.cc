// Billing cycles in a fixed UTC offset: month boundaries at local midnight, bimonthly pairs, offsets.
#include "wattguard/billing/cycle.h"

#include <gtest/gtest.h>

namespace wattguard::billing {
namespace {

constexpr int32_t kIst = 5 * 3600 + 30 * 60;  // +05:30
// 2024-03-31T18:30:00Z, local midnight starting 2024-04-01 in +05:30.
constexpr int64_t kAprilStartIst = 1'711'909'800;

TEST(BillingCycle, AMonthStartsAtLocalMidnightOfItsFirstDay) {
  EXPECT_EQ(local_midnight_s(2024, 4, 1, kIst), kAprilStartIst);
  EXPECT_EQ(local_midnight_s(2024, 4, 1, 0), kAprilStartIst + kIst);
  EXPECT_EQ(local_midnight_s(1970, 1, 1, 0), 0);
}

TEST(BillingCycle, TheLastSecondBeforeLocalMidnightIsInTheOldCycleAndMidnightInTheNew) {
  // 18:29:59Z on 31 March is 23:59:59 local: still March. 18:30:00Z is 00:00 on 1 April.
  const Cycle march = cycle_containing(kAprilStartIst - 1, CycleKind::kMonthly, kIst);
  const Cycle april = cycle_containing(kAprilStartIst, CycleKind::kMonthly, kIst);
  EXPECT_EQ(march.label(), "2024-03");
  EXPECT_EQ(april.label(), "2024-04");
  EXPECT_EQ(march.end_s, kAprilStartIst);
  EXPECT_EQ(april.start_s, kAprilStartIst);
  EXPECT_EQ(march.start_s, local_midnight_s(2024, 3, 1, kIst));
  // In UTC the same instants are both in March: the zone decides.
  EXPECT_EQ(cycle_containing(kAprilStartIst, CycleKind::kMonthly, 0).label(), "2024-03");
}

TEST(BillingCycle, NegativeOffsetsPutTheBoundaryAfterUtcMidnight) {
  const int32_t minus_0930 = -(9 * 3600 + 30 * 60);
  const int64_t april = local_midnight_s(2024, 4, 1, minus_0930);
  EXPECT_EQ(april, local_midnight_s(2024, 4, 1, 0) + 9 * 3600 + 30 * 60);
  EXPECT_EQ(cycle_containing(april - 1, CycleKind::kMonthly, minus_0930).label(), "2024-03");
  EXPECT_EQ(cycle_containing(april, CycleKind::kMonthly, minus_0930).label(), "2024-04");
}

TEST(BillingCycle, BimonthlyCyclesPairJanuaryWithFebruaryAndSoOn) {
  const Cycle c = cycle_containing(local_midnight_s(2024, 4, 20, kIst), CycleKind::kBimonthly, kIst);
  EXPECT_EQ(c.label(), "2024-03");
  EXPECT_EQ(c.months, 2);
  EXPECT_EQ(c.start_s, local_midnight_s(2024, 3, 1, kIst));
  EXPECT_EQ(c.end_s, local_midnight_s(2024, 5, 1, kIst));
  const Cycle nov = cycle_containing(local_midnight_s(2024, 12, 31, kIst), CycleKind::kBimonthly, kIst);
  EXPECT_EQ(nov.label(), "2024-11");
  EXPECT_EQ(nov.end_s, local_midnight_s(2025, 1, 1, kIst));
  EXPECT_EQ(next_cycle(nov, CycleKind::kBimonthly, kIst).label(), "2025-01");
}

TEST(BillingCycle, DecemberIsFollowedByJanuaryOfTheNextYear) {
  const Cycle dec = cycle_containing(local_midnight_s(2023, 12, 5, kIst), CycleKind::kMonthly, kIst);
  const Cycle jan = next_cycle(dec, CycleKind::kMonthly, kIst);
  EXPECT_EQ(jan.label(), "2024-01");
  EXPECT_EQ(jan.start_s, dec.end_s);
  // A leap February has 29 days.
  const Cycle feb = cycle_of_month("2024-02", CycleKind::kMonthly, kIst).value();
  EXPECT_EQ(feb.end_s - feb.start_s, 29 * 86'400);
}

TEST(BillingCycle, AMonthNamesTheCycleThatHoldsIt) {
  EXPECT_EQ(cycle_of_month("2024-04", CycleKind::kBimonthly, kIst).value().label(), "2024-03");
  EXPECT_EQ(cycle_of_month("2024-03", CycleKind::kBimonthly, kIst).value().label(), "2024-03");
  EXPECT_EQ(cycle_of_month("2024-04", CycleKind::kMonthly, kIst).value().label(), "2024-04");
  for (const char* bad : {"2024-13", "2024-00", "2024-4", "24-04", "2024/04", "", "2024-04-01", "0999-01"}) {
    EXPECT_FALSE(cycle_of_month(bad, CycleKind::kMonthly, kIst).ok()) << bad;
  }
}

TEST(BillingCycle, OnlyFixedOffsetsAreZones) {
  EXPECT_EQ(parse_utc_offset("+05:30").value(), kIst);
  EXPECT_EQ(parse_utc_offset("-09:30").value(), -(9 * 3600 + 30 * 60));
  EXPECT_EQ(parse_utc_offset("+05:45").value(), 5 * 3600 + 45 * 60);
  EXPECT_EQ(parse_utc_offset("+00:00").value(), 0);
  EXPECT_EQ(parse_utc_offset("+14:00").value(), 14 * 3600);
  for (const char* bad :
       {"Asia/Kolkata", "IST", "UTC", "Z", "+5:30", "+0530", "+05:31", "+14:15", "+15:00", "05:30", "+05:30 ", ""}) {
    EXPECT_FALSE(parse_utc_offset(bad).ok()) << bad;
  }
  EXPECT_EQ(format_utc_offset(kIst), "+05:30");
  EXPECT_EQ(format_utc_offset(-(9 * 3600 + 30 * 60)), "-09:30");
}

TEST(BillingCycle, TheMinuteOfTheDayIsLocal) {
  EXPECT_EQ(minute_of_day(kAprilStartIst, kIst), 0);
  EXPECT_EQ(minute_of_day(kAprilStartIst - 60, kIst), 1439);
  EXPECT_EQ(minute_of_day(kAprilStartIst, 0), 18 * 60 + 30);
  EXPECT_EQ(minute_of_day(-60, 0), 1439);  // before 1970 too
}

}  // namespace
}  // namespace wattguard::billing
