// Bills against hand-worked examples: slab boundaries (telescopic and volumetric), ToD windows, cycle
// boundaries in +05:30, bimonthly cycles, a tariff change mid-cycle, running bills and the rounding rule.
#include "wattguard/billing/bill.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "wattguard/billing/decimal.h"
#include "wattguard/billing/tariff_toml.h"

namespace wattguard::billing {
namespace {

constexpr int32_t kIst = 19'800;  // +05:30
constexpr int64_t kHour = 3600;

// The issue's tariff (INR, +05:30, slabs 100/300/500 kWh at 4.71/10.29/14.55/16.64, fixed 120.00, tax 16 %).
std::string tariff_toml(const std::string& mode, const std::string& extra = "", const std::string& cycle = "monthly",
                        const std::string& tax = "16.0") {
  return "[[tariff]]\nid = \"domestic\"\ncurrency = \"INR\"\ncycle = \"" + cycle +
         "\"\ntime_zone = \"+05:30\"\nslab_mode = \"" + mode +
         "\"\nslabs = [ { upto_kwh = 100, rate = 4.71 }, { upto_kwh = 300, rate = 10.29 }, { upto_kwh = 500, rate = "
         "14.55 }, { rate = 16.64 } ]\nfixed_charge = 120.0\ntax_percent = " +
         tax + "\n" + extra;
}
const std::string kNight = "tod = [ { from = \"22:00\", to = \"06:00\", factor = 0.8 } ]\n";

TariffBook book_of(const std::string& toml) {
  auto book = parse_tariffs(toml, "test.toml");
  EXPECT_TRUE(book.ok()) << book.error().to_string();
  return book.ok() ? std::move(book).value() : TariffBook{};
}

// Local time in +05:30.
int64_t ist(int year, int month, int day, int hour = 0, int minute = 0) {
  return local_midnight_s(year, month, day, kIst) + hour * kHour + minute * 60;
}

int64_t uwh(std::string_view kwh) { return parse_scaled_decimal(kwh, kEnergyDecimals).value(); }

// One meter's intervals of `interval_s`, given by their start and their kWh as decimal text.
MeterEnergy meter(std::vector<std::pair<int64_t, std::string>> starts_and_kwh, int64_t interval_s = kHour) {
  MeterEnergy m;
  m.meter = "M1";
  m.interval_s = interval_s;
  for (const auto& [start, kwh] : starts_and_kwh) m.intervals.push_back({start + interval_s, uwh(kwh)});
  return m;
}

Bill march_bill(const std::string& toml, const MeterEnergy& energy) {
  const TariffBook book = book_of(toml);
  auto bills = bill_meter(book, "domestic", energy, "2024-03");
  EXPECT_TRUE(bills.ok()) << bills.error().to_string();
  EXPECT_EQ(bills.ok() ? bills->size() : 0u, 1u);
  return bills.ok() && !bills->empty() ? bills->front() : Bill{};
}

// A line as (slab, kWh text, rate in paise x 1e6, amount in paise), for compact comparisons.
struct Line {
  size_t slab;
  std::string kwh;
  int64_t rate_e8;
  int64_t amount_minor;
  friend bool operator==(const Line&, const Line&) = default;
};
std::vector<Line> lines(const Bill& bill) {
  std::vector<Line> out;
  for (const BillLine& l : bill.lines) {
    out.push_back({l.slab, format_scaled_decimal(l.energy_uwh, kEnergyDecimals, 3), l.rate_e8, l.amount_minor});
  }
  return out;
}
void PrintTo(const Line& l, std::ostream* os) {
  *os << "{slab " << l.slab << ", " << l.kwh << " kWh, rate_e8 " << l.rate_e8 << ", " << l.amount_minor << "}";
}

// Rates per kWh in 1e-8 paise (the lines' unit): 4.71 INR = 471 paise.
constexpr int64_t kR1 = 47'100'000'000, kR2 = 102'900'000'000, kR3 = 145'500'000'000, kR4 = 166'400'000'000;

void expect_totals(const Bill& b, int64_t energy, int64_t fixed, int64_t tax, int64_t total) {
  EXPECT_EQ(b.energy_charge_minor, energy);
  EXPECT_EQ(b.fixed_charge_minor, fixed);
  EXPECT_EQ(b.tax_minor, tax);
  EXPECT_EQ(b.total_minor, total);
  EXPECT_EQ(b.energy_charge_minor + b.fixed_charge_minor + b.tax_minor, b.total_minor);
}

TEST(BillingSlabs, NoEnergyStillPaysTheFixedChargeAndItsTax) {
  // 0 kWh: no lines. fixed 120.00; tax 16 % of 120.00 = 19.20; total 139.20.
  const Bill b = march_bill(tariff_toml("telescopic"), meter({{ist(2024, 3, 10), "0"}}));
  EXPECT_TRUE(b.lines.empty());
  EXPECT_EQ(b.energy_uwh, 0);
  expect_totals(b, 0, 12'000, 1'920, 13'920);
}

TEST(BillingSlabs, ExactlyOneHundredKwhStaysInTheFirstSlab) {
  // 100 kWh x 4.71 = 471.00. subtotal 471.00 + 120.00 = 591.00; tax 16 % = 94.56; total 685.56.
  for (const char* mode : {"telescopic", "volumetric"}) {
    const Bill b = march_bill(tariff_toml(mode), meter({{ist(2024, 3, 10), "100"}}));
    EXPECT_EQ(lines(b), (std::vector<Line>{{0, "100.000", kR1, 47'100}})) << mode;
    expect_totals(b, 47'100, 12'000, 9'456, 68'556);
  }
}

TEST(BillingSlabs, OneWattHourMoreReachesTheSecondSlab) {
  // Telescopic, 100.001 kWh: 100 x 4.71 = 471.00; 0.001 x 10.29 = 0.01029 -> 0.01 (1.029 paise rounds to 1).
  // energy 471.01; subtotal 591.01; tax 16 % = 94.5616 -> 94.56; total 685.57.
  const Bill t = march_bill(tariff_toml("telescopic"), meter({{ist(2024, 3, 10), "100.001"}}));
  EXPECT_EQ(lines(t), (std::vector<Line>{{0, "100.000", kR1, 47'100}, {1, "0.001", kR2, 1}}));
  expect_totals(t, 47'101, 12'000, 9'456, 68'557);
  EXPECT_EQ(t.lines[1].from_uwh, uwh("100"));
  EXPECT_EQ(t.lines[1].to_uwh, uwh("300"));
  // Volumetric, 100.001 kWh: all at 10.29 = 1029.01029 -> 1029.01; subtotal 1149.01; tax 183.8416 -> 183.84;
  // total 1332.85.
  const Bill v = march_bill(tariff_toml("volumetric"), meter({{ist(2024, 3, 10), "100.001"}}));
  EXPECT_EQ(lines(v), (std::vector<Line>{{1, "100.001", kR2, 102'901}}));
  expect_totals(v, 102'901, 12'000, 18'384, 133'285);
}

TEST(BillingSlabs, TelescopicFillsEverySlabInTurn) {
  // 650 kWh: 100 x 4.71 = 471.00; 200 x 10.29 = 2058.00; 200 x 14.55 = 2910.00; 150 x 16.64 = 2496.00.
  // energy 7935.00; subtotal 8055.00; tax 1288.80; total 9343.80.
  const Bill b = march_bill(tariff_toml("telescopic"), meter({{ist(2024, 3, 10), "650"}}));
  EXPECT_EQ(lines(b), (std::vector<Line>{{0, "100.000", kR1, 47'100},
                                         {1, "200.000", kR2, 205'800},
                                         {2, "200.000", kR3, 291'000},
                                         {3, "150.000", kR4, 249'600}}));
  expect_totals(b, 793'500, 12'000, 128'880, 934'380);
  EXPECT_FALSE(b.lines[3].to_uwh.has_value());
  EXPECT_EQ(b.lines[3].from_uwh, uwh("500"));
}

TEST(BillingSlabs, TheIssuesHouseholdOfOneHundredAndFiftyKwh) {
  // Spread over three intervals (60 + 60 + 30): the second crosses 100 kWh and is split at the bound.
  // 100 x 4.71 = 471.00; 50 x 10.29 = 514.50; energy 985.50; subtotal 1105.50; tax 176.88; total 1282.38.
  const Bill b = march_bill(tariff_toml("telescopic"),
                            meter({{ist(2024, 3, 2), "60"}, {ist(2024, 3, 3), "60"}, {ist(2024, 3, 4), "30"}}));
  EXPECT_EQ(lines(b), (std::vector<Line>{{0, "100.000", kR1, 47'100}, {1, "50.000", kR2, 51'450}}));
  expect_totals(b, 98'550, 12'000, 17'688, 128'238);
}

TEST(BillingSlabs, VolumetricBillsEveryKwhAtTheSlabTheTotalReaches) {
  // 300 kWh reaches slab 2 exactly: 300 x 10.29 = 3087.00.
  const Bill at = march_bill(tariff_toml("volumetric"), meter({{ist(2024, 3, 10), "300"}}));
  EXPECT_EQ(lines(at), (std::vector<Line>{{1, "300.000", kR2, 308'700}}));
  // 300.5 kWh reaches slab 3: 300.5 x 14.55 = 4372.275 -> 4372.28 (a half paisa rounds up).
  // subtotal 4492.28; tax 16 % = 718.7648 -> 718.76; total 5211.04.
  const Bill over = march_bill(tariff_toml("volumetric"), meter({{ist(2024, 3, 10), "300.5"}}));
  EXPECT_EQ(lines(over), (std::vector<Line>{{2, "300.500", kR3, 437'228}}));
  expect_totals(over, 437'228, 12'000, 71'876, 521'104);
  // Volumetric with no energy: no lines, as telescopic.
  EXPECT_TRUE(march_bill(tariff_toml("volumetric"), meter({{ist(2024, 3, 10), "0"}})).lines.empty());
}

TEST(BillingSlabs, TaxIsRoundedOnceOnTheRoundedSubtotalHalfUp) {
  // 5 % tax, no fixed charge: 10 kWh x 4.71 = 47.10; tax 5 % of 4710 paise = 235.5 paise -> 236; total 49.46.
  std::string toml = tariff_toml("telescopic", "", "monthly", "5");
  toml.replace(toml.find("fixed_charge = 120.0"), 20, "fixed_charge = 0");
  const Bill b = march_bill(toml, meter({{ist(2024, 3, 10), "10"}}));
  expect_totals(b, 4'710, 0, 236, 4'946);
  // Each line is rounded once on its own. 100.0015 kWh telescopic: 100 x 4.71 = 471.00; 0.0015 x 10.29 = 0.015435 ->
  // 0.02 (1.5435 paise -> 2).
  const Bill c = march_bill(tariff_toml("telescopic"), meter({{ist(2024, 3, 10), "100.0015"}}));
  EXPECT_EQ(lines(c), (std::vector<Line>{{0, "100.000", kR1, 47'100}, {1, "0.0015", kR2, 2}}));
}

TEST(BillingTod, NightEnergyHasItsRateMultipliedAndTheWindowWrapsMidnight) {
  // Five one-hour intervals of 10 kWh starting 21:00, 22:00, 00:00, 05:00 and 06:00 local. The window
  // 22:00-06:00 holds the starts 22:00, 00:00 and 05:00: 30 kWh at 4.71 x 0.8 = 3.768; 20 kWh at 4.71.
  // 20 x 4.71 = 94.20; 30 x 3.768 = 113.04; energy 207.24; subtotal 327.24; tax 52.3584 -> 52.36; total 379.60.
  const Bill b = march_bill(tariff_toml("telescopic", kNight), meter({{ist(2024, 3, 10, 21), "10"},
                                                                      {ist(2024, 3, 10, 22), "10"},
                                                                      {ist(2024, 3, 11, 0), "10"},
                                                                      {ist(2024, 3, 11, 5), "10"},
                                                                      {ist(2024, 3, 11, 6), "10"}}));
  EXPECT_EQ(lines(b), (std::vector<Line>{{0, "20.000", kR1, 9'420}, {0, "30.000", 37'680'000'000, 11'304}}));
  EXPECT_EQ(b.lines[1].factor, 8'000);
  expect_totals(b, 20'724, 12'000, 5'236, 37'960);
}

TEST(BillingTod, AnIntervalIsInTheWindowOfItsStartInLocalTime) {
  // 15-minute intervals: the one from 21:45 to 22:00 is outside the window, the one from 05:45 to 06:00 inside.
  // In UTC, 22:00 local is 16:30Z: a window reckoned in UTC would put neither where it belongs.
  const Bill b = march_bill(tariff_toml("telescopic", kNight),
                            meter({{ist(2024, 3, 10, 21, 45), "1"}, {ist(2024, 3, 11, 5, 45), "2"}}, 900));
  EXPECT_EQ(lines(b), (std::vector<Line>{{0, "1.000", kR1, 471}, {0, "2.000", 37'680'000'000, 754}}));
  // 2 x 3.768 = 7.536 -> 7.54.
}

TEST(BillingTod, TheSlabBoundIsCrossedInTimeOrderAndEachKwhKeepsItsOwnFactor) {
  // 90 kWh at noon, then 20 kWh at 23:00 (night). Telescopic: the night's first 10 kWh finish slab 1 at
  // 3.768, the other 10 start slab 2 at 10.29 x 0.8 = 8.232.
  // 90 x 4.71 = 423.90; 10 x 3.768 = 37.68; 10 x 8.232 = 82.32; energy 543.90; subtotal 663.90;
  // tax 106.224 -> 106.22; total 770.12.
  const auto energy = meter({{ist(2024, 3, 10, 12), "90"}, {ist(2024, 3, 10, 23), "20"}});
  const Bill t = march_bill(tariff_toml("telescopic", kNight), energy);
  EXPECT_EQ(lines(t), (std::vector<Line>{{0, "90.000", kR1, 42'390},
                                         {0, "10.000", 37'680'000'000, 3'768},
                                         {1, "10.000", 82'320'000'000, 8'232}}));
  expect_totals(t, 54'390, 12'000, 10'622, 77'012);
  // Volumetric: 110 kWh reach slab 2: 90 x 10.29 = 926.10; 20 x 8.232 = 164.64; energy 1090.74;
  // subtotal 1210.74; tax 193.7184 -> 193.72; total 1404.46.
  const Bill v = march_bill(tariff_toml("volumetric", kNight), energy);
  EXPECT_EQ(lines(v), (std::vector<Line>{{1, "90.000", kR2, 92'610}, {1, "20.000", 82'320'000'000, 16'464}}));
  expect_totals(v, 109'074, 12'000, 19'372, 140'446);
}

TEST(BillingTod, WindowsWithTheSameFactorShareALineAndFactorOneComesFirst) {
  const std::string tod =
      "tod = [ { from = \"22:00\", to = \"06:00\", factor = 0.8 }, { from = \"13:00\", to = \"14:00\", factor = 0.8 },"
      " { from = \"18:00\", to = \"22:00\", factor = 1.25 } ]\n";
  const Bill b = march_bill(tariff_toml("telescopic", tod), meter({{ist(2024, 3, 10, 19), "1"},
                                                                   {ist(2024, 3, 10, 23), "1"},
                                                                   {ist(2024, 3, 11, 9), "1"},
                                                                   {ist(2024, 3, 11, 13), "1"}}));
  // Factor one (09:00), then 0.8 (23:00 and 13:00 together), then 1.25 (19:00): 4.71 x 1.25 = 5.8875.
  EXPECT_EQ(lines(b), (std::vector<Line>{{0, "1.000", kR1, 471},
                                         {0, "2.000", 37'680'000'000, 754},
                                         {0, "1.000", 58'875'000'000, 589}}));
}

TEST(BillingCycles, AnIntervalBelongsToTheCycleOfItsStartInTheTariffsZone) {
  const TariffBook book = book_of(tariff_toml("telescopic"));
  // 2024-03-31T18:30:00Z is midnight starting 1 April in +05:30.
  const int64_t april = ist(2024, 4, 1);
  // One-second resolution at the boundary: an interval starting 18:29:59Z is March's, one starting 18:30:00Z
  // April's.
  for (const auto& [start, label] : {std::pair{april - 1, "2024-03"}, std::pair{april, "2024-04"}}) {
    auto bills = bill_meter(book, "domestic", meter({{start, "1"}}, 60));
    ASSERT_TRUE(bills.ok());
    ASSERT_EQ(bills->size(), 1u);
    EXPECT_EQ(bills->front().cycle.label(), label);
  }
  // 15-minute readings (times are interval ends): the row at 18:30:00Z covers 23:45-00:00 on 31 March and is
  // March's; the row at 18:45:00Z is April's first.
  const auto energy = meter({{april - 900, "1"}, {april, "2"}}, 900);
  auto bills = bill_meter(book, "domestic", energy);
  ASSERT_TRUE(bills.ok());
  ASSERT_EQ(bills->size(), 2u);
  EXPECT_EQ((*bills)[0].cycle.label(), "2024-03");
  EXPECT_EQ((*bills)[0].energy_uwh, uwh("1"));
  EXPECT_EQ((*bills)[0].covered_to_s, april);
  EXPECT_EQ((*bills)[1].cycle.label(), "2024-04");
  EXPECT_EQ((*bills)[1].energy_uwh, uwh("2"));
  // Each cycle fills its slabs from zero.
  EXPECT_EQ((*bills)[1].lines.front().slab, 0u);
}

TEST(BillingCycles, ABimonthlyCycleBillsTwoMonthsAgainstOneSetOfSlabs) {
  const TariffBook book = book_of(tariff_toml("telescopic", "", "bimonthly"));
  // 80 kWh in March, 80 in April (one cycle: 100 at 4.71 + 60 at 10.29), 10 in May (the next cycle).
  auto bills = bill_meter(book, "domestic",
                          meter({{ist(2024, 3, 5), "80"}, {ist(2024, 4, 30, 23), "80"}, {ist(2024, 5, 1), "10"}}));
  ASSERT_TRUE(bills.ok());
  ASSERT_EQ(bills->size(), 2u);
  const Bill& b = (*bills)[0];
  EXPECT_EQ(b.cycle.label(), "2024-03");
  EXPECT_EQ(b.cycle.months, 2);
  // 100 x 4.71 = 471.00; 60 x 10.29 = 617.40; energy 1088.40; subtotal 1208.40; tax 193.344 -> 193.34;
  // total 1401.74.
  EXPECT_EQ(lines(b), (std::vector<Line>{{0, "100.000", kR1, 47'100}, {1, "60.000", kR2, 61'740}}));
  expect_totals(b, 108'840, 12'000, 19'334, 140'174);
  EXPECT_EQ((*bills)[1].cycle.label(), "2024-05");
  // --cycle names any month of the cycle.
  auto april = bill_meter(book, "domestic", meter({{ist(2024, 3, 5), "80"}}), "2024-04");
  ASSERT_TRUE(april.ok());
  ASSERT_EQ(april->size(), 1u);
  EXPECT_EQ(april->front().cycle.label(), "2024-03");
}

TEST(BillingVersions, TheVersionInForceAtTheCycleStartBillsTheWholeCycle) {
  // Version 2 from 15 March raises the first slab to 5.00: March keeps version 1 throughout, April has version 2.
  std::string v2 = tariff_toml("telescopic", "effective_from = 2024-03-15\n");
  v2.replace(v2.find("rate = 4.71"), 11, "rate = 5.00");
  const TariffBook book = book_of(tariff_toml("telescopic") + v2);
  const auto energy = meter({{ist(2024, 3, 10), "10"}, {ist(2024, 3, 20), "10"}, {ist(2024, 4, 2), "10"}});
  auto bills = bill_meter(book, "domestic", energy);
  ASSERT_TRUE(bills.ok()) << bills.error().to_string();
  ASSERT_EQ(bills->size(), 2u);
  // March: 20 x 4.71 = 94.20, both before and after the 15th.
  EXPECT_EQ((*bills)[0].tariff.effective_from, "");
  EXPECT_EQ(lines((*bills)[0]), (std::vector<Line>{{0, "20.000", kR1, 9'420}}));
  // April: 10 x 5.00 = 50.00.
  EXPECT_EQ((*bills)[1].tariff.effective_from, "2024-03-15");
  EXPECT_EQ((*bills)[1].tariff.version_name(), "domestic@2024-03-15");
  EXPECT_EQ(lines((*bills)[1]), (std::vector<Line>{{0, "10.000", 50'000'000'000, 5'000}}));
}

TEST(BillingVersions, AVersionStartingOnTheCycleStartBillsThatCycle) {
  std::string v2 = tariff_toml("telescopic", "effective_from = 2024-04-01\n");
  v2.replace(v2.find("rate = 4.71"), 11, "rate = 5.00");
  const TariffBook book = book_of(tariff_toml("telescopic") + v2);
  auto april = bill_meter(book, "domestic", meter({{ist(2024, 4, 1), "10"}}));
  ASSERT_TRUE(april.ok());
  EXPECT_EQ(april->front().tariff.effective_from, "2024-04-01");
  auto march = bill_meter(book, "domestic", meter({{ist(2024, 4, 1) - kHour, "10"}}));
  ASSERT_TRUE(march.ok());
  EXPECT_EQ(march->front().tariff.effective_from, "");
}

TEST(BillingVersions, ACycleBeforeTheFirstVersionCannotBeBilled) {
  const TariffBook book = book_of(tariff_toml("telescopic", "effective_from = 2024-03-15\n"));
  auto bills = bill_meter(book, "domestic", meter({{ist(2024, 3, 20), "10"}}));
  ASSERT_FALSE(bills.ok());
  EXPECT_EQ(bills.error().field, "cycle");
  EXPECT_EQ(bills.error().value, "2024-03");
  EXPECT_NE(bills.error().message.find("effective from 2024-03-15"), std::string::npos);
  auto april = bill_meter(book, "domestic", meter({{ist(2024, 4, 20), "10"}}));
  EXPECT_TRUE(april.ok());
}

TEST(BillingRunning, ABillOfReadingsThatEndMidCycleIsARunningBill) {
  const MeterEnergy energy = meter({{ist(2024, 3, 1), "40"}, {ist(2024, 3, 15, 9), "20"}});
  const Bill b = march_bill(tariff_toml("telescopic"), energy);
  EXPECT_TRUE(b.running());
  EXPECT_FALSE(b.starts_late());
  EXPECT_EQ(b.covered_from_s, ist(2024, 3, 1));
  EXPECT_EQ(b.covered_to_s, ist(2024, 3, 15, 10));
  // The slab position so far and the whole cycle's fixed charge: 60 x 4.71 = 282.60.
  expect_totals(b, 28'260, 12'000, 6'442, 46'702);
  EXPECT_EQ(b.measured_intervals, 2);
}

TEST(BillingRunning, MissingAndEstimatedIntervalsAreCountedAndMissingOnesAddNothing) {
  // Missing at 00:00, measured 01:00, missing 02:00, estimated 03:00, missing 04:00: one gap between known
  // intervals; the missing ones before the first and after the last only narrow the coverage.
  MeterEnergy energy = meter({{ist(2024, 3, 1), "0"},
                              {ist(2024, 3, 1, 1), "1"},
                              {ist(2024, 3, 1, 2), "0"},
                              {ist(2024, 3, 1, 3), "2"},
                              {ist(2024, 3, 1, 4), "0"}});
  for (size_t i : {0, 2, 4}) energy.intervals[i].quality = IntervalQuality::kMissing;
  energy.intervals[3].quality = IntervalQuality::kEstimated;
  const Bill b = march_bill(tariff_toml("telescopic"), energy);
  EXPECT_EQ(b.energy_uwh, uwh("3"));
  EXPECT_EQ(b.measured_intervals, 1);
  EXPECT_EQ(b.estimated_intervals, 1);
  EXPECT_EQ(b.missing_intervals, 1);
  EXPECT_EQ(b.covered_from_s, ist(2024, 3, 1, 1));
  EXPECT_EQ(b.covered_to_s, ist(2024, 3, 1, 4));
  EXPECT_TRUE(b.starts_late());
}

TEST(BillingMeter, AMeterWithoutKnownEnergyHasNoBill) {
  const TariffBook book = book_of(tariff_toml("telescopic"));
  MeterEnergy energy = meter({{ist(2024, 3, 1), "0"}});
  energy.intervals[0].quality = IntervalQuality::kMissing;
  EXPECT_TRUE(bill_meter(book, "domestic", energy).value().empty());
  EXPECT_TRUE(bill_meter(book, "domestic", meter({{ist(2024, 3, 1), "5"}}), "2024-05").value().empty());
}

TEST(BillingMeter, AnUnknownTariffOrAMalformedCycleIsAnError) {
  const TariffBook book = book_of(tariff_toml("telescopic"));
  auto unknown = bill_meter(book, "commercial", meter({{ist(2024, 3, 1), "5"}}));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().field, "tariff");
  auto bad = bill_meter(book, "domestic", meter({{ist(2024, 3, 1), "5"}}), "March");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "cycle");
  EXPECT_EQ(bad.error().value, "March");
}

TEST(BillingMeter, EnergyBeyond64BitsIsAnErrorNotAnOverflow) {
  const TariffBook book = book_of(tariff_toml("telescopic"));
  MeterEnergy energy = meter({{ist(2024, 3, 1), "0"}, {ist(2024, 3, 2), "0"}});
  energy.intervals[0].energy_uwh = INT64_MAX / 2 + 1;
  energy.intervals[1].energy_uwh = INT64_MAX / 2 + 1;
  auto bills = bill_meter(book, "domestic", energy);
  ASSERT_FALSE(bills.ok());
  EXPECT_EQ(bills.error().reason, "amount_too_large");
}

}  // namespace
}  // namespace wattguard::billing
