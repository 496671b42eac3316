// Tests of the topology readers (CSV and JSON): the rules, error messages naming line/path, all-or-nothing
// results, the cross-check against readings, and a fuzz loop.
#include "wattguard/analytics/topology_io.h"

#include <gtest/gtest.h>

#include <random>

#include "wattguard/analytics/readings_csv.h"
#include "wattguard/test_support/text_damage.h"

namespace wattguard::analytics {
namespace {

const char* kTopology =
    "transformer,meter,role\n"
    "T1,C1,check\n"
    "T1,A,consumer\n"
    "T1,B,Consumer\n"
    "T2,C2,check\n"
    "T2,D,consumer\n";

TEST(TopologyCsv, ReadsTransformersChecksAndConsumers) {
  auto t = parse_topology_csv(kTopology, "T.csv");
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  ASSERT_EQ(t.value().transformers.size(), 2u);
  EXPECT_EQ(t.value().transformers[0].id, "T1");
  EXPECT_EQ(t.value().transformers[0].check_meter, "C1");
  EXPECT_EQ(t.value().transformers[0].consumers, (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(t.value().transformers[0].consumer_lines, (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(t.value().consumer_count(), 3u);
}

struct BadTopology {
  const char* text;
  int64_t line;
  const char* field;
  const char* value;
  const char* words;  // part of the message
};

class TopologyCsvBad : public ::testing::TestWithParam<BadTopology> {};

TEST_P(TopologyCsvBad, IsRejectedWholeWithTheRowNamed) {
  const BadTopology& c = GetParam();
  auto t = parse_topology_csv(c.text, "T.csv");
  ASSERT_FALSE(t.ok()) << c.text;  // all or nothing: an error carries no partial topology
  EXPECT_EQ(t.error().line, c.line) << t.error().to_string();
  EXPECT_EQ(t.error().field, c.field) << t.error().to_string();
  EXPECT_EQ(t.error().value, c.value) << t.error().to_string();
  EXPECT_NE(t.error().message.find(c.words), std::string::npos) << t.error().to_string();
}

INSTANTIATE_TEST_SUITE_P(
    Rules, TopologyCsvBad,
    ::testing::Values(
        BadTopology{"transformer,meter\nT1,C1\n", 1, "header", "transformer,meter", "header"},
        BadTopology{"transformer,meter,role\nT1,C1,check\nT1,A,thief\n", 3, "role", "thief", "check or consumer"},
        BadTopology{"transformer,meter,role\nT1,C1,check\nT1,A,consumer\nT2,C2,check\nT2,A,consumer\n", 5, "meter", "A",
                    "already on transformer T1"},
        BadTopology{"transformer,meter,role\nT1,C1,check\nT1,A,consumer\nT1,A,consumer\n", 4, "meter", "A",
                    "listed twice"},
        BadTopology{"transformer,meter,role\nT1,C1,check\nT1,C9,check\n", 3, "role", "check",
                    "already has check meter C1"},
        BadTopology{"transformer,meter,role\nT1,C1,check\nT2,A,consumer\nT2,B,consumer\n", 3, "transformer", "T2",
                    "no check meter"},
        BadTopology{"transformer,meter,role\nT1,C1,check\nT1,,consumer\n", 3, "meter", "", "empty meter id"},
        BadTopology{"transformer,meter,role\nT1,C1,check\nT1,A,consumer,extra\n", 3, "", "T1,A,consumer,extra",
                    "expected 3 fields"},
        BadTopology{"transformer,meter,role\n", 0, "", "", "no transformers"}));

TEST(TopologyJson, ReadsTheSameGridAndNamesPathsInErrors) {
  auto t = parse_topology(R"({"transformers":[{"id":"T1","check":"C1","consumers":["A","B"]},
                                              {"id":"T2","check":"C2","consumers":["D"]}]})",
                          "T.json");
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  EXPECT_EQ(t.value().transformers[1].consumers, (std::vector<std::string>{"D"}));

  auto twice = parse_topology(R"({"transformers":[{"id":"T1","check":"C1","consumers":["A"]},
                                                  {"id":"T2","check":"C2","consumers":["B","A"]}]})",
                              "T.json");
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().field, "transformers[1].consumers[1]");
  EXPECT_EQ(twice.error().value, "A");

  auto no_check = parse_topology(R"({"transformers":[{"id":"T1","consumers":["A"]}]})", "T.json");
  ASSERT_FALSE(no_check.ok());
  EXPECT_EQ(no_check.error().field, "transformers[0].check");

  EXPECT_FALSE(parse_topology("{not json", "T.json").ok());
  EXPECT_FALSE(parse_topology(R"({"transformers":[{"id":"T1","check":"C1","consumers":[7]}]})", "T.json").ok());
}

TEST(Topology, UnknownMeterIsNamedByItsTopologyLine) {
  auto t = parse_topology_csv(kTopology, "T.csv");
  ASSERT_TRUE(t.ok());
  auto r = parse_readings_csv(
      "meter,time,kwh\nC1,1700000100,1\nA,1700000100,1\nB,1700000100,1\nC2,1700000100,1\nC2,1700001000,1\n");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const auto checked = check_topology_against(t.value(), r.value());
  ASSERT_FALSE(checked.ok());
  const Error& e = checked.error();
  EXPECT_EQ(e.source, "T.csv");
  EXPECT_EQ(e.line, 6);
  EXPECT_EQ(e.value, "D");
  EXPECT_NE(e.message.find("no rows in the readings"), std::string::npos);
}

TEST(TopologyCsv, FuzzedInputNeverCrashes) {
  std::mt19937 rng(777);
  const std::string base = kTopology;
  const std::string alphabet = "T12,CABcheckonsumr\n\" ";
  int errors = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    const std::string text = test_support::damage_text(base, rng, alphabet, 5);
    auto t = parse_topology(text, "T.csv");
    if (!t.ok()) {
      ++errors;
      EXPECT_FALSE(t.error().to_string().empty());
    } else {
      for (const auto& tr : t.value().transformers) ASSERT_FALSE(tr.check_meter.empty());
    }
  }
  EXPECT_GT(errors, 100);
}

}  // namespace
}  // namespace wattguard::analytics
