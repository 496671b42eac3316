// Tests of the readings CSV reader: valid files, interval inference, gap filling, aggregation, every kind of
// bad row (named by line, field and value), and a fuzz loop that must never crash.
#include "wattguard/analytics/readings_csv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "wattguard/test_support/text_damage.h"

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

TEST(ReadingsCsv, AcceptsCrlfBomQuotesCommentsAndZ) {
  const std::string text =
      "\xEF\xBB\xBFMeter, Time ,KWH\r\n"
      "# exported by hand\r\n"
      "\"M 1\",2024-01-01T00:15:00Z,1\r\n"
      "\r\n"
      "\"M 1\",2024-01-01 00:30Z,2.5e-1\r\n";
  auto r = parse_readings_csv(text);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r.value().count, 2);
  EXPECT_DOUBLE_EQ(r.value().find("M 1")->energy_kwh[1], 0.25);
}

struct BadCase {
  const char* text;
  int64_t line;
  const char* field;
  const char* value;
};

class ReadingsCsvBad : public ::testing::TestWithParam<BadCase> {};

TEST_P(ReadingsCsvBad, NamesLineFieldAndValue) {
  const BadCase& c = GetParam();
  ReadingsCsvOptions options;
  options.source = "R.csv";
  auto r = parse_readings_csv(c.text, options);
  ASSERT_FALSE(r.ok()) << c.text;
  EXPECT_EQ(r.error().source, "R.csv");
  EXPECT_EQ(r.error().line, c.line) << r.error().to_string();
  EXPECT_EQ(r.error().field, c.field) << r.error().to_string();
  EXPECT_EQ(r.error().value, c.value) << r.error().to_string();
  EXPECT_NE(r.error().to_string().find("R.csv"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Rows, ReadingsCsvBad,
    ::testing::Values(BadCase{"", 0, "header", ""}, BadCase{"meter,when,kwh\nA,1,1\n", 1, "header", "meter,when,kwh"},
                      BadCase{"meter,time,kwh\nA,1700000100,1\nA,1700001000\n", 3, "", "A,1700001000"},
                      BadCase{"meter,time,kwh\nA,1700000100,1\nA,yesterday,1\n", 3, "time", "yesterday"},
                      BadCase{"meter,time,kwh\nA,2024-01-01T00:15:00,1\n", 2, "time", "2024-01-01T00:15:00"},
                      BadCase{"meter,time,kwh\nA,2024-02-30T00:15:00Z,1\n", 2, "time", "2024-02-30T00:15:00Z"},
                      BadCase{"meter,time,kwh\nA,1700000100,-0.5\n", 2, "kwh", "-0.5"},
                      BadCase{"meter,time,kwh\nA,1700000100,nan\n", 2, "kwh", "nan"},
                      BadCase{"meter,time,kwh\nA,1700000100,inf\n", 2, "kwh", "inf"},
                      BadCase{"meter,time,kwh\nA,1700000100,\n", 2, "kwh", ""},
                      BadCase{"meter,time,kwh\n,1700000100,1\n", 2, "meter", ""},
                      BadCase{"meter,time,kwh\nA,1700000100,\"1\n", 2, "", "A,1700000100,\"1"},
                      BadCase{"meter,time,kwh,register_kwh\nA,1700000100,1,-3\n", 2, "register_kwh", "-3"},
                      BadCase{"meter,time,kwh\nA,1700000100,1\nA,1700001000,1\nA,1700000100,2\n", 4, "time",
                              "2023-11-14T22:15:00Z"},
                      BadCase{"meter,time,kwh\nA,1700000100,1\nA,1700001000,1\nA,1700001900,1\nB,1700000200,1\n", 5,
                              "time", "2023-11-14T22:16:40Z"}));

TEST(ReadingsCsv, RejectsUnsupportedInterval) {
  // 7-minute steps do not divide an hour.
  auto r = parse_readings_csv("meter,time,kwh\nA,1700000100,1\nA,1700000520,1\nA,1700000940,1\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "time");
  EXPECT_NE(r.error().message.find("interval"), std::string::npos);
}

TEST(ReadingsCsv, OneRowPerMeterFallsBackToFifteenMinutes) {
  // No meter has two rows: nothing to infer from, so the 15-minute default applies.
  auto r = parse_readings_csv("meter,time,kwh\nA,1709215200,0.5\nB,1709216100,0.75\n");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r.value().interval_s, 900);
  EXPECT_EQ(r.value().count, 2);
  const MeterSeries* b = r.value().find("B");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->quality[0], Quality::kMissing);
  EXPECT_DOUBLE_EQ(b->energy_kwh[1], 0.75);
}

TEST(ReadingsCsv, OneRowPerMeterOffTheFifteenMinuteGridIsRejected) {
  // B is 5 minutes off A's 900 s grid: a clear error naming B's line and the assumed default.
  auto r = parse_readings_csv("meter,time,kwh\nA,1709215200,0.5\nB,1709215500,0.75\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "time");
  EXPECT_EQ(r.error().line, 3);
  EXPECT_NE(r.error().message.find("900 s default"), std::string::npos) << r.error().to_string();
}

TEST(ReadingsCsv, RejectsAbsurdSpanInsteadOfAllocating) {
  auto r = parse_readings_csv("meter,time,kwh\nA,900,1\nA,1800,1\nA,99999999900,1\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("too large"), std::string::npos) << r.error().to_string();
}

TEST(ReadingsCsv, GapCoveredByRegisterIsSpreadAndMarkedFilled) {
  // Rows for intervals 0, 1, 4 and 5: the register says 1.2 kWh went through during intervals 2 and 3.
  const std::string text =
      "meter,time,kwh,register_kwh\n"
      "A,1700000100,0.1,100.1\n"
      "A,1700001000,0.2,100.3\n"
      "A,1700003700,0.3,101.8\n"
      "A,1700004600,0.1,101.9\n";
  auto r = parse_readings_csv(text);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const MeterSeries* a = r.value().find("A");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->quality[2], Quality::kFilled);
  EXPECT_EQ(a->quality[3], Quality::kFilled);
  EXPECT_NEAR(a->energy_kwh[2] + a->energy_kwh[3], 101.8 - 0.3 - 100.3, 1e-9);
  EXPECT_EQ(r.value().filled_intervals, 2);
  EXPECT_EQ(r.value().missing_intervals, 0);
}

TEST(ReadingsCsv, GapWithoutRegisterStaysMissingAndRollbackIsNoted) {
  const std::string text =
      "meter,time,kwh,register_kwh\n"
      "A,1700000100,0.1,100.1\n"
      "A,1700001000,0.2,\n"
      "A,1700002800,0.3,100.9\n"
      "A,1700003700,0.1,50.0\n";
  auto r = parse_readings_csv(text);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const MeterSeries* a = r.value().find("A");
  EXPECT_EQ(a->quality[2], Quality::kMissing);
  EXPECT_DOUBLE_EQ(a->energy_kwh[2], 0.0);
  EXPECT_TRUE(a->register_went_back);
}

TEST(ReadingsCsv, FiveMinuteDataIsSummedIntoQuarterHours) {
  std::string text = "meter,time,kwh\n";
  // 1700000100 is not on a 15-minute boundary: start at 1699999200 (a multiple of 900) + 300.
  for (int k = 1; k <= 7; ++k) text += "A," + std::to_string(1699999200 + 300 * k) + ",0.1\n";
  auto r = parse_readings_csv(text);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const Readings& g = r.value();
  EXPECT_EQ(g.interval_s, 900);
  EXPECT_EQ(g.source_interval_s, 300);
  ASSERT_EQ(g.count, 3);
  const MeterSeries* a = g.find("A");
  EXPECT_NEAR(a->energy_kwh[0], 0.3, 1e-12);
  EXPECT_EQ(a->quality[0], Quality::kMeasured);
  EXPECT_NEAR(a->energy_kwh[1], 0.3, 1e-12);
  EXPECT_EQ(a->quality[2], Quality::kMissing);  // only one of its three 5-minute parts is in the file
}

// Random damage to valid files: the reader must return a value or an Error, never crash or hang, and an Error
// must point at a line that exists.
TEST(ReadingsCsv, FuzzedInputNeverCrashes) {
  std::mt19937 rng(12345);
  std::string base = "meter,time,kwh,register_kwh\n";
  for (int k = 0; k < 12; ++k) {
    base += "M" + std::to_string(k % 3) + "," + std::to_string(1700000100 + 900 * (k / 3)) + "," +
            std::to_string(0.1 * k) + "," + std::to_string(100 + k) + "\n";
  }
  const std::string alphabet = "0123456789,.-+:TZ\"\n\r eE#nain";
  int ok = 0, errors = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    const std::string text = test_support::damage_text(base, rng, alphabet, 6);
    ReadingsCsvOptions options;
    options.max_cells = 200000;  // mutated times make huge spans; the guard must refuse them cheaply
    auto r = parse_readings_csv(text, options);
    if (r.ok()) {
      ++ok;
      for (const auto& m : r.value().meters) {
        ASSERT_EQ(static_cast<int64_t>(m.energy_kwh.size()), r.value().count);
        for (double v : m.energy_kwh) ASSERT_GE(v, 0.0);
      }
    } else {
      ++errors;
      const int64_t lines = static_cast<int64_t>(std::count(text.begin(), text.end(), '\n')) + 1;
      ASSERT_LE(r.error().line, lines);
      ASSERT_FALSE(r.error().message.empty());
    }
  }
  EXPECT_GT(errors, 100);  // the damage is real
  EXPECT_GT(ok, 10);       // and some damaged files are still valid
}

}  // namespace
}  // namespace wattguard::analytics
