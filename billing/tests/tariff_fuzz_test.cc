// Damaged tariff text never crashes the reader and never yields a half-read tariff: an Error, or a tariff that
// keeps every rule.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "wattguard/billing/tariff_toml.h"
#include "wattguard/test_support/text_damage.h"

namespace wattguard::billing {
namespace {

const std::string kTariffs = R"([[tariff]]
id = "domestic"
currency = "INR"
cycle = "monthly"
time_zone = "+05:30"
slab_mode = "telescopic"
slabs = [ { upto_kwh = 100, rate = 4.71 }, { upto_kwh = 300, rate = 10.29 },
          { upto_kwh = 500, rate = 14.55 }, { rate = 16.64 } ]
fixed_charge = 120.0
tax_percent = 16.0
tod = [ { from = "22:00", to = "06:00", factor = 0.8 }, { from = "18:00", to = "22:00", factor = 1.25 } ]

[[tariff]]
id = "domestic"
effective_from = 2024-04-01
currency = "INR"
cycle = "monthly"
time_zone = "+05:30"
slab_mode = "volumetric"
slabs = [ { upto_kwh = 1_00.5, rate = 5e0 }, { rate = 1.1e1 } ]
fixed_charge = 1.2e2
tax_percent = 18
)";

// Every rule a tariff that was accepted must keep.
void expect_valid(const TariffBook& book) {
  for (const Tariff& t : book.versions) {
    ASSERT_FALSE(t.slabs.empty());
    for (size_t i = 0; i < t.slabs.size(); ++i) {
      EXPECT_GE(t.slabs[i].rate, 0);
      EXPECT_EQ(t.slabs[i].upto_uwh.has_value(), i + 1 < t.slabs.size());
      if (i > 0 && t.slabs[i].upto_uwh) {
        EXPECT_GT(*t.slabs[i].upto_uwh, *t.slabs[i - 1].upto_uwh);
      }
    }
    EXPECT_GE(t.fixed_charge_minor, 0);
    EXPECT_GE(t.tax_percent, 0);
    for (size_t i = 0; i < t.tod.size(); ++i) {
      EXPECT_NE(t.tod[i].from_minute % 1440, t.tod[i].to_minute % 1440);
      EXPECT_GE(t.tod[i].factor, 0);
    }
  }
}

TEST(BillingTariffFuzz, DamagedTariffTextIsAlwaysAnErrorOrAValidTariff) {
  ASSERT_TRUE(parse_tariffs(kTariffs, "fuzz.toml").ok());
  std::mt19937 rng(17);
  int refused = 0;
  for (int i = 0; i < 3000; ++i) {
    const std::string damaged =
        test_support::damage_text(kTariffs, rng, "[]{}=,.\"'#_-+e0123456789 \n\t\xc3\xa9:aZ", 6);
    auto book = parse_tariffs(damaged, "fuzz.toml");
    if (!book.ok()) {
      ++refused;
      EXPECT_EQ(book.error().source, "fuzz.toml");
      EXPECT_FALSE(book.error().message.empty());
      // Never an internal error: the numbers' source text is always found.
      EXPECT_NE(book.error().code, ErrorCode::kInternal) << book.error().to_string() << "\n" << damaged;
      continue;
    }
    expect_valid(book.value());
  }
  // Most damage breaks something; a test that accepted everything would be a broken test.
  EXPECT_GT(refused, 1500);
}

}  // namespace
}  // namespace wattguard::billing
