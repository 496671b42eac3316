// Exact decimal text <-> scaled integers and the bills' rounding rule.
#include "wattguard/billing/decimal.h"

#include <gtest/gtest.h>

namespace wattguard::billing {
namespace {

int64_t scaled(std::string_view text, int decimals) {
  auto v = parse_scaled_decimal(text, decimals);
  EXPECT_TRUE(v.ok()) << text << ": " << (v.ok() ? "" : v.error().message);
  return v.ok() ? v.value() : -1;
}

TEST(BillingDecimal, ARateIsReadFromItsDigitsExactly) {
  EXPECT_EQ(scaled("4.71", 6), 4'710'000);
  EXPECT_EQ(scaled("10.29", 6), 10'290'000);
  EXPECT_EQ(scaled("0.1", 6), 100'000);  // 0.1 has no exact double; here it is exact
  EXPECT_EQ(scaled("16.640000", 6), 16'640'000);
  EXPECT_EQ(scaled("100", 9), 100'000'000'000);
  EXPECT_EQ(scaled("100.001", 9), 100'001'000'000);
  EXPECT_EQ(scaled("0", 2), 0);
  EXPECT_EQ(scaled("-0.5", 2), -50);
  EXPECT_EQ(scaled("+7", 0), 7);
}

TEST(BillingDecimal, TomlUnderscoresAndExponentsAreUnderstood) {
  EXPECT_EQ(scaled("1_000.5", 2), 100'050);
  EXPECT_EQ(scaled("1.5e2", 0), 150);
  EXPECT_EQ(scaled("471E-2", 2), 471);
  EXPECT_EQ(scaled("4710000e-6", 6), 4'710'000);
}

TEST(BillingDecimal, TooManyDecimalsAreRefusedNotRounded) {
  auto v = parse_scaled_decimal("4.715", 2);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("more than 2 digits after the decimal point"), std::string::npos);
  EXPECT_FALSE(parse_scaled_decimal("1e-3", 2).ok());
  // Trailing zeros beyond the scale are harmless.
  EXPECT_EQ(scaled("4.71000000", 2), 471);
}

TEST(BillingDecimal, AnythingButAPlainDecimalIsRefused) {
  for (const char* text : {"", "inf", "nan", "-inf", "4.7.1", ".5", "5.", "1e", "0x10", "1__0", "_1", "1_", "12a", " 1",
                           "1 ", "--1", "1e+"}) {
    EXPECT_FALSE(parse_scaled_decimal(text, 4).ok()) << text;
  }
}

TEST(BillingDecimal, ValuesBeyondInt64AreRefused) {
  EXPECT_FALSE(parse_scaled_decimal("9223372036854775808", 0).ok());
  EXPECT_EQ(scaled("9223372036854775807", 0), INT64_MAX);
  EXPECT_FALSE(parse_scaled_decimal("1e40", 0).ok());
  EXPECT_FALSE(parse_scaled_decimal("1e400", 0).ok());
  EXPECT_FALSE(parse_scaled_decimal("100000000000", 9).ok());
  EXPECT_FALSE(parse_scaled_decimal(std::string(60, '9'), 0).ok());
}

TEST(BillingDecimal, FormattingKeepsTheMinimumDigitsAndDropsOtherTrailingZeros) {
  EXPECT_EQ(format_scaled_decimal(4'710'000, 6, 2), "4.71");
  EXPECT_EQ(format_scaled_decimal(47'100, 2, 2), "471.00");
  EXPECT_EQ(format_scaled_decimal(3'768'000, 6, 2), "3.768");
  EXPECT_EQ(format_scaled_decimal(150'000'000'000, 9, 3), "150.000");
  EXPECT_EQ(format_scaled_decimal(100'001'000'000, 9, 3), "100.001");
  EXPECT_EQ(format_scaled_decimal(123, 9, 3), "0.000000123");
  EXPECT_EQ(format_scaled_decimal(-5, 1, 0), "-0.5");
  EXPECT_EQ(format_scaled_decimal(7, 0, 0), "7");
  EXPECT_EQ(format_scaled_decimal(INT64_MIN, 2, 2), "-92233720368547758.08");
}

TEST(BillingDecimal, HalvesRoundUpAndEverythingElseToTheNearest) {
  EXPECT_EQ(divide_round_half_up(5, 10).value(), 1);
  EXPECT_EQ(divide_round_half_up(4, 10).value(), 0);
  EXPECT_EQ(divide_round_half_up(15, 10).value(), 2);
  EXPECT_EQ(divide_round_half_up(25, 10).value(), 3);  // half up, not to even
  EXPECT_EQ(divide_round_half_up(0, 7).value(), 0);
  EXPECT_EQ(divide_round_half_up(static_cast<__int128>(INT64_MAX) * 10, 10).value(), INT64_MAX);
  EXPECT_FALSE(divide_round_half_up(static_cast<__int128>(INT64_MAX) * 10 + 5, 10).ok());
}

}  // namespace
}  // namespace wattguard::billing
