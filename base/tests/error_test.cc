#include "wattguard/base/error.h"

#include <gtest/gtest.h>

namespace wattguard {
namespace {

TEST(Error, TextNamesSourceLineFieldAndValue) {
  const Error e = Error::invalid("kwh", "-3", "energy must not be negative").at("readings.csv", 7);
  EXPECT_EQ(e.to_string(), "readings.csv line 7, field kwh, value \"-3\": energy must not be negative");
  EXPECT_EQ(e.code, ErrorCode::kInvalidInput);
}

TEST(Error, TextWithOnlyAMessageIsTheMessage) { EXPECT_EQ(Error::not_found("no meter M1").to_string(), "no meter M1"); }

TEST(Error, ControlCharactersAndLongValuesCannotBreakALogLine) {
  const Error e = Error::invalid("row", "a\nb" + std::string(200, 'x'), "bad row");
  const std::string text = e.to_string();
  EXPECT_EQ(text.find('\n'), std::string::npos);
  EXPECT_NE(text.find("a?b"), std::string::npos);
  EXPECT_LT(text.size(), 120u);
}

TEST(Error, EveryCodeHasAStableName) {
  EXPECT_EQ(error_code_name(ErrorCode::kNotFound), "not_found");
  EXPECT_EQ(error_code_name(ErrorCode::kIoError), "io_error");
  EXPECT_EQ(error_code_name(ErrorCode::kInvalidInput), "invalid_input");
}

TEST(Error, ReasonCarriesAFinerKey) {
  const Error e = Error::invalid("vrms", "1234", "above 1000 V").because("voltage_too_high");
  EXPECT_EQ(e.reason, "voltage_too_high");
}

}  // namespace
}  // namespace wattguard
