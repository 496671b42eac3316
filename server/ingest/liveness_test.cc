// The connectivity rules on their own: fed messages and times by hand, no broker, no threads, no clock.
#include "server/ingest/liveness.h"

#include <gtest/gtest.h>

namespace wattguard::ingest {
namespace {

constexpr int64_t kStart = 1'750'000'000'000;
constexpr int64_t kPeriodMs = 5000;  // the default period below

Liveness make() { return Liveness(/*default_period_s=*/5, /*missed_periods=*/3, kStart); }

TEST(IngestLiveness, AMeterNeverHeardFromStaysUnknownWhateverTheTime) {
  Liveness l = make();
  l.add("m1");
  EXPECT_TRUE(l.on_tick(kStart + 100 * kPeriodMs).empty());
  EXPECT_EQ(l.state("m1"), Connectivity::kUnknown);
  EXPECT_EQ(l.state("never-added"), Connectivity::kUnknown);
}

TEST(IngestLiveness, AReadingBringsAMeterOnlineOnceWithoutACommLossEvent) {
  Liveness l = make();
  auto c = l.on_reading("m1", kStart + 10, kStart + 20);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->from, Connectivity::kUnknown);
  EXPECT_EQ(c->to, Connectivity::kOnline);
  EXPECT_EQ(c->at_ms, kStart + 20);
  EXPECT_FALSE(c->comm_loss);  // first sight is no recovery
  EXPECT_FALSE(l.on_reading("m1", kStart + 30, kStart + 40));
}

TEST(IngestLiveness, SilenceOverTwoPeriodsAndASecondIsStaleThenMissedPeriodsOffline) {
  Liveness l = make();
  const int64_t seen = kStart + 1000;
  l.on_reading("m1", seen, seen);
  EXPECT_TRUE(l.on_tick(seen + 2 * kPeriodMs + 1000).empty());  // exactly at the limit: still online
  auto stale = l.on_tick(seen + 2 * kPeriodMs + 1001);
  ASSERT_EQ(stale.size(), 1u);
  EXPECT_EQ(stale[0].from, Connectivity::kOnline);
  EXPECT_EQ(stale[0].to, Connectivity::kStale);
  EXPECT_EQ(stale[0].at_ms, seen + 2 * kPeriodMs + 1000);
  EXPECT_TRUE(stale[0].offline_reason.empty());
  EXPECT_FALSE(stale[0].comm_loss);                      // late is no communication loss yet
  EXPECT_TRUE(l.on_tick(seen + 3 * kPeriodMs).empty());  // still stale, reported once
  EXPECT_EQ(l.counts().stale, 1u);

  auto offline = l.on_tick(seen + 3 * kPeriodMs + 1);
  ASSERT_EQ(offline.size(), 1u);
  EXPECT_EQ(offline[0].from, Connectivity::kStale);
  EXPECT_EQ(offline[0].to, Connectivity::kOffline);
  EXPECT_EQ(offline[0].offline_reason, "missed_periods");
  EXPECT_EQ(offline[0].at_ms, seen + 3 * kPeriodMs);  // when the reading was last due
  ASSERT_TRUE(offline[0].comm_loss);
  EXPECT_EQ(*offline[0].comm_loss, protocol::EventEdge::kOnset);
  EXPECT_TRUE(l.on_tick(seen + 100 * kPeriodMs).empty());

  auto back = l.on_reading("m1", seen + 200 * kPeriodMs, seen + 200 * kPeriodMs);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->to, Connectivity::kOnline);
  ASSERT_TRUE(back->comm_loss);
  EXPECT_EQ(*back->comm_loss, protocol::EventEdge::kClear);
}

TEST(IngestLiveness, AStaleMeterComesBackOnlineWithoutACommLossEvent) {
  Liveness l = make();
  l.on_reading("m1", kStart, kStart);
  ASSERT_EQ(l.on_tick(kStart + 12'000).size(), 1u);
  auto back = l.on_reading("m1", kStart + 13'000, kStart + 13'000);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->from, Connectivity::kStale);
  EXPECT_EQ(back->to, Connectivity::kOnline);
  EXPECT_FALSE(back->comm_loss);
}

TEST(IngestLiveness, WithFewMissedPeriodsAMeterGoesOfflineWithoutBeingStale) {
  Liveness l(/*default_period_s=*/1, /*missed_periods=*/2, kStart);
  l.on_reading("m1", kStart, kStart);
  auto c = l.on_tick(kStart + 2001);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].to, Connectivity::kOffline);
  EXPECT_EQ(l.counts().stale, 0u);
}

