// Command states on their own: publish, PUBACK, ack, timeout, without a broker or a store.
#include "server/ingest/command_tracker.h"

#include <gtest/gtest.h>

namespace wattguard::ingest {
namespace {

constexpr int64_t kT0 = 1'750'000'000'000;

TrackedCommand command(const std::string& id, const std::string& meter, int timeout_ms = 30'000) {
  TrackedCommand t;
  t.record.id = id;
  t.record.meter_id = meter;
  t.record.kind = protocol::CommandKind::kRelayOff;
  t.record.state = storage::CommandState::kPending;
  t.record.created_ms = kT0;
  t.record.updated_ms = kT0;
  t.command =
      protocol::Command{id, meter, protocol::CommandKind::kRelayOff, std::nullopt, kT0, kT0 + timeout_ms, 0, ""};
  t.timeout_ms = timeout_ms;
  return t;
}

protocol::CommandAck ack(const std::string& id, const std::string& meter, bool ok) {
  return protocol::CommandAck{id, meter, ok, "", protocol::RelayState::kOff, 0, kT0 + 500};
}

TEST(IngestCommandTracker, APublishedCommandBecomesSentOnItsPubackAndAckedOnItsAck) {
  CommandTracker t;
  int next_mid = 7;
  const storage::CommandRecord added =
      t.add(command("c1", "m1"), [&](const TrackedCommand&) -> std::optional<int> { return next_mid; });
  EXPECT_EQ(added.state, storage::CommandState::kPending);
  EXPECT_FALSE(t.on_published(99, kT0 + 1));  // someone else's message id
  auto sent = t.on_published(7, kT0 + 100);
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->state, storage::CommandState::kSent);
  EXPECT_EQ(sent->sent_ms, kT0 + 100);
  EXPECT_FALSE(t.on_published(7, kT0 + 101));  // once
  auto done = t.on_ack(ack("c1", "m1", true), kT0 + 500);
  ASSERT_EQ(done.match, CommandTracker::AckMatch::kFinished);
  EXPECT_EQ(done.record.state, storage::CommandState::kAcked);
  EXPECT_EQ(done.record.relay, protocol::RelayState::kOff);
  EXPECT_EQ(done.record.updated_ms, kT0 + 500);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.on_ack(ack("c1", "m1", true), kT0 + 600).match, CommandTracker::AckMatch::kNotTracked);
}

TEST(IngestCommandTracker, AnAckFromAnotherMeterIsRefusedAndTheCommandStaysOpen) {
  CommandTracker t;
  t.add(command("c1", "m1"), nullptr);
  EXPECT_EQ(t.on_ack(ack("c1", "m2", true), kT0 + 10).match, CommandTracker::AckMatch::kWrongMeter);
  EXPECT_EQ(t.size(), 1u);
  auto failed = t.on_ack(ack("c1", "m1", false), kT0 + 20);
  ASSERT_EQ(failed.match, CommandTracker::AckMatch::kFinished);
  EXPECT_EQ(failed.record.state, storage::CommandState::kFailed);
}

TEST(IngestCommandTracker, UnsentCommandsArePublishedOnConnectOnlyOnce) {
  CommandTracker t;
  t.add(command("c1", "m1"), nullptr);
  t.add(command("c2", "m2"), [](const TrackedCommand&) -> std::optional<int> { return std::nullopt; });  // refused
  std::vector<std::string> published;
  int mid = 0;
  const PublishFn publish = [&](const TrackedCommand& c) -> std::optional<int> {
    published.push_back(c.record.id);
    return ++mid;
  };
  t.publish_unsent(publish);
  EXPECT_EQ(published, (std::vector<std::string>{"c1", "c2"}));
  t.publish_unsent(publish);
  EXPECT_EQ(published.size(), 2u);
  EXPECT_TRUE(t.on_published(2, kT0 + 5));
}

TEST(IngestCommandTracker, CommandsPastTheirTimeoutTimeOutWithTheReason) {
  CommandTracker t;
  t.add(command("c1", "m1", 2000), nullptr);
  t.add(command("c2", "m1", 60'000), nullptr);
  EXPECT_TRUE(t.expire(kT0 + 2000).empty());
  const auto out = t.expire(kT0 + 2001);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].id, "c1");
  EXPECT_EQ(out[0].state, storage::CommandState::kTimedOut);
  EXPECT_EQ(out[0].message, "no acknowledgement within 2 s");
  EXPECT_EQ(out[0].updated_ms, kT0 + 2001);
  EXPECT_EQ(t.size(), 1u);
}

TEST(IngestCommandTracker, ANewCommandChecksItsArgumentsAndGetsAFreshId) {
  CommandRequest set_period{"m1", protocol::CommandKind::kSetPeriod, 30, "ops", "", 0};
  auto a = new_command(set_period, kT0, 30'000);
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  EXPECT_EQ(a->record.args_json, "{\"period_s\":30}");
  EXPECT_EQ(a->record.state, storage::CommandState::kPending);
  EXPECT_EQ(a->timeout_ms, 30'000);
  EXPECT_EQ(a->command.expires_ms, kT0 + 30'000);
  EXPECT_EQ(a->record.id.rfind("c" + std::to_string(kT0) + "-", 0), 0u);
  auto b = new_command(set_period, kT0, 30'000);
  ASSERT_TRUE(b.ok());
  EXPECT_NE(a->record.id, b->record.id);

  set_period.period_s = 0;
  auto bad = new_command(set_period, kT0, 30'000);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "period_s");
  EXPECT_EQ(bad.error().message, "set_period needs period_s from 1 to 3600, got 0");
  CommandRequest ping{"m1", protocol::CommandKind::kPing, 5, "", "", 0};
  EXPECT_EQ(new_command(ping, kT0, 1).error().field, "period_s");
  ping.period_s.reset();
  ping.timeout_ms = -1;
  EXPECT_EQ(new_command(ping, kT0, 1).error().field, "timeout_ms");
}

}  // namespace
}  // namespace wattguard::ingest
