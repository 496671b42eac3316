// Tests of the topic scheme and meter-id rules.
#include "wattguard/protocol/topics.h"

#include <gtest/gtest.h>

namespace wattguard::protocol {
namespace {

TEST(MeterId, AcceptsTheDocumentedAlphabetUpTo64) {
  EXPECT_TRUE(is_valid_meter_id("m00001"));
  EXPECT_TRUE(is_valid_meter_id("Meter_7-b"));
  EXPECT_TRUE(is_valid_meter_id(std::string(64, 'a')));
  EXPECT_FALSE(is_valid_meter_id(std::string(65, 'a')));
  EXPECT_FALSE(is_valid_meter_id(""));
  for (const char* bad : {"a/b", "a+b", "a#", "a b", "é", "a.b", "$SYS"}) EXPECT_FALSE(is_valid_meter_id(bad)) << bad;
}

TEST(Topics, BuildAndParseRoundTrip) {
  const TopicKind kinds[] = {TopicKind::kReading, TopicKind::kStatus, TopicKind::kEvent, TopicKind::kCmd,
                             TopicKind::kCmdAck};
  for (TopicKind k : kinds) {
    const std::string t = make_topic("m42", k);
    auto parsed = parse_topic(t);
    ASSERT_TRUE(parsed) << t;
    EXPECT_EQ(parsed->meter_id, "m42");
    EXPECT_EQ(parsed->kind, k);
  }
  EXPECT_EQ(make_topic("m42", TopicKind::kCmdAck), "wattguard/v1/m42/cmd/ack");
  EXPECT_EQ(wildcard_topic(TopicKind::kReading), "wattguard/v1/+/reading");
  EXPECT_EQ(shared_subscription("g1", TopicKind::kStatus), "$share/g1/wattguard/v1/+/status");
}

TEST(Topics, ParseRefusesAnythingOutsideTheScheme) {
  for (const char* bad : {"", "wattguard/v1", "wattguard/v1/", "wattguard/v1/m1", "wattguard/v1/m1/",
                          "wattguard/v2/m1/reading", "wattguard/v1/m1/readings", "wattguard/v1/m1/reading/x",
                          "wattguard/v1/+/reading", "wattguard/v1//reading", "wattguard/v1/m 1/reading",
                          "xwattguard/v1/m1/reading", "wattguard/v1/m1/cmd/ack/x", "wattguard/v1m1/reading"}) {
    EXPECT_FALSE(parse_topic(bad)) << bad;
  }
}

}  // namespace
}  // namespace wattguard::protocol