TEST(IngestLiveness, TheMetersOwnPeriodSetsTheLimits) {
  Liveness l = make();
  ASSERT_TRUE(l.on_status("m1", true, 60, kStart));
  EXPECT_TRUE(l.on_tick(kStart + 121'000).empty());  // 2 x 60 s + 1 s
  EXPECT_EQ(l.on_tick(kStart + 121'001).at(0).to, Connectivity::kStale);
  l.set_period("m1", 600);
  EXPECT_TRUE(l.on_tick(kStart + 181'001).empty());  // no longer late for 3 x 60 s: it waits 3 x 600 s
  EXPECT_EQ(l.state("m1"), Connectivity::kStale);
}

TEST(IngestLiveness, TheMetersOfflineStatusHoldsUntilItSaysOnline) {
  Liveness l = make();
  l.on_reading("m1", kStart, kStart);
  auto off = l.on_status("m1", false, 0, kStart + 10);
  ASSERT_TRUE(off);
  EXPECT_EQ(off->to, Connectivity::kOffline);
  EXPECT_EQ(off->offline_reason, "status");
  EXPECT_EQ(off->at_ms, kStart + 10);
  EXPECT_FALSE(l.on_reading("m1", kStart + 20, kStart + 20));  // a late reading does not undo the will
  EXPECT_TRUE(l.on_tick(kStart + 100 * kPeriodMs).empty());
  auto on = l.on_status("m1", true, 0, kStart + 30);
  ASSERT_TRUE(on);
  EXPECT_EQ(on->to, Connectivity::kOnline);
}

TEST(IngestLiveness, SilenceCountsFromTheStartForMetersLastSeenBeforeIt) {
  Liveness l = make();
  l.restore_last_seen("m1", kStart - 3600'000);
  EXPECT_EQ(l.state("m1"), Connectivity::kUnknown);
  EXPECT_TRUE(l.on_tick(kStart + 2 * kPeriodMs).empty());  // not late the moment the server starts
  auto c = l.on_tick(kStart + 3 * kPeriodMs + 1);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].from, Connectivity::kUnknown);
  EXPECT_EQ(c[0].to, Connectivity::kOffline);
  EXPECT_EQ(c[0].at_ms, kStart - 3600'000 + 3 * kPeriodMs);  // the onset is not moved by the restart
}

TEST(IngestLiveness, ARetainedOfflineStatusIsOldNewsTheMeterIsJudgedByFreshSilence) {
  // A clean stop left "offline" retained at the broker; after our start it is delivered again.
  Liveness l = make();
  l.restore_last_seen("m1", kStart - 60'000);
  l.restore_last_seen("m2", kStart - 60'000);
  EXPECT_FALSE(l.on_status("m1", false, 0, kStart + 10, /*said_ms=*/kStart - 30'000, /*retained=*/true));
  // Queued for our session while we were away: said before we listened.
  EXPECT_FALSE(l.on_status("m2", false, 10, kStart + 10, /*said_ms=*/kStart - 20'000, /*retained=*/false));
  EXPECT_EQ(l.state("m1"), Connectivity::kUnknown);
  // m1 comes back within the periods it is allowed: online, no offline on the way.
  auto back = l.on_reading("m1", kStart + 4000, kStart + 4000);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->to, Connectivity::kOnline);
  // m2 stays silent: offline once silent for its missed periods (its retained period, 10 s) since the start.
  l.on_reading("m1", kStart + 14'000, kStart + 14'000);
  l.on_reading("m1", kStart + 29'000, kStart + 29'000);
  for (const auto& c : l.on_tick(kStart + 30'000)) EXPECT_NE(c.to, Connectivity::kOffline) << c.meter_id;
  auto off = l.on_tick(kStart + 3 * 10'000 + 1);
  ASSERT_EQ(off.size(), 1u);
  EXPECT_EQ(off[0].meter_id, "m2");
  EXPECT_EQ(off[0].offline_reason, "missed_periods");
}

TEST(IngestLiveness, SilenceWhileTheBrokerWasAwayCountsFromTheReconnection) {
  Liveness l = make();
  l.on_reading("m1", kStart, kStart);
  const int64_t back = kStart + 10 * kPeriodMs;  // the broker restarted; we listen again from here
  l.listening_since(back);
  EXPECT_TRUE(l.on_tick(back + 2 * kPeriodMs).empty());
  auto late = l.on_tick(back + 3 * kPeriodMs + 1);
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].to, Connectivity::kOffline);
  // An earlier time never moves the listening start back: m2, last seen a minute before the start, is
  // not declared offline the moment the service starts (it would be, counted from before the start).
  Liveness fresh = make();
  fresh.restore_last_seen("m2", kStart - 60'000);
  fresh.listening_since(kStart - 50'000);
  EXPECT_TRUE(fresh.on_tick(kStart + 2 * kPeriodMs).empty());
  EXPECT_EQ(fresh.on_tick(kStart + 3 * kPeriodMs + 1).size(), 1u);
}

TEST(IngestLiveness, CountsAndChangesComeInMeterOrder) {
  Liveness l = make();
  for (const char* id : {"m3", "m1", "m2"}) l.on_reading(id, kStart, kStart);
  l.on_reading("m2", kStart + 11'000, kStart + 11'000);
  const auto c = l.on_tick(kStart + 11'500);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].meter_id, "m1");
  EXPECT_EQ(c[1].meter_id, "m3");
  const LivenessCounts n = l.counts();
  EXPECT_EQ(n.online, 1u);
  EXPECT_EQ(n.stale, 2u);
  EXPECT_EQ(n.offline, 0u);
  EXPECT_STREQ(connectivity_name(Connectivity::kStale), "stale");
}

}  // namespace
}  // namespace wattguard::ingest
