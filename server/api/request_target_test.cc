// Tests of target parsing and the typed query values.
#include "wattguard/api/request_target.h"

#include <gtest/gtest.h>

namespace wattguard::api {
namespace {

TEST(RequestTarget, SplitsPathAndDecodesQuery) {
  const auto t = parse_target("/api/v1/meters/m%2D1/readings?from=2024-05-01T00%3A00%3A00Z&step=15m&q=a+b&flag");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/api/v1/meters/m-1/readings");
  ASSERT_NE(t->param("from"), nullptr);
  EXPECT_EQ(*t->param("from"), "2024-05-01T00:00:00Z");
  EXPECT_EQ(*t->param("step"), "15m");
  EXPECT_EQ(*t->param("q"), "a b");
  ASSERT_NE(t->param("flag"), nullptr);
  EXPECT_EQ(*t->param("flag"), "");
  EXPECT_EQ(t->param("to"), nullptr);
}

TEST(RequestTarget, LastRepeatedParameterWins) {
  const auto t = parse_target("/x?limit=1&limit=7");
  ASSERT_TRUE(t);
  EXPECT_EQ(*t->param("limit"), "7");
}

TEST(RequestTarget, RefusesBadEncodingAndNul) {
  EXPECT_FALSE(parse_target("/api/%zz"));
  EXPECT_FALSE(parse_target("/api/%4"));
  EXPECT_FALSE(parse_target("/api?x=%00"));
  EXPECT_FALSE(parse_target("api/v1"));
  EXPECT_FALSE(parse_target(""));
}

TEST(RequestTarget, PathSegmentsSkipEmptyParts) {
  EXPECT_EQ(path_segments("/api//v1/meters/"), (std::vector<std::string>{"api", "v1", "meters"}));
  EXPECT_TRUE(path_segments("/").empty());
}

TEST(TimeValue, UnixSeconds) {
  EXPECT_EQ(parse_time_value("0"), 0);
  EXPECT_EQ(parse_time_value("1714557600"), 1714557600);
  EXPECT_EQ(parse_time_value("1714557600.75"), 1714557600);
  EXPECT_FALSE(parse_time_value("-5"));
  EXPECT_FALSE(parse_time_value("12a"));
  EXPECT_FALSE(parse_time_value("1."));
  EXPECT_FALSE(parse_time_value(""));
  EXPECT_FALSE(parse_time_value("99999999999999999999"));
}

TEST(TimeValue, Iso8601Forms) {
  // 2024-05-01T00:00:00Z = 1714521600
  EXPECT_EQ(parse_time_value("2024-05-01"), 1714521600);
  EXPECT_EQ(parse_time_value("2024-05-01T10:00:00Z"), 1714521600 + 36000);
  EXPECT_EQ(parse_time_value("2024-05-01T10:00Z"), 1714521600 + 36000);
  EXPECT_EQ(parse_time_value("2024-05-01T10:00:00"), 1714521600 + 36000);  // no offset: UTC
  EXPECT_EQ(parse_time_value("2024-05-01T12:00:00+02:00"), 1714521600 + 36000);
  EXPECT_EQ(parse_time_value("2024-05-01T05:30:00-0430"), 1714521600 + 36000);
  EXPECT_EQ(parse_time_value("2024-05-01T10:00:00.999Z"), 1714521600 + 36000);
  EXPECT_EQ(parse_time_value("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_time_value("2000-03-01"), 951868800);
  EXPECT_EQ(parse_time_value("2024-02-29"), 1709164800);  // leap day
}

TEST(TimeValue, Iso8601Refusals) {
  EXPECT_FALSE(parse_time_value("2023-02-29"));
  EXPECT_FALSE(parse_time_value("2024-13-01"));
  EXPECT_FALSE(parse_time_value("2024-05-01T24:00:00Z"));
  EXPECT_FALSE(parse_time_value("2024-05-01T10:00:00X"));
  EXPECT_FALSE(parse_time_value("2024-05-01T10:00:00Zjunk"));
  EXPECT_FALSE(parse_time_value("2024-05-01T10"));
  EXPECT_FALSE(parse_time_value("1969-12-31T23:00:00Z"));
  EXPECT_FALSE(parse_time_value("2024-5-1"));
}

TEST(StepValue, UnitsAndLimits) {
  EXPECT_EQ(parse_step_value("5"), 5);
  EXPECT_EQ(parse_step_value("30s"), 30);
  EXPECT_EQ(parse_step_value("15m"), 900);
  EXPECT_EQ(parse_step_value("1h"), 3600);
  EXPECT_EQ(parse_step_value("1d"), 86400);
  EXPECT_EQ(parse_step_value("2w"), 14 * 86400);
  EXPECT_FALSE(parse_step_value("0"));
  EXPECT_FALSE(parse_step_value("0m"));
  EXPECT_FALSE(parse_step_value("-5"));
  EXPECT_FALSE(parse_step_value("m"));
  EXPECT_FALSE(parse_step_value("1.5h"));
  EXPECT_FALSE(parse_step_value("367d"));
  EXPECT_FALSE(parse_step_value("60w"));
  EXPECT_FALSE(parse_step_value("1y"));
}

TEST(IntValue, Range) {
  EXPECT_EQ(parse_int_value("42", 0, 100), 42);
  EXPECT_FALSE(parse_int_value("101", 0, 100));
  EXPECT_FALSE(parse_int_value("4x", 0, 100));
  EXPECT_FALSE(parse_int_value("", 0, 100));
}

TEST(SplitList, DropsEmptyItems) {
  EXPECT_EQ(split_list("a,b,,c,"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(split_list("").empty());
}

TEST(FormatIso8601, WholeAndFractionalSeconds) {
  EXPECT_EQ(format_iso8601(1714557600.0), "2024-05-01T10:00:00Z");
  EXPECT_EQ(format_iso8601(1714557600.5), "2024-05-01T10:00:00.500Z");
  EXPECT_EQ(format_iso8601(0.0), "1970-01-01T00:00:00Z");
}

}  // namespace
}  // namespace wattguard::api
