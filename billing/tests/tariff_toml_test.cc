// Tariff TOML: the issue's example read exactly, versions, and every bad tariff refused with its line and field.
#include "wattguard/billing/tariff_toml.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "wattguard/test_support/temp_dir.h"

namespace wattguard::billing {
namespace {

// The issue's tariff, one key per line so each line number below is obvious.
const std::string kDomestic = R"([[tariff]]
id = "domestic"
currency = "INR"
cycle = "monthly"
time_zone = "+05:30"
slab_mode = "telescopic"
slabs = [ { upto_kwh = 100, rate = 4.71 }, { upto_kwh = 300, rate = 10.29 },
          { upto_kwh = 500, rate = 14.55 }, { rate = 16.64 } ]
fixed_charge = 120.0
tax_percent = 16.0
tod = [ { from = "22:00", to = "06:00", factor = 0.8 } ]
)";

// `base` with its 1-based line `line` replaced by `text`. REQUIRES: base ends with a newline.
std::string replace_line(const std::string& base, int line, const std::string& text) {
  std::string out;
  size_t start = 0;
  for (int n = 1; start < base.size(); ++n) {
    const size_t end = base.find('\n', start);
    out += (n == line ? text : base.substr(start, end - start)) + "\n";
    start = end + 1;
  }
  return out;
}

// kDomestic with one line replaced (lines 7-8 hold the slabs, 11 the ToD windows).
std::string with_line(int line, const std::string& text) { return replace_line(kDomestic, line, text); }

Error refused(const std::string& text) {
  auto book = parse_tariffs(text, "tariffs.toml");
  EXPECT_FALSE(book.ok()) << "accepted:\n" << text;
  return book.ok() ? Error{} : book.error();
}

// The error names the file, the line and the field, and its message says what is wrong.
void expect_refused(const std::string& text, int64_t line, const std::string& field, const std::string& words) {
  const Error e = refused(text);
  EXPECT_EQ(e.code, ErrorCode::kInvalidInput) << e.to_string();
  EXPECT_EQ(e.source, "tariffs.toml");
  EXPECT_EQ(e.line, line) << e.to_string();
  EXPECT_EQ(e.field, field) << e.to_string();
  EXPECT_NE(e.message.find(words), std::string::npos) << e.to_string();
}

TEST(BillingTariffToml, TheIssuesExampleIsReadIntoExactIntegers) {
  auto book = parse_tariffs(kDomestic, "tariffs.toml");
  ASSERT_TRUE(book.ok()) << book.error().to_string();
  ASSERT_EQ(book->versions.size(), 1u);
  const Tariff& t = book->versions[0];
  EXPECT_EQ(t.id, "domestic");
  EXPECT_EQ(t.currency, "INR");
  EXPECT_EQ(t.minor_digits, 2);
  EXPECT_EQ(t.cycle, CycleKind::kMonthly);
  EXPECT_EQ(t.utc_offset_s, 19'800);
  EXPECT_EQ(t.slab_mode, SlabMode::kTelescopic);
  ASSERT_EQ(t.slabs.size(), 4u);
  // Rates in 1e-4 paise per kWh; bounds in µWh.
  EXPECT_EQ(t.slabs[0].rate, 4'710'000);
  EXPECT_EQ(t.slabs[1].rate, 10'290'000);
  EXPECT_EQ(t.slabs[2].rate, 14'550'000);
  EXPECT_EQ(t.slabs[3].rate, 16'640'000);
  EXPECT_EQ(t.slabs[0].upto_uwh, 100 * kUwhPerKwh);
  EXPECT_EQ(t.slabs[1].upto_uwh, 300 * kUwhPerKwh);
  EXPECT_EQ(t.slabs[2].upto_uwh, 500 * kUwhPerKwh);
  EXPECT_FALSE(t.slabs[3].upto_uwh.has_value());
  EXPECT_EQ(t.fixed_charge_minor, 12'000);
  EXPECT_EQ(t.tax_percent, 160'000);
  ASSERT_EQ(t.tod.size(), 1u);
  EXPECT_EQ(t.tod[0].from_minute, 22 * 60);
  EXPECT_EQ(t.tod[0].to_minute, 6 * 60);
  EXPECT_EQ(t.tod[0].factor, 8'000);
  EXPECT_EQ(t.tod[0].label(), "22:00-06:00");
  EXPECT_EQ(t.line, 1);
  EXPECT_TRUE(t.effective_from.empty());
  EXPECT_EQ(book->ids(), std::vector<std::string>{"domestic"});
}

TEST(BillingTariffToml, RatesWhoseDoubleIsInexactStayExact) {
  // 0.1, 0.7 and 1.15 have no exact binary value; a rate read through a double could be off by one unit.
  const std::string slabs =
      "slabs = [ { upto_kwh = 0.1, rate = 0.7 }, { upto_kwh = 100.000000001, rate = 1.15 }, { upto_kwh = 1_000, rate "
      "= 1.005e1 },";
  auto book = parse_tariffs(replace_line(with_line(7, slabs), 8, "          { rate = 16.64 } ]"), "tariffs.toml");
  ASSERT_TRUE(book.ok()) << book.error().to_string();
  const Tariff& t = book->versions[0];
  EXPECT_EQ(t.slabs[0].upto_uwh, 100'000'000);
  EXPECT_EQ(t.slabs[0].rate, 700'000);
  EXPECT_EQ(t.slabs[1].upto_uwh, 100'000'000'001);
  EXPECT_EQ(t.slabs[1].rate, 1'150'000);
  EXPECT_EQ(t.slabs[2].upto_uwh, 1'000'000'000'000);
  EXPECT_EQ(t.slabs[2].rate, 10'050'000);
}

TEST(BillingTariffToml, IntegersAndDatesAreAcceptedWhereNumbersAndDatesGo) {
  auto integer = parse_tariffs(with_line(9, "fixed_charge = 120"), "tariffs.toml");
  ASSERT_TRUE(integer.ok()) << integer.error().to_string();
  EXPECT_EQ(integer->versions[0].fixed_charge_minor, 12'000);
  auto ok = parse_tariffs(with_line(10, "tax_percent = 0\neffective_from = 2024-04-01"), "tariffs.toml");
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_EQ(ok->versions[0].tax_percent, 0);
  EXPECT_EQ(ok->versions[0].effective_from, "2024-04-01");
  // 2024-04-01T00:00+05:30 = 2024-03-31T18:30:00Z.
  EXPECT_EQ(ok->versions[0].effective_from_s, 1'711'909'800);
  auto quoted = parse_tariffs(with_line(10, "tax_percent = 0\neffective_from = \"2024-04-01\""), "tariffs.toml");
  ASSERT_TRUE(quoted.ok()) << quoted.error().to_string();
  EXPECT_EQ(quoted->versions[0].effective_from_s, 1'711'909'800);
}

TEST(BillingTariffToml, VersionsOfOneIdAreSortedByTheirStartAndLookedUpByInstant) {
  const std::string text = with_line(10, "tax_percent = 16.0\neffective_from = 2024-04-15") + "\n" + kDomestic +
                           "\n[[tariff]]\nid = \"flat\"\ncurrency = \"USD\"\ncycle = \"bimonthly\"\ntime_zone = "
                           "\"-05:00\"\nslab_mode = \"volumetric\"\nslabs = [ { rate = 0.15 } ]\nfixed_charge = "
                           "9.99\ntax_percent = 0\n";
  auto book = parse_tariffs(text, "tariffs.toml");
  ASSERT_TRUE(book.ok()) << book.error().to_string();
  ASSERT_EQ(book->versions.size(), 3u);
  EXPECT_EQ(book->ids(), (std::vector<std::string>{"domestic", "flat"}));
  EXPECT_EQ(book->versions[0].effective_from, "");
  EXPECT_EQ(book->versions[0].line, 14);
  EXPECT_EQ(book->versions[1].effective_from, "2024-04-15");
  EXPECT_EQ(book->versions[1].version_name(), "domestic@2024-04-15");
  const int64_t april_15 = local_midnight_s(2024, 4, 15, 19'800);
  EXPECT_EQ(book->in_force("domestic", april_15 - 1), &book->versions[0]);
  EXPECT_EQ(book->in_force("domestic", april_15), &book->versions[1]);
  EXPECT_EQ(book->in_force("flat", 0), &book->versions[2]);
  EXPECT_EQ(book->in_force("other", 0), nullptr);
  EXPECT_EQ(book->versions[2].slabs[0].rate, 150'000);  // 0.15 USD = 15 cents = 150'000 1e-4 cents
  EXPECT_EQ(book->versions[2].fixed_charge_minor, 999);
}

TEST(BillingTariffToml, OverlappingOrUnorderedSlabsAreRefusedAtTheirLine) {
  expect_refused(with_line(7, "slabs = [ { upto_kwh = 100, rate = 4.71 }, { upto_kwh = 80, rate = 10.29 },"), 7,
                 "slabs[1].upto_kwh", "increasing order");
  expect_refused(with_line(7, "slabs = [ { upto_kwh = 100, rate = 4.71 }, { upto_kwh = 100, rate = 10.29 },"), 7,
                 "slabs[1].upto_kwh", "increasing order");
  expect_refused(with_line(8, "          { upto_kwh = 250, rate = 14.55 }, { rate = 16.64 } ]"), 8, "slabs[2].upto_kwh",
                 "not above the previous slab's 300 kWh");
  expect_refused(with_line(7, "slabs = [ { upto_kwh = 100, rate = 4.71 }, { rate = 10.29 },"), 7, "slabs[1].upto_kwh",
                 "only the last slab may leave out upto_kwh");
  expect_refused(with_line(8, "          { upto_kwh = 500, rate = 14.55 }, { upto_kwh = 900, rate = 16.64 } ]"), 8,
                 "slabs[3].upto_kwh", "the last slab must leave out upto_kwh");
  expect_refused(with_line(7, "slabs = [ { upto_kwh = 0, rate = 4.71 }, { upto_kwh = 300, rate = 10.29 },"), 7,
                 "slabs[0].upto_kwh", "above 0 kWh");
  expect_refused(with_line(7, "slabs = [ { upto_kwh = 0.0000000001, rate = 4.71 }, { upto_kwh = 300, rate = 10.29 },"),
                 7, "slabs[0].upto_kwh", "more than 9 digits");
  expect_refused(with_line(7, "slabs = [ { upto = 100, rate = 4.71 }, { upto_kwh = 300, rate = 10.29 },"), 7,
                 "slabs[0].upto", "unknown key in a slab");
  expect_refused(with_line(7, "slabs = [ { upto_kwh = \"100\", rate = 4.71 }, { upto_kwh = 300, rate = 10.29 },"), 7,
                 "slabs[0].upto_kwh", "must be a number");
  expect_refused(with_line(7, "slabs = [ 4.71, { upto_kwh = 300, rate = 10.29 },"), 7, "slabs[0]", "must be a table");
  expect_refused(replace_line(with_line(8, ""), 7, "slabs = []"), 7, "slabs", "at least one slab");
  expect_refused(replace_line(with_line(8, ""), 7, "slabs = 4.71"), 7, "slabs", "must be an array");
}

TEST(BillingTariffToml, NegativeOrMissingOrOverPreciseRatesAreRefused) {
  expect_refused(with_line(8, "          { upto_kwh = 500, rate = -14.55 }, { rate = 16.64 } ]"), 8, "slabs[2].rate",
                 "must not be negative");
  expect_refused(with_line(8, "          { upto_kwh = 500, rate = 14.55 }, { rate = -1 } ]"), 8, "slabs[3].rate",
                 "must not be negative");
  expect_refused(with_line(8, "          { upto_kwh = 500 }, { rate = 16.64 } ]"), 8, "slabs[2].rate",
                 "missing: every slab needs a rate");
  // Six decimals (1e-4 paise) are kept; a seventh would be rounded away, so it is refused.
  expect_refused(with_line(8, "          { upto_kwh = 500, rate = 14.5500001 }, { rate = 16.64 } ]"), 8,
                 "slabs[2].rate", "more than 6 digits after the decimal point");
  expect_refused(with_line(8, "          { upto_kwh = 500, rate = 14.55 }, { rate = 200000 } ]"), 8, "slabs[3].rate",
                 "not plausible");
  expect_refused(with_line(8, "          { upto_kwh = 500, rate = 14.55 }, { rate = inf } ]"), 8, "slabs[3].rate",
                 "finite");
  expect_refused(with_line(8, "          { upto_kwh = 500, rate = 14.55 }, { rate = nan } ]"), 8, "slabs[3].rate",
                 "finite");
}

TEST(BillingTariffToml, AnUnknownCurrencyIsRefused) {
  expect_refused(with_line(3, "currency = \"XYZ\""), 3, "currency", "unknown currency");
  expect_refused(with_line(3, "currency = \"inr\""), 3, "currency", "unknown currency");
  expect_refused(with_line(3, "currency = \"XAU\""), 3, "currency", "unknown currency");  // gold has no minor unit
  expect_refused(with_line(3, "currency = \"Rs\""), 3, "currency", "unknown currency");
  expect_refused(with_line(3, "currency = 356"), 3, "currency", "must be a string");
  expect_refused(with_line(3, ""), 1, "currency", "missing");
}

TEST(BillingTariffToml, CurrenciesSetTheDecimalsOfTheirAmounts) {
  // JPY has no minor unit: a fixed charge of 120.5 yen cannot be billed.
  expect_refused(replace_line(with_line(3, "currency = \"JPY\""), 9, "fixed_charge = 120.5"), 9, "fixed_charge",
                 "more than 0 digits");
  auto kwd = parse_tariffs(replace_line(with_line(3, "currency = \"KWD\""), 9, "fixed_charge = 0.125"), "tariffs.toml");
  ASSERT_TRUE(kwd.ok()) << kwd.error().to_string();
  EXPECT_EQ(kwd->versions[0].minor_digits, 3);
  EXPECT_EQ(kwd->versions[0].fixed_charge_minor, 125);
  EXPECT_EQ(kwd->versions[0].slabs[0].rate, 47'100'000);  // 4.71 KWD = 4710 fils = 47'100'000 1e-4 fils
  expect_refused(with_line(9, "fixed_charge = 120.001"), 9, "fixed_charge", "INR has 2 decimals");
  expect_refused(with_line(9, "fixed_charge = -1"), 9, "fixed_charge", "between 0 and");
}

TEST(BillingTariffToml, AZoneThatIsNotAFixedOffsetIsRefused) {
  for (const char* zone : {"Asia/Kolkata", "IST", "UTC", "+5:30", "+0530", "+05:31", "+15:00"}) {
    expect_refused(with_line(5, std::string("time_zone = \"") + zone + "\""), 5, "time_zone", "offset");
  }
  expect_refused(with_line(5, "time_zone = 5.5"), 5, "time_zone", "must be a string");
}

TEST(BillingTariffToml, BadTimeOfDayWindowsAreRefused) {
  expect_refused(with_line(11, "tod = [ { from = \"25:00\", to = \"06:00\", factor = 0.8 } ]"), 11, "tod[0].from",
                 "between 00:00 and 23:59");
  expect_refused(with_line(11, "tod = [ { from = \"22:00\", to = \"6:00\", factor = 0.8 } ]"), 11, "tod[0].to",
                 "HH:MM");
  expect_refused(with_line(11, "tod = [ { from = \"22:00\", to = \"22:00\", factor = 0.8 } ]"), 11, "tod[0].to",
                 "must not be empty or the whole day");
  expect_refused(with_line(11, "tod = [ { from = \"22:00\", to = \"06:00\", factor = -0.8 } ]"), 11, "tod[0].factor",
                 "between 0 and 10");
  expect_refused(with_line(11, "tod = [ { from = \"22:00\", to = \"06:00\", factor = 0.81234 } ]"), 11, "tod[0].factor",
                 "more than 4 digits");
  expect_refused(with_line(11, "tod = [ { from = \"22:00\", to = \"06:00\" } ]"), 11, "tod[0].factor", "missing");
  expect_refused(with_line(11, "tod = [ { from = \"22:00\", to = \"06:00\", factor = 0.8, days = \"all\" } ]"), 11,
                 "tod[0].days", "unknown key");
  expect_refused(with_line(11, "tod = [ { from = 2200, to = \"06:00\", factor = 0.8 } ]"), 11, "tod[0].from",
                 "must be a string");
  // Overlaps, the wrapping window included; windows that only touch are fine.
  expect_refused(with_line(11,
                           "tod = [ { from = \"22:00\", to = \"06:00\", factor = 0.8 },\n"
                           "        { from = \"05:00\", to = \"09:00\", factor = 1.2 } ]"),
                 12, "tod[1]", "overlaps tod[0] (22:00-06:00, line 11)");
  expect_refused(with_line(11,
                           "tod = [ { from = \"18:00\", to = \"23:00\", factor = 1.2 },\n"
                           "        { from = \"22:00\", to = \"06:00\", factor = 0.8 } ]"),
                 12, "tod[1]", "overlaps tod[0]");
  auto touching = parse_tariffs(with_line(11,
                                          "tod = [ { from = \"22:00\", to = \"06:00\", factor = 0.8 },\n"
                                          "        { from = \"18:00\", to = \"22:00\", factor = 1.25 },\n"
                                          "        { from = \"06:00\", to = \"24:00\", factor = 1 } ]"),
                                "tariffs.toml");
  EXPECT_FALSE(touching.ok());  // 06:00-24:00 overlaps 18:00-22:00
  auto fine = parse_tariffs(with_line(11,
                                      "tod = [ { from = \"22:00\", to = \"06:00\", factor = 0.8 },\n"
                                      "        { from = \"18:00\", to = \"22:00\", factor = 1.25 },\n"
                                      "        { from = \"06:00\", to = \"18:00\", factor = 1 } ]"),
                            "tariffs.toml");
  ASSERT_TRUE(fine.ok()) << fine.error().to_string();
  EXPECT_EQ(fine->versions[0].tod.size(), 3u);
  // A window ending at midnight may say "00:00" or "24:00": either ends the day (to_minute 1440, never 0).
  for (const std::string end : {"00:00", "24:00"}) {
    auto midnight = parse_tariffs(with_line(11, "tod = [ { from = \"02:00\", to = \"" + end + "\", factor = 5 } ]"),
                                  "tariffs.toml");
    ASSERT_TRUE(midnight.ok()) << midnight.error().to_string();
    EXPECT_EQ(midnight->versions[0].tod[0].from_minute, 120);
    EXPECT_EQ(midnight->versions[0].tod[0].to_minute, 1440) << end;
  }
  expect_refused(with_line(11, "tod = [ { from = \"00:00\", to = \"00:00\", factor = 0.8 } ]"), 11, "tod[0].to",
                 "must not be empty or the whole day");
}

TEST(BillingTariffToml, OtherBadKeysAreRefusedWithTheirLineAndField) {
  expect_refused(with_line(4, "cycle = \"weekly\""), 4, "cycle", "\"monthly\" or \"bimonthly\"");
  expect_refused(with_line(6, "slab_mode = \"progressive\""), 6, "slab_mode", "\"telescopic\" or \"volumetric\"");
  expect_refused(with_line(10, "tax_percent = 150"), 10, "tax_percent", "between 0 and 100");
  expect_refused(with_line(10, "tax = 16"), 10, "tax", "unknown key in [[tariff]]");
  expect_refused(with_line(10, ""), 1, "tax_percent", "missing");
  expect_refused(with_line(9, ""), 1, "fixed_charge", "missing");
  expect_refused(with_line(2, "id = \"dom estic\""), 2, "id", "letters, digits");
  expect_refused(with_line(2, ""), 1, "id", "missing");
  expect_refused(with_line(10, "tax_percent = 16\neffective_from = \"2024-02-30\""), 11, "effective_from", "date");
  expect_refused(with_line(10, "tax_percent = 16\neffective_from = 2024-04-01T00:00:00"), 11, "effective_from", "date");
  expect_refused(with_line(10, "tax_percent = 16\neffective_from = \"1st April\""), 11, "effective_from", "date");
  expect_refused("name = \"x\"\n" + kDomestic, 1, "name", "[[tariff]] tables only");
  expect_refused("tariff = \"domestic\"\n", 1, "tariff", "[[tariff]]");
  expect_refused("", 0, "tariff", "no [[tariff]] table");
}

TEST(BillingTariffToml, VersionsMustLineUpAndStartOnDifferentDates) {
  expect_refused(kDomestic + kDomestic, 12, "effective_from", "already has a first version (line 1)");
  const std::string v2 = with_line(10, "tax_percent = 16.0\neffective_from = 2024-04-01");
  expect_refused(v2 + v2, 13, "effective_from", "already has a version effective from this date");
  expect_refused(kDomestic + replace_line(v2, 3, "currency = \"USD\""), 12, "currency", "must keep currency INR");
  expect_refused(kDomestic + replace_line(v2, 5, "time_zone = \"+05:45\""), 12, "time_zone",
                 "must keep time_zone +05:30");
  expect_refused(kDomestic + replace_line(v2, 4, "cycle = \"bimonthly\""), 12, "cycle", "must keep cycle monthly");
}

TEST(BillingTariffToml, ASyntaxErrorNamesItsLine) {
  const Error e = refused(with_line(9, "fixed_charge = = 120"));
  EXPECT_EQ(e.line, 9);
  EXPECT_EQ(e.source, "tariffs.toml");
  EXPECT_FALSE(e.message.empty());
}

TEST(BillingTariffToml, AFileIsReadOrItsAbsenceIsAnIoError) {
  test_support::TempDir dir("billing");
  const std::string path = dir.file("tariffs.toml");
  std::ofstream(path) << kDomestic;
  auto book = read_tariff_file(path);
  ASSERT_TRUE(book.ok()) << book.error().to_string();
  EXPECT_EQ(book->versions[0].source, path);
  auto missing = read_tariff_file(dir.file("none.toml"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kIoError);
}

}  // namespace
}  // namespace wattguard::billing
