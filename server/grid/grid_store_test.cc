// GridStore and topology import: tables in the readings' file, atomic replace, the membership rules, and
// errors naming the row for every bad-input case of issue 6 (unknown meter, consumer on two transformers,
// no check meter, malformed row), with nothing half-imported.
#include "wattguard/grid/grid_store.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>

#include "server/grid/grid_test_support.h"
#include "server/storage/sql_test_targets.h"
#include "wattguard/grid/topology_import.h"
#include "wattguard/test_support/text_damage.h"

namespace wattguard::grid {
namespace {

class GridStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = open_test_store(dir_.file("w.db"));
    ASSERT_TRUE(store_);
    for (const char* m : {"c1", "c2", "m1", "m2", "m3", "m4"}) ASSERT_TRUE(store_->add_meter({m, "", "", "", 0}).ok());
    auto opened = GridStore::open(dir_.file("w.db"));
    ASSERT_TRUE(opened.ok()) << opened.error().to_string();
    grid_ = std::move(opened).value();
    known_ = [this](const std::string& id) { return store_->has_meter(id); };
  }

  Expected<std::vector<Transformer>> parse(const std::string& text) {
    return parse_grid_topology(text, "T.csv", known_);
  }

  test_support::TempDir dir_;
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<GridStore> grid_;
  MeterKnown known_;
};

TEST_F(GridStoreTest, CsvImportReplacesTheTopologyAndSurvivesReopen) {
  auto parsed =
      parse("transformer,meter,role\nT1,c1,check\nT1,m1,consumer\nT1,m2,consumer\nT2,c2,check\nT2,m3,consumer\n");
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  ASSERT_TRUE(grid_->replace_all(parsed.value(), 1000).ok());
  const uint64_t v = grid_->version();
  grid_.reset();
  auto opened = GridStore::open(dir_.file("w.db"));
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  grid_ = std::move(opened).value();
  auto all = grid_->list();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, "T1");
  EXPECT_EQ((*all)[0].check_meter, "c1");
  EXPECT_EQ((*all)[0].consumers, (std::vector<std::string>{"m1", "m2"}));
  EXPECT_EQ((*all)[0].created_ms, 1000);
  EXPECT_EQ((*all)[1].consumers, (std::vector<std::string>{"m3"}));
  auto member = grid_->membership("m3");
  ASSERT_TRUE(member.ok());
  ASSERT_TRUE(member->has_value());
  EXPECT_EQ((*member)->first, "T2");
  EXPECT_EQ((*member)->second, "consumer");
  EXPECT_GE(v, 2u);

  // A second import replaces everything.
  auto second = parse("transformer,meter,role\nT9,m4,check\nT9,m1,consumer\n");
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(grid_->replace_all(second.value(), 2000).ok());
  all = grid_->list();
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].id, "T9");
  EXPECT_FALSE(grid_->membership("c1")->has_value());
}

TEST_F(GridStoreTest, JsonImportKeepsNamesAndAreas) {
  auto parsed = parse(R"({"transformers": [
      {"id": "T1", "name": "Elm St", "area": "north", "check_meter": "c1", "consumers": ["m1", "m2"]},
      {"id": "T2", "check": "c2", "consumers": []}]})");
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  ASSERT_EQ(parsed.value().size(), 2u);
  EXPECT_EQ(parsed.value()[0].name, "Elm St");
  EXPECT_EQ(parsed.value()[0].area, "north");
  EXPECT_EQ(parsed.value()[1].check_meter, "c2");
  ASSERT_TRUE(grid_->replace_all(parsed.value(), 1).ok());
  auto t1 = grid_->get("T1");
  ASSERT_TRUE(t1.ok());
  EXPECT_EQ(t1->name, "Elm St");
  EXPECT_EQ(t1->consumers.size(), 2u);
}

// Mutated JSON and CSV topologies: every one is either refused with a message or a valid model (one check
// meter each, no meter twice, every meter known); none crashes the parser.
TEST_F(GridStoreTest, FuzzedTopologiesAreRefusedOrValid) {
  const std::string bases[] = {
      R"({"transformers": [{"id": "T1", "name": "Elm St", "area": "north", "check_meter": "c1",)"
      R"( "consumers": ["m1", "m2"]}, {"id": "T2", "check": "c2", "consumers": ["m3", "m4"]}]})",
      "transformer,meter,role\nT1,c1,check\nT1,m1,consumer\nT1,m2,consumer\nT2,c2,check\nT2,m3,consumer\n"};
  const std::string alphabet = "{}[]\":,TcmC1234 \n\\checkonsumr";
  for (const auto& base : bases) ASSERT_TRUE(parse(base).ok()) << base;
  std::mt19937 rng(99);
  int refused = 0, accepted = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    const std::string text = test_support::damage_text(bases[iter % 2], rng, alphabet, 4);
    auto parsed = parse(text);
    if (!parsed.ok()) {
      ++refused;
      EXPECT_FALSE(parsed.error().message.empty()) << text;
      continue;
    }
    ++accepted;
    std::set<std::string> seen;
    for (const auto& t : parsed.value()) {
      EXPECT_TRUE(known_(t.check_meter)) << text;
      EXPECT_TRUE(seen.insert(t.check_meter).second) << text;
      for (const auto& c : t.consumers) {
        EXPECT_TRUE(known_(c)) << text;
        EXPECT_TRUE(seen.insert(c).second) << text;
      }
    }
  }
  EXPECT_GT(refused, 500);
  EXPECT_GT(accepted, 30);
}

