// Readings CSV -> integer interval energy: exact µWh, the file's own interval, gaps and errors as theft scan's.
#include "wattguard/billing/meter_energy.h"

#include <gtest/gtest.h>

#include "wattguard/billing/bill.h"
#include "wattguard/billing/tariff_toml.h"

namespace wattguard::billing {
namespace {

TEST(BillingMeterEnergy, KwhBecomeExactMicroWattHours) {
  auto meters = parse_meter_energy(
      "meter,time,kwh\nM1,2024-03-01T00:15:00+05:30,0.1\nM1,2024-03-01T00:30:00+05:30,1.234567891\n"
      "M1,2024-03-01T00:45:00+05:30,99999.999999999\nM2,2024-03-01T00:15:00+05:30,0.3\n",
      "r.csv");
  ASSERT_TRUE(meters.ok()) << meters.error().to_string();
  ASSERT_EQ(meters->size(), 2u);
  const MeterEnergy& m1 = (*meters)[0];
  EXPECT_EQ(m1.meter, "M1");
  EXPECT_EQ(m1.interval_s, 900);
  ASSERT_EQ(m1.intervals.size(), 3u);
  EXPECT_EQ(m1.intervals[0].energy_uwh, 100'000'000);
  EXPECT_EQ(m1.intervals[1].energy_uwh, 1'234'567'891);
  EXPECT_EQ(m1.intervals[2].energy_uwh, 99'999'999'999'999);
  // 2024-03-01T00:15+05:30 = 2024-02-29T18:45:00Z.
  EXPECT_EQ(m1.intervals[0].end_s, 1'709'232'300);
  // M2 shares the grid; where it has no row its intervals are missing.
  EXPECT_EQ((*meters)[1].intervals[0].energy_uwh, 300'000'000);
  EXPECT_EQ((*meters)[1].intervals[1].quality, IntervalQuality::kMissing);
}

TEST(BillingMeterEnergy, IntervalsFinerThanFifteenMinutesAreKeptForTheTodWindows) {
  auto meters =
      parse_meter_energy("meter,time,kwh\nM1,2024-03-01T22:05:00+05:30,1\nM1,2024-03-01T22:10:00+05:30,2\n", "r.csv");
  ASSERT_TRUE(meters.ok()) << meters.error().to_string();
  EXPECT_EQ(meters->front().interval_s, 300);
  EXPECT_EQ(meters->front().intervals.size(), 2u);
}

TEST(BillingMeterEnergy, AGapCoveredByTheRegisterIsEstimatedAndBilled) {
  // The register advances 3.0 kWh from 00:15 to 01:00 while 00:30 and 00:45 are absent: 1.0 kWh at 01:00 and
  // 2.0 spread over the gap.
  auto meters = parse_meter_energy(
      "meter,time,kwh,register_kwh\nM1,2024-03-01T00:15:00Z,1,100\nM1,2024-03-01T01:00:00Z,1,103\n"
      "M1,2024-03-01T01:15:00Z,1,104\n",
      "r.csv");
  ASSERT_TRUE(meters.ok()) << meters.error().to_string();
  const MeterEnergy& m = meters->front();
  ASSERT_EQ(m.intervals.size(), 5u);
  EXPECT_EQ(m.intervals[1].quality, IntervalQuality::kEstimated);
  EXPECT_EQ(m.intervals[2].quality, IntervalQuality::kEstimated);
  EXPECT_EQ(m.intervals[1].energy_uwh + m.intervals[2].energy_uwh, 2'000'000'000);
}

TEST(BillingMeterEnergy, BadRowsAreRefusedWithLineAndFieldAsTheftScanDoes) {
  auto bad = parse_meter_energy("meter,time,kwh\nM1,2024-03-01T00:15:00Z,-1\n", "r.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().source, "r.csv");
  EXPECT_EQ(bad.error().line, 2);
  EXPECT_EQ(bad.error().field, "kwh");
  auto missing = read_meter_energy("/nonexistent/readings.csv");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kIoError);
}

TEST(BillingMeterEnergy, ReadingsAtTheLastLocalMinuteGoToTheRightCycles) {
  // +05:30: the row at 18:30:00Z ends the interval 23:45-00:00 local of 31 March (March); 18:45:00Z ends the
  // first interval of April.
  auto meters =
      parse_meter_energy("meter,time,kwh\nM1,2024-03-31T18:30:00Z,1.5\nM1,2024-03-31T18:45:00Z,2.25\n", "r.csv");
  ASSERT_TRUE(meters.ok());
  const TariffBook book = parse_tariffs(
                              "[[tariff]]\nid = \"t\"\ncurrency = \"INR\"\ncycle = \"monthly\"\ntime_zone = "
                              "\"+05:30\"\nslab_mode = \"telescopic\"\nslabs = [ { rate = 1 } ]\nfixed_charge = "
                              "0\ntax_percent = 0\n",
                              "t.toml")
                              .value();
  auto bills = bill_meter(book, "t", meters->front());
  ASSERT_TRUE(bills.ok());
  ASSERT_EQ(bills->size(), 2u);
  EXPECT_EQ((*bills)[0].cycle.label(), "2024-03");
  EXPECT_EQ((*bills)[0].total_minor, 150);
  EXPECT_EQ((*bills)[1].cycle.label(), "2024-04");
  EXPECT_EQ((*bills)[1].total_minor, 225);
}

}  // namespace
}  // namespace wattguard::billing
