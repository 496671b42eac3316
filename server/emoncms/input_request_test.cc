// The emoncms input forms as emonESP, emonTx/emonPi and IoTaWatt send them, and refusals of bad ones.
#include "wattguard/emoncms/input_request.h"

#include <gtest/gtest.h>

#include <random>

#include "wattguard/test_support/text_damage.h"

namespace wattguard::emoncms {
namespace {

constexpr int64_t kNow = 1'780'000'000;

double value_of(const InputFrame& f, const std::string& name) {
  for (const auto& [n, v] : f.values) {
    if (n == name) return v;
  }
  ADD_FAILURE() << "no value " << name;
  return -1;
}

TEST(EmoncmsInputPost, ReadsFullJsonWithNodeAndTime) {
  auto f =
      parse_input_post({{"node", "emontx"}, {"fulljson", R"({"power1":100.5,"vrms":"231.2"})"}, {"time", "1779999990"}},
                       kNow);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->node, "emontx");
  EXPECT_EQ(f->time_s, 1779999990);
  EXPECT_DOUBLE_EQ(value_of(*f, "power1"), 100.5);
  EXPECT_DOUBLE_EQ(value_of(*f, "vrms"), 231.2);
}

TEST(EmoncmsInputPost, ReadsTheRelaxedJsonFormWithAndWithoutBraces) {
  for (const char* text :
       {"{CT1:3935,CT2:325,vrms:231.5}", "CT1:3935,CT2:325,vrms:231.5", "{\"CT1\":3935, CT2:325 ,vrms:231.5}"}) {
    auto f = parse_input_post({{"node", "emonesp"}, {"json", text}}, kNow);
    ASSERT_TRUE(f.ok()) << text << ": " << f.error().message;
    EXPECT_EQ(f->values.size(), 3U) << text;
    EXPECT_DOUBLE_EQ(value_of(*f, "CT1"), 3935);
    EXPECT_DOUBLE_EQ(value_of(*f, "vrms"), 231.5);
    EXPECT_FALSE(f->time_s.has_value());
  }
}

TEST(EmoncmsInputPost, NamesCsvValuesByPositionAsEmoncmsDoes) {
  auto f = parse_input_post({{"node", "10"}, {"csv", "100,,300"}}, kNow);
  ASSERT_TRUE(f.ok()) << f.error().message;
  ASSERT_EQ(f->values.size(), 2U);
  EXPECT_EQ(f->values[0].first, "1");
  EXPECT_EQ(f->values[1].first, "3");
  auto d = parse_input_post({{"data", "100,200"}}, kNow);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->node, "0");
  auto dj = parse_input_post({{"data", "power:100"}}, kNow);
  ASSERT_TRUE(dj.ok());
  EXPECT_EQ(dj->values[0].first, "power");
}

TEST(EmoncmsInputPost, RefusesBadValuesNamingTheParameterAndValue) {
  auto nan = parse_input_post({{"json", "power:nan"}}, kNow);
  ASSERT_FALSE(nan.ok());
  EXPECT_EQ(nan.error().field, "json");
  EXPECT_NE(nan.error().message.find("power"), std::string::npos);
  auto word = parse_input_post({{"fulljson", R"({"power":"lots"})"}}, kNow);
  ASSERT_FALSE(word.ok());
  EXPECT_EQ(word.error().field, "fulljson");
  EXPECT_FALSE(parse_input_post({{"fulljson", "[1,2]"}}, kNow).ok());
  EXPECT_FALSE(parse_input_post({{"json", "power"}}, kNow).ok());
  EXPECT_FALSE(parse_input_post({{"node", "x"}}, kNow).ok());
  auto future = parse_input_post({{"csv", "1"}, {"time", std::to_string(kNow + 2 * 86400)}}, kNow);
  ASSERT_FALSE(future.ok());
  EXPECT_EQ(future.error().field, "time");
  auto node = parse_input_post({{"csv", "1"}, {"node", "a/b"}}, kNow);
  ASSERT_FALSE(node.ok());
  EXPECT_EQ(node.error().field, "node");
}

