// The Prometheus text format as MetricsWriter writes it: HELP and TYPE once per family, escaping, values.
#include "wattguard/api/metrics_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace wattguard::api {
namespace {

TEST(MetricsWriter, AFamilyHasHelpThenTypeThenItsSamples) {
  MetricsWriter w;
  ASSERT_TRUE(w.counter("wattguard_things_total", "Things seen", 3));
  ASSERT_TRUE(w.gauge("wattguard_temperature_celsius", "How warm", 21.5, {{"room", "hall"}}));
  EXPECT_EQ(w.text(),
            "# HELP wattguard_things_total Things seen\n"
            "# TYPE wattguard_things_total counter\n"
            "wattguard_things_total 3\n"
            "# HELP wattguard_temperature_celsius How warm\n"
            "# TYPE wattguard_temperature_celsius gauge\n"
            "wattguard_temperature_celsius{room=\"hall\"} 21.5\n");
}

TEST(MetricsWriter, TwoSourcesOfOneFamilyShareOneHelpAndTypeAndStayTogether) {
  MetricsWriter w;
  ASSERT_TRUE(w.gauge("wattguard_connections", "Connections", 1, {{"protocol", "mqtt"}}));
  ASSERT_TRUE(w.gauge("wattguard_other", "Other", 7));
  ASSERT_TRUE(w.gauge("wattguard_connections", "Connections (again)", 42, {{"protocol", "blynk"}}));
  EXPECT_EQ(w.text(),
            "# HELP wattguard_connections Connections\n"
            "# TYPE wattguard_connections gauge\n"
            "wattguard_connections{protocol=\"mqtt\"} 1\n"
            "wattguard_connections{protocol=\"blynk\"} 42\n"
            "# HELP wattguard_other Other\n"
            "# TYPE wattguard_other gauge\n"
            "wattguard_other 7\n");
}

TEST(MetricsWriter, LabelValuesEscapeBackslashQuoteAndNewlineAndHelpEscapesBackslashAndNewline) {
  MetricsWriter w;
  ASSERT_TRUE(w.gauge("x", "a \\ b\nc \"q\"", 1, {{"meter", "a\\b\"c\nd"}, {"k", ""}}));
  EXPECT_EQ(w.text(),
            "# HELP x a \\\\ b\\nc \"q\"\n"
            "# TYPE x gauge\n"
            "x{meter=\"a\\\\b\\\"c\\nd\",k=\"\"} 1\n");
}

TEST(MetricsWriter, ValuesAreShortestDecimalsOrTheFormatsSpecialWords) {
  EXPECT_EQ(format_metric_value(0), "0");
  EXPECT_EQ(format_metric_value(1234567), "1234567");
  EXPECT_EQ(format_metric_value(0.1), "0.1");
  EXPECT_EQ(format_metric_value(-2.5), "-2.5");
  EXPECT_EQ(format_metric_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(format_metric_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_metric_value(-std::numeric_limits<double>::infinity()), "-Inf");
}

TEST(MetricsWriter, InvalidNamesAndClashingTypesAreRefusedAndWriteNothing) {
  MetricsWriter w;
  EXPECT_FALSE(w.gauge("1bad", "h", 1));
  EXPECT_FALSE(w.gauge("bad-name", "h", 1));
  EXPECT_FALSE(w.gauge("ok_name", "h", 1, {{"__reserved", "v"}}));
  EXPECT_FALSE(w.gauge("ok_name", "h", 1, {{"bad-label", "v"}}));
  EXPECT_TRUE(w.counter("c_total", "h", 1));
  EXPECT_FALSE(w.gauge("c_total", "h", 2));  // declared as a counter
  EXPECT_FALSE(w.sample("never_declared", 1));
  EXPECT_EQ(w.text(),
            "# HELP c_total h\n"
            "# TYPE c_total counter\n"
            "c_total 1\n");
}

TEST(MetricsWriter, AFamilyWithoutSamplesIsLeftOut) {
  MetricsWriter w;
  ASSERT_TRUE(w.family("empty_total", MetricType::kCounter, "nothing yet"));
  EXPECT_EQ(w.text(), "");
  EXPECT_TRUE(is_valid_metric_name("a:b_c9"));
  EXPECT_FALSE(is_valid_metric_name(""));
  EXPECT_TRUE(is_valid_label_name("_x"));
  EXPECT_FALSE(is_valid_label_name("a:b"));
}

}  // namespace
}  // namespace wattguard::api
