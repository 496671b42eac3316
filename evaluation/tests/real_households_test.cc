// The real-household export loader: its three layouts (NEM12 300 rows, the retailer's wide daily rows, one row
// per half-hour), the days it keeps, its errors, and a fuzz loop that must never crash.
#include "wattguard/evaluation/real_households.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>

#include "wattguard/test_support/text_damage.h"

namespace wattguard::evaluation {
namespace {

// Half-hour h of day d: a recognisable value (kWh, three decimals).
double value(int d, int h) { return 0.1 + 0.01 * d + 0.001 * h; }

std::string nem12(int days, int zero_days) {
  std::string s = "200,M1,E1E2,E1,E1,,CZ1,KWH,30,\n";
  char buf[32];
  for (int d = 0; d < zero_days + days; ++d) {
    std::snprintf(buf, sizeof buf, "300,201711%02d", 10 + d);
    s += buf;
    for (int h = 0; h < 48; ++h) {
      std::snprintf(buf, sizeof buf, ",%.3f", d < zero_days ? 0.0 : value(d - zero_days, h));
      s += buf;
    }
    s += ",A,,,\n";
  }
  return s;
}

std::string wide(int days) {
  std::string s = "NMI,METER SERIAL NUMBER,CON/GEN,DATE,ESTIMATED?";
  for (int h = 0; h < 48; ++h) s += ",slot";
  s += "\n";
  char buf[48];
  for (int d = 0; d < days; ++d) {
    std::snprintf(buf, sizeof buf, "6001,7625,Consumption,%d/6/19,No", 10 + d);
    s += buf;
    for (int h = 0; h < 48; ++h) {
      std::snprintf(buf, sizeof buf, ",%.3f", value(d, h));
      s += buf;
    }
    s += "\n";
  }
  return s;
}

std::string long_rows(int days, bool drop_one) {
  std::string s =
      "AccountNumber,NMI,DeviceNumber,DeviceType,RegisterCode,RateTypeDescription,StartDate,EndDate,"
      "ProfileReadValue,RegisterReadValue,QualityFlag\n";
  char buf[160];
  for (int d = 0; d < days; ++d) {
    for (int h = 0; h < 48; ++h) {
      if (drop_one && d == 2 && h == 7) continue;
      std::snprintf(buf, sizeof buf, "7046,6001,2296,MRIM,29641#E1,Generalusage,%d/9/18 %d:%02d,x,%.3f,0,A\n", 10 + d,
                    h / 2, (h % 2) * 30, value(d, h));
      s += buf;
    }
  }
  return s;
}

void expect_days(const RealHousehold& h, int days) {
  ASSERT_EQ(static_cast<int>(h.days.size()), days);
  for (int d = 0; d < days; ++d) {
    EXPECT_EQ(h.days[static_cast<size_t>(d)].day, h.days[0].day + d);
    for (int slot : {0, 17, 47}) {
      EXPECT_NEAR(h.days[static_cast<size_t>(d)].kwh[static_cast<size_t>(slot)], value(d, slot), 1e-6)
          << d << " " << slot;
    }
  }
}

TEST(RealHouseholds, Nem12DaysAfterGoLive) {
  auto h = parse_real_household(nem12(9, 3), "meter01");
  ASSERT_TRUE(h.ok()) << h.error().to_string();
  EXPECT_EQ(h.value().name, "meter01");
  expect_days(h.value(), 9);  // the three all-zero days before go-live are dropped
}

TEST(RealHouseholds, WideDailyRows) {
  auto h = parse_real_household(wide(8), "meter03");
  ASSERT_TRUE(h.ok()) << h.error().to_string();
  expect_days(h.value(), 8);
}

TEST(RealHouseholds, LongRowsKeepOnlyCompleteDays) {
  auto h = parse_real_household(long_rows(8, false), "meter04");
  ASSERT_TRUE(h.ok()) << h.error().to_string();
  expect_days(h.value(), 8);
  auto gap = parse_real_household(long_rows(9, true), "meter04");
  ASSERT_TRUE(gap.ok()) << gap.error().to_string();
  EXPECT_EQ(gap.value().days.size(), 8u);  // the day with a missing half-hour is left out
}

TEST(RealHouseholds, UnknownLayoutAndTooFewDaysAreNamed) {
  auto unknown = parse_real_household("meter,time,kwh\nm1,1700000000,0.2\n", "x");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().line, 1);
  EXPECT_NE(unknown.error().message.find("unrecognised"), std::string::npos);
  auto short_file = parse_real_household(nem12(5, 0), "y");
  ASSERT_FALSE(short_file.ok());
  EXPECT_NE(short_file.error().message.find("fewer than 7"), std::string::npos);
}

TEST(RealHouseholds, FuzzedExportsNeverCrash) {
  std::mt19937 rng(4242);
  const std::string bases[] = {nem12(8, 1), wide(8), long_rows(8, false)};
  const std::string alphabet = "0123456789,./: \n\"-eE300";
  int errors = 0, parsed = 0;
  for (int iter = 0; iter < 1500; ++iter) {
    const std::string text = test_support::damage_text(bases[iter % 3], rng, alphabet, 8);
    auto h = parse_real_household(text, "fuzz");
    if (!h.ok()) {
      ++errors;
      EXPECT_FALSE(h.error().to_string().empty());
      continue;
    }
    ++parsed;
    for (const auto& d : h.value().days) {
      for (float v : d.kwh) ASSERT_GE(v, 0.0f);
    }
  }
  EXPECT_GT(parsed, 100);
  EXPECT_GT(errors, 10);
}

}  // namespace
}  // namespace wattguard::evaluation