TEST(EmoncmsInputBulk, ResolvesOffsetsAgainstSentatTimeAndOffset) {
  const std::string data = "[[0,16,1137],[2,17,1437,3164],[4,19,1412,3077]]";
  auto sentat = parse_input_bulk({{"data", data}, {"sentat", "6"}}, kNow);
  ASSERT_TRUE(sentat.ok()) << sentat.error().message;
  ASSERT_EQ(sentat->size(), 3U);
  EXPECT_EQ((*sentat)[0].time_s, kNow - 6);
  EXPECT_EQ((*sentat)[2].time_s, kNow - 2);
  EXPECT_EQ((*sentat)[1].node, "17");
  EXPECT_EQ((*sentat)[1].values.size(), 2U);
  auto time = parse_input_bulk({{"data", data}, {"time", "1779990000"}}, kNow);
  ASSERT_TRUE(time.ok());
  EXPECT_EQ((*time)[1].time_s, 1779990002);
  auto absolute = parse_input_bulk({{"data", "[[1779990000,\"house\",500]]"}}, kNow);
  ASSERT_TRUE(absolute.ok());
  EXPECT_EQ((*absolute)[0].time_s, 1779990000);
  EXPECT_EQ((*absolute)[0].node, "house");
}

TEST(EmoncmsInputBulk, RefusesMalformedItemsNamingTheItem) {
  for (const char* bad : {"[[0]]", "[1,2]", "{\"a\":1}", "[[0,1,\"x\"]]", "[[\"t\",1,2]]", "not json"}) {
    auto r = parse_input_bulk({{"data", bad}, {"sentat", "0"}}, kNow);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().field, "data") << bad;
  }
  EXPECT_FALSE(parse_input_bulk({}, kNow).ok());
}

// Found by fuzzing (fuzz/emoncms_input_fuzz.cc): a time or reference too large for an integer was converted to
// int64_t (undefined behaviour, which UBSan stops the test on) on its way into the refusal or the reference.
TEST(EmoncmsInputFuzzFindings, TimesTooLargeForAnIntegerAreRefusedNamingTheParameter) {
  auto post = parse_input_post({{"node", "1"}, {"json", "power:1"}, {"time", "1e30"}}, kNow);
  ASSERT_FALSE(post.ok());
  EXPECT_EQ(post.error().field, "time");
  EXPECT_NE(post.error().message.find("1e+30"), std::string::npos) << post.error().message;
  for (const char* name : {"time", "sentat", "offset"}) {
    auto bulk = parse_input_bulk({{"data", "[[0,1,200]]"}, {name, "-1.75e19"}}, kNow);
    ASSERT_FALSE(bulk.ok()) << name;
    EXPECT_EQ(bulk.error().field, name);
  }
  auto item = parse_input_bulk({{"data", "[[1e300,1,200]]"}}, kNow);
  ASSERT_FALSE(item.ok());
  EXPECT_EQ(item.error().field, "data");
}

// Random damage to valid requests: every outcome is a frame or an Error, never a crash (ASan/UBSan watch).
TEST(EmoncmsInputFuzz, DamagedRequestsAreParsedOrRefusedNeverCrash) {
  std::mt19937 rng(19);
  const std::vector<std::pair<std::string, std::string>> seeds = {
      {"fulljson", R"({"power1":100.5,"vrms":"231.2","kwh":12.5})"},
      {"json", "{CT1:3935,CT2:325,vrms:231.5}"},
      {"csv", "100,200,300"},
      {"data", "[[0,16,1137],[2,17,1437,3164]]"},
  };
  int refused = 0;
  for (int i = 0; i < 4000; ++i) {
    const auto& [param, text] = seeds[static_cast<std::size_t>(i) % seeds.size()];
    const std::string damaged = test_support::damage_text(text, rng, "{}[],:\"'0123456789.-eE+ nainf\x01\xff", 4);
    if (param == "data") {
      auto r = parse_input_bulk({{param, damaged}, {"sentat", "1"}}, kNow);
      if (!r.ok()) ++refused;
    } else {
      auto r = parse_input_post({{param, damaged}, {"node", "n"}}, kNow);
      if (!r.ok()) {
        ++refused;
        EXPECT_FALSE(r.error().message.empty());
      }
    }
  }
  EXPECT_GT(refused, 0);
}

}  // namespace
}  // namespace wattguard::emoncms