TEST_F(GridStoreTest, BadTopologiesNameTheRow) {
  struct Case {
    const char* text;
    int64_t line;
    const char* field;
    const char* words;
  };
  const Case cases[] = {
      {"transformer,meter,role\nT1,c1,check\nT1,nobody,consumer\n", 3, "meter", "unknown meter"},
      {"transformer,meter,role\nT1,c1,check\nT1,m1,consumer\nT2,c2,check\nT2,m1,consumer\n", 5, "meter",
       "already on transformer T1"},
      {"transformer,meter,role\nT1,c1,check\nT2,m1,consumer\n", 3, "transformer", "no check meter"},
      {"transformer,meter,role\nT1,c1,check\nT1,m1\n", 3, "", "expected 3 fields"},
      {"transformer,meter,role\nT1,c1,check\nT1,m1,chek\n", 3, "role", "role must be"},
      {"transformer,meter,role\nT/1,c1,check\n", 2, "transformer", "transformer id"},
      {"meter,transformer\n", 1, "header", "header"},
  };
  for (const Case& c : cases) {
    auto parsed = parse(c.text);
    ASSERT_FALSE(parsed.ok()) << c.text;
    EXPECT_EQ(parsed.error().line, c.line) << parsed.error().to_string();
    EXPECT_EQ(parsed.error().field, c.field) << parsed.error().to_string();
    EXPECT_NE(parsed.error().to_string().find(c.words), std::string::npos) << parsed.error().to_string();
    EXPECT_NE(describe_error(parsed.error()).find("line " + std::to_string(c.line)), std::string::npos);
  }
  auto json_bad = parse(R"({"transformers": [{"id": "T1", "check_meter": "c1", "consumers": ["m1", "ghost"]}]})");
  ASSERT_FALSE(json_bad.ok());
  EXPECT_EQ(json_bad.error().field, "transformers[0].consumers[1]");
  auto json_no_check = parse(R"({"transformers": [{"id": "T1", "consumers": ["m1"]}]})");
  ASSERT_FALSE(json_no_check.ok());
  EXPECT_EQ(json_no_check.error().field, "transformers[0].check");
}

TEST_F(GridStoreTest, CheckTransformerNamesTheMember) {
  Transformer t{"T1", "", "", "c1", {"m1", "zz"}, 0};
  auto checked = check_transformer(t, known_);
  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(checked.error().field, "consumers[1]");
  t.consumers = {"m1", "m1"};
  checked = check_transformer(t, known_);
  ASSERT_FALSE(checked.ok());
  EXPECT_NE(checked.error().message.find("twice"), std::string::npos);
  t.consumers = {"m1"};
  t.id = "bad id";
  EXPECT_EQ(check_transformer(t, known_).error().field, "id");
  t.id = "T1";
  EXPECT_TRUE(check_transformer(t, known_).ok());
}

// The store's rules on both engines: every change all or nothing, one transformer per meter.
class GridStoreOnEachEngine : public ::testing::TestWithParam<storage::SqlDialect> {
 protected:
  void SetUp() override {
    auto opened = GridStore::open(where_.target());
    ASSERT_TRUE(opened.ok()) << opened.error().to_string();
    grid_ = std::move(opened).value();
  }
  storage::sql_test::TargetFor where_{GetParam()};
  std::unique_ptr<GridStore> grid_;
};

TEST_P(GridStoreOnEachEngine, FailedWritesLeaveTheStoredTopologyAlone) {
  ASSERT_TRUE(grid_->replace_all({{"T1", "", "", "c1", {"m1"}, 0}}, 1).ok());
  // The second transformer repeats m1: the database refuses, the whole replacement rolls back.
  const auto s = grid_->replace_all({{"T2", "", "", "c2", {"m2"}, 0}, {"T3", "", "", "m3", {"m2"}, 0}}, 2);
  EXPECT_EQ(s.error().code, ErrorCode::kAlreadyExists) << s.error().message;
  EXPECT_NE(s.error().message.find("m2"), std::string::npos);
  auto all = grid_->list();
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].id, "T1");

  EXPECT_EQ(grid_->add({"T1", "", "", "c2", {}, 0}, 3).error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(grid_->add({"T2", "", "", "c2", {"m1"}, 0}, 3).error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(grid_->list()->size(), 1u);
  ASSERT_TRUE(grid_->add({"T2", "Two", "south", "c2", {"m2"}, 0}, 3).ok());
  ASSERT_TRUE(grid_->set_members("T2", "c2", {"m2", "m3", "m4"}, std::string("Second"), std::nullopt).ok());
  auto t2 = grid_->get("T2");
  EXPECT_EQ(t2->name, "Second");
  EXPECT_EQ(t2->area, "south");
  EXPECT_EQ(t2->consumers, (std::vector<std::string>{"m2", "m3", "m4"}));
  EXPECT_EQ(grid_->set_members("T2", "c2", {"m1"}).error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(grid_->get("T2")->consumers.size(), 3u);
  EXPECT_EQ(grid_->set_members("T7", "c2", {}).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(grid_->remove("T2").ok());
  EXPECT_EQ(grid_->remove("T2").error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(grid_->membership("m3")->has_value());
  EXPECT_EQ(grid_->get("T2").error().code, ErrorCode::kNotFound);
  // What was committed is there for the next connection (a restart, or another server on the database).
  auto again = GridStore::open(where_.target());
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  auto all_again = again.value()->list();
  ASSERT_TRUE(all_again.ok());
  ASSERT_EQ(all_again->size(), 1u);
  EXPECT_EQ((*all_again)[0].consumers, (std::vector<std::string>{"m1"}));
  EXPECT_EQ(again.value()->membership("c1")->value().second, "check");
}

INSTANTIATE_TEST_SUITE_P(Engines, GridStoreOnEachEngine, storage::sql_test::kBothEngines,
                         storage::sql_test::engine_name);

}  // namespace
}  // namespace wattguard::grid
