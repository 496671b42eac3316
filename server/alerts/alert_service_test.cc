// AlertService on a real SQLite file: raise, dedup, clear, acknowledge/close, outbox rows, reopen.
#include "wattguard/alerts/alert_service.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "wattguard/test_support/temp_dir.h"

namespace wattguard::alerts {
namespace {

class AlertServiceTest : public ::testing::Test {
 protected:
  std::unique_ptr<AlertService> open(std::vector<Recipient> recipients = {}, int max_notified_per_day = 0) {
    AlertServiceOptions o;
    o.max_notified_per_meter_per_day = max_notified_per_day;
    o.database_path = (dir_ / "wattguard.db").string();
    o.now_ms = [this] { return now_; };
    o.recipients = [recipients](const std::string&) { return recipients; };
    auto s = AlertService::open(o);
    EXPECT_TRUE(s.ok()) << s.error().to_string();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  test_support::TempDir temp_dir_{"alerts"};
  const std::filesystem::path dir_ = temp_dir_.path();
  int64_t now_ = 1'700'000'000'000;
};

NewAlert tamper(const std::string& meter, const std::string& kind, double score = 1) {
  NewAlert a;
  a.kind = kind;
  a.meter_id = meter;
  a.area = "north";
  a.score = score;
  a.evidence = nlohmann::json::array({{{"detail", "neutral 4.1 A vs phase 0.2 A"}}});
  return a;
}

TEST_F(AlertServiceTest, RaiseStoresEverythingAndDedupUpdatesTheOpenAlert) {
  auto s = open();
  const int64_t id = s->raise(tamper("m-001", "neutral_mismatch", 0.5));
  ASSERT_GT(id, 0);
  now_ += 1000;
  NewAlert again = tamper("m-001", "neutral_mismatch", 0.8);
  again.evidence = nlohmann::json::array({"second"});
  EXPECT_EQ(s->raise(again), id);
  EXPECT_NE(s->raise(tamper("m-001", "cover_open")), id);
  EXPECT_NE(s->raise(tamper("m-002", "neutral_mismatch")), id);

  const auto a = s->get(id);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->kind, "neutral_mismatch");
  EXPECT_EQ(a->meter_id, "m-001");
  EXPECT_EQ(a->area, "north");
  EXPECT_DOUBLE_EQ(a->score, 0.8);
  EXPECT_EQ(a->evidence, nlohmann::json::array({"second"}));
  EXPECT_EQ(a->raised_ms, 1'700'000'000'000);
  EXPECT_EQ(a->updated_ms, 1'700'000'001'000);
  EXPECT_EQ(a->state, AlertState::kOpen);
  EXPECT_EQ(s->list({}).size(), 3u);
  EXPECT_EQ(s->open_count("m-001"), 2);
  EXPECT_EQ(s->open_counts().at("m-002"), 1);
}

TEST_F(AlertServiceTest, ExplicitDedupKeyAndClearStartsANewAlert) {
  auto s = open();
  NewAlert a;
  a.kind = "energy_balance";
  a.transformer_id = "dt-7";
  a.dedup_key = "balance:dt-7";
  const int64_t first = s->raise(a);
  EXPECT_EQ(s->raise(a), first);
  s->clear("balance:dt-7", now_ + 5000);
  const auto cleared = s->get(first);
  ASSERT_TRUE(cleared);
  EXPECT_EQ(cleared->cleared_ms, now_ + 5000);
  EXPECT_EQ(cleared->state, AlertState::kOpen);  // tamper-like alerts wait for a person to close them
  ASSERT_FALSE(cleared->actions.empty());
  EXPECT_EQ(cleared->actions.back().action, "clear");
  const int64_t second = s->raise(a);
  EXPECT_NE(second, first);
  s->clear("no-such-key", now_);  // no-op
}

TEST_F(AlertServiceTest, OfflineAlertIsClosedWhenCleared) {
  auto s = open();
  const int64_t id = s->raise(tamper("m-003", "offline"));
  s->clear(AlertService::default_dedup_key(tamper("m-003", "offline")), now_ + 1);
  EXPECT_EQ(s->get(id)->state, AlertState::kClosed);
  EXPECT_EQ(s->open_count("m-003"), 0);
}

TEST_F(AlertServiceTest, AcknowledgeAndCloseRecordWhoAndWhy) {
  auto s = open();
  const int64_t id = s->raise(tamper("m-001", "cover_open"));
  EXPECT_EQ(s->acknowledge(id + 100, "op", "").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(s->acknowledge(id, "op", "on my way").ok());
  EXPECT_EQ(s->get(id)->state, AlertState::kAcknowledged);
  EXPECT_TRUE(s->close(id, "op", "seal replaced").ok());
  EXPECT_EQ(s->close(id, "op", "again").error().reason, kAlertAlreadyClosed);
  const auto a = s->get(id);
  EXPECT_EQ(a->state, AlertState::kClosed);
  ASSERT_EQ(a->actions.size(), 2u);
  EXPECT_EQ(a->actions[0].actor, "op");
  EXPECT_EQ(a->actions[0].action, "acknowledge");
  EXPECT_EQ(a->actions[1].detail, "seal replaced");
  // A closed alert does not absorb new raises.
  EXPECT_NE(s->raise(tamper("m-001", "cover_open")), id);
}

TEST_F(AlertServiceTest, ListFiltersByMeterStateAndOwnMeters) {
  auto s = open();
  const int64_t a1 = s->raise(tamper("m-001", "cover_open"));
  s->raise(tamper("m-002", "cover_open"));
  NewAlert t;
  t.kind = "energy_balance";
  t.transformer_id = "dt-1";
  s->raise(t);
  s->close(a1, "op", "");
  AlertQuery q;
  q.meter_id = "m-001";
  EXPECT_EQ(s->list(q).size(), 1u);
  q = {};
  q.transformer_id = "dt-1";
  EXPECT_EQ(s->list(q).size(), 1u);
  q = {};
  q.state = AlertState::kOpen;
  EXPECT_EQ(s->list(q).size(), 2u);
  q.state = AlertState::kClosed;
  EXPECT_EQ(s->list(q).size(), 1u);
  AlertQuery own;
  own.only_meters = std::vector<std::string>{"m-002"};
  const auto mine = s->list(own);
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].meter_id, "m-002");
  own.only_meters = std::vector<std::string>{};
  EXPECT_TRUE(s->list(own).empty());
  q = {};
  q.limit = 2;
  EXPECT_EQ(s->list(q).size(), 2u);
}

TEST_F(AlertServiceTest, OutboxRowsAreWrittenWithTheAlertAndSurviveReopen) {
  int64_t id = 0;
  {
    auto s = open({{"webhook", "Asha", "http://127.0.0.1:1/hook"}, {"sms", "Asha", "+919800000001"}});
    id = s->raise(tamper("m-001", "reverse_flow"));
    s->raise(tamper("m-001", "reverse_flow"));  // dedup: no second set of rows
    const auto due = s->due_deliveries(now_);
    ASSERT_EQ(due.size(), 2u);
    EXPECT_TRUE(s->mark_delivered(due[0].id, now_));
    EXPECT_FALSE(s->mark_delivered(due[0].id, now_));  // never twice
    s->mark_failed(due[1].id, "HTTP 503", now_ + 60'000, false);
  }
  auto s = open();
  const auto ds = s->deliveries_of(id);
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_EQ(ds[0].state, DeliveryState::kDelivered);
  EXPECT_EQ(ds[1].state, DeliveryState::kPending);
  EXPECT_EQ(ds[1].attempts, 1);
  EXPECT_EQ(ds[1].last_error, "HTTP 503");
  EXPECT_TRUE(s->due_deliveries(now_).empty());
  EXPECT_EQ(s->due_deliveries(now_ + 60'000).size(), 1u);
  s->mark_failed(ds[1].id, "HTTP 503", 0, true);
  EXPECT_EQ(s->deliveries_of(id)[1].state, DeliveryState::kUndelivered);
  EXPECT_TRUE(s->due_deliveries(now_ + 10'000'000).empty());
}

// A meter that reports a register rollback with every reading: one alert whose evidence counts them.
TEST_F(AlertServiceTest, RepeatedOccurrencesAddToOneAlertKeepingTheLastTwenty) {
  auto s = open({{"sms", "Asha", "+919800000001"}});
  int64_t id = 0;
  for (int k = 1; k <= 30; ++k) {
    NewAlert a = tamper("m-001", "register_rollback", 0.9);
    a.dedup_key = "tamper|m-001|register_rollback";
    a.occurrence = true;
    a.evidence = nlohmann::json::array({{{"event_id", k}}});
    const int64_t got = s->raise(a);
    if (k == 1) id = got;
    EXPECT_EQ(got, id) << k;
    now_ += 5000;
  }
  const auto a = s->get(id);
  ASSERT_TRUE(a);
  ASSERT_EQ(a->evidence.size(), kMaxOccurrences);
  EXPECT_EQ(a->evidence.front()["event_id"], 11);
  EXPECT_EQ(a->evidence.back()["event_id"], 30);
  EXPECT_EQ(a->evidence.back()["occurrence"], 30);
  EXPECT_EQ(s->due_deliveries(now_).size(), 1u);  // one SMS, not thirty
  // Closed by an operator, the next occurrence is a new alert numbered from 1.
  ASSERT_TRUE(s->close(id, "op", "meter replaced").ok());
  NewAlert next = tamper("m-001", "register_rollback", 0.9);
  next.dedup_key = "tamper|m-001|register_rollback";
  next.occurrence = true;
  const int64_t again = s->raise(next);
  EXPECT_NE(again, id);
  EXPECT_EQ(s->get(again)->evidence.back()["occurrence"], 1);
}

TEST_F(AlertServiceTest, AMetersAlertsNotifyAtMostTheDailyLimitOthersAreStoredAndMarked) {
  auto s = open({{"sms", "Asha", "+919800000001"}}, 2);
  const int64_t first = s->raise(tamper("m-001", "neutral_mismatch"));
  const int64_t second = s->raise(tamper("m-001", "cover_open"));
  const int64_t third = s->raise(tamper("m-001", "magnetic"));
  const int64_t other_meter = s->raise(tamper("m-002", "magnetic"));
  EXPECT_EQ(s->deliveries_of(first).size(), 1u);
  EXPECT_EQ(s->deliveries_of(second).size(), 1u);
  EXPECT_TRUE(s->deliveries_of(third).empty());
  EXPECT_EQ(s->deliveries_of(other_meter).size(), 1u);  // one meter's flood does not silence another
  const auto held = s->get(third);
  ASSERT_TRUE(held);
  EXPECT_EQ(held->state, AlertState::kOpen);  // stored and listed all the same
  ASSERT_EQ(held->actions.size(), 1u);
  EXPECT_EQ(held->actions[0].action, "not_notified");
  // A day after the first, the window has room again.
  now_ += 86'400'000;
  EXPECT_EQ(s->deliveries_of(s->raise(tamper("m-001", "reverse_flow"))).size(), 1u);
}

TEST_F(AlertServiceTest, ListenerSeesOnlyNewAlerts) {
  auto s = open();
  std::vector<int64_t> seen;
  s->add_listener([&](const Alert& a) { seen.push_back(a.id); });
  const int64_t id = s->raise(tamper("m-001", "magnetic"));
  s->raise(tamper("m-001", "magnetic"));
  EXPECT_EQ(seen, std::vector<int64_t>{id});
}

}  // namespace
}  // namespace wattguard::alerts
