// Tests of the ReadingStore contract, run on every backend (SQLite staged, SQLite compacted, PostgreSQL):
// idempotent ingest, rollups (also for late readings), rollback events, aggregation, retention, restart, bad
// input, commands, audit and concurrent access.
#include "wattguard/storage/reading_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <random>
#include <thread>

#include "server/storage/store_test_backends.h"

namespace wattguard::storage {
namespace {

using namespace store_test;  // NOLINT: the helpers are what these tests are written in

// Parameter: the backend. SQLite runs twice: compacting after every append (readings served from chunks and
// rollups) or never (served from staging); every behaviour must be the same on all three.
class StoreTest : public testing::TestWithParam<BackendKind> {
 protected:
  void SetUp() override {
    backend_ = make_backend(GetParam());
    store_ = backend_->open();
    ASSERT_TRUE(store_);
    ASSERT_TRUE(store_->add_meter(MeterInfo{"m1", "Kitchen", "north", "alice", 0}).ok());
    ASSERT_TRUE(store_->add_meter(MeterInfo{"m2", "", "south", "", 0}).ok());
  }
  AppendResult append(const std::vector<Reading>& rs, int64_t received = kT0) {
    auto r = store_->append_readings(rs, received);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    backend_->settle(*store_);
    return r.ok() ? r.value() : AppendResult{};
  }
  // Closes the store and opens the same database again (a restart).
  void reopen() {
    store_.reset();
    store_ = backend_->open();
    ASSERT_TRUE(store_);
  }
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<ReadingStore> store_;
};

TEST_P(StoreTest, MetersRegistry) {
  auto m = store_->get_meter("m1");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->name, "Kitchen");
  EXPECT_EQ(m->area, "north");
  EXPECT_EQ(m->owner, "alice");
  EXPECT_GT(m->created_ms, 0);
  EXPECT_EQ(store_->add_meter(meter("m1")).error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(store_->add_meter(meter("bad/id")).error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(store_->get_meter("nope").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(store_->update_meter(MeterInfo{"m2", "Shop", "east", "bob", 0}).ok());
  EXPECT_EQ(store_->get_meter("m2")->area, "east");
  EXPECT_EQ(store_->update_meter(meter("m9")).error().code, ErrorCode::kNotFound);
  // Bulk add is all or nothing.
  std::vector<MeterInfo> bulk = {meter("b1"), meter("b2"), meter("m1")};
  EXPECT_EQ(store_->add_meters(bulk).error().code, ErrorCode::kAlreadyExists);
  EXPECT_FALSE(store_->has_meter("b1"));
  bulk.pop_back();
  EXPECT_TRUE(store_->add_meters(bulk).ok());
  auto all = store_->list_meters();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[0].id, "b1");
  EXPECT_EQ((*all)[3].id, "m2");
}

TEST_P(StoreTest, DuplicatesAreIgnoredAndCounted) {
  const auto rs = steady("m1", 10);
  AppendResult first = append(rs);
  EXPECT_EQ(first.stored, 10u);
  EXPECT_EQ(first.duplicates, 0u);
  std::vector<Reading> again(rs.begin() + 5, rs.end());
  again.push_back(steady("m1", 1, 10)[0]);
  again.push_back(steady("m1", 1, 10)[0]);  // twice in the same batch
  AppendResult second = append(again);
  EXPECT_EQ(second.stored, 1u);
  EXPECT_EQ(second.duplicates, 6u);
  EXPECT_EQ(second.duplicate_indices, (std::vector<std::size_t>{0, 1, 2, 3, 4, 6}));
  auto sum = store_->seq_summary("m1");
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(sum->count, 11u);
  EXPECT_EQ(sum->min_seq, 0u);
  EXPECT_EQ(sum->max_seq, 10u);
  // A duplicate with different values does not overwrite the stored one, nor touch the rollups.
  Reading changed = rs[3];
  changed.p_w = 99999;
  append({changed});
  auto raw = store_->raw_readings("m1", kT0, kT0 + 3600'000);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ((*raw)[3], rs[3]);
  auto agg = store_->readings("m1", kT0, kT0 + 3600'000, 3600'000);
  ASSERT_TRUE(agg.ok());
  ASSERT_EQ(agg->points.size(), 1u);
  EXPECT_EQ(agg->points[0].count, 11u);
  EXPECT_DOUBLE_EQ(agg->points[0].p_max_w, 1200);
}

TEST_P(StoreTest, AggregationMathAcrossResolutions) {
  // Two hours of a load that alternates 600 W / 1800 W every minute (avg 1200 W), registers integrated.
  std::vector<Reading> rs;
  double imp = 1000;
  for (uint64_t seq = 0; seq < 1440; ++seq) {
    const int64_t t = kT0 + static_cast<int64_t>(seq) * 5000;
    const double p = ((t - kT0) / kMin) % 2 == 0 ? 600 : 1800;
    if (seq > 0) imp += p * 5.0 / 3600.0;
    rs.push_back(make("m1", seq, t, p, imp));
  }
  std::shuffle(rs.begin(), rs.end(), std::mt19937(3));  // order of arrival must not matter
  for (std::size_t i = 0; i < rs.size(); i += 100) {
    append(std::vector<Reading>(rs.begin() + static_cast<long>(i),
                                rs.begin() + static_cast<long>(std::min(i + 100, rs.size()))));
  }
  const int64_t end = kT0 + 2 * 3600'000;
  // step 10 s -> raw; 2 min -> 1m rollups; 30 min -> 15m; 1 h -> 1h; 1 day -> 1d
  struct Case {
    int64_t step;
    Resolution source;
    std::size_t points;
  };
  for (const Case c : {Case{10'000, Resolution::kRaw, 720}, Case{2 * kMin, Resolution::k1Min, 60},
                       Case{30 * kMin, Resolution::k15Min, 4}, Case{3600'000, Resolution::k1Hour, 2},
                       Case{86'400'000, Resolution::k1Day, 1}}) {
    auto agg = store_->readings("m1", kT0, end, c.step);
    ASSERT_TRUE(agg.ok()) << agg.error().message;
    EXPECT_EQ(agg->source, c.source) << c.step;
    EXPECT_EQ(agg->step_ms, c.step);
    ASSERT_EQ(agg->points.size(), c.points) << c.step;
    double energy = 0;
    uint32_t count = 0;
    for (const AggregatePoint& p : agg->points) {
      energy += p.energy_import_wh;
      count += p.count;
      EXPECT_EQ(p.t_ms % c.step, 0);
    }
    EXPECT_EQ(count, 1440u) << c.step;
    // Energy across buckets adds up to last minus first register: nothing lost between buckets.
    EXPECT_NEAR(energy, imp - 1000, 1e-6) << c.step;
    if (c.step >= 2 * kMin) {
      EXPECT_NEAR(agg->points[0].p_avg_w, 1200, 1e-9) << c.step;
      EXPECT_DOUBLE_EQ(agg->points[0].p_min_w, 600);
      EXPECT_DOUBLE_EQ(agg->points[0].p_max_w, 1800);
      EXPECT_DOUBLE_EQ(agg->points[0].vrms_avg, 230);
    }
  }
  // A 1-hour bucket holds 720 readings and 1 h of energy at 1200 W average (minus the first 5 s).
  auto hourly = store_->readings("m1", kT0, end, 3600'000);
  ASSERT_TRUE(hourly.ok());
  EXPECT_EQ(hourly->points[0].count, 720u);
  EXPECT_NEAR(hourly->points[1].energy_import_wh, 1200.0, 1e-6);
  // Steps that are not a multiple of the source resolution are rounded to one.
  auto odd = store_->readings("m1", kT0, end, 2592'000);  // 43.2 min -> 45 min of 15-min buckets
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ(odd->source, Resolution::k15Min);
  EXPECT_EQ(odd->step_ms, 45 * kMin);
}

TEST_P(StoreTest, AggregationFirstBucketUsesTheRegisterBeforeTheRange) {
  append(steady("m1", 720 * 2));  // two hours at 1200 W
  auto agg = store_->readings("m1", kT0 + 3600'000, kT0 + 2 * 3600'000, 3600'000);
  ASSERT_TRUE(agg.ok());
  ASSERT_EQ(agg->points.size(), 1u);
  // 1199 intervals of 5 s fall inside the 2nd hour's readings; plus the one across the boundary.
  EXPECT_NEAR(agg->points[0].energy_import_wh, 1200.0, 1e-6);
}

TEST_P(StoreTest, BadQueryParametersAreRefused) {
  EXPECT_EQ(store_->readings("m1", kT0, kT0 + 1000, 0).error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(store_->readings("m1", kT0, kT0, 1000).error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(store_->readings("m1", kT0, kT0 + 86'400'000, 1, 1000).error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(store_->readings("zz", kT0, kT0 + 1000, 1000).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->raw_readings("zz", kT0, kT0 + 1000).error().code, ErrorCode::kNotFound);
}

TEST_P(StoreTest, LateReadingIsInsertedAndCorrectsItsRollups) {
  auto rs = steady("m1", 720);  // one hour
  const Reading held_back = rs[300];
  rs.erase(rs.begin() + 300);
  append(rs);
  auto before = store_->readings("m1", kT0, kT0 + 3600'000, 3600'000);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->points[0].count, 719u);
  auto minute_before = store_->readings("m1", held_back.time_ms - held_back.time_ms % kMin,
                                        held_back.time_ms - held_back.time_ms % kMin + kMin, kMin);
  ASSERT_TRUE(minute_before.ok());
  EXPECT_EQ(minute_before->points[0].count, 11u);

  Reading late = held_back;
  late.p_w = 5000;  // distinguishable in min/max
  AppendResult r = append({late});
  EXPECT_EQ(r.stored, 1u);
  EXPECT_EQ(r.late, 1u);
  EXPECT_EQ(r.rollbacks, 0u);  // its register lies between its neighbours'
  for (int64_t step : {kMin, 15 * kMin, kMin * 60, kMin * 1440}) {
    const int64_t start = late.time_ms - late.time_ms % step;
    auto agg = store_->readings("m1", start, start + step, step);
    ASSERT_TRUE(agg.ok());
    ASSERT_EQ(agg->points.size(), 1u);
    EXPECT_DOUBLE_EQ(agg->points[0].p_max_w, 5000) << step;
  }
  auto after = store_->readings("m1", kT0, kT0 + 3600'000, 3600'000);
  EXPECT_EQ(after->points[0].count, 720u);
  auto minute =
      store_->readings("m1", late.time_ms - late.time_ms % kMin, late.time_ms - late.time_ms % kMin + kMin, kMin);
  EXPECT_EQ(minute->points[0].count, 12u);
  // A late reading that is the first of its minute moves the bucket's first register.
  auto day = store_->readings("m1", kT0, kT0 + 86'400'000, 86'400'000);
  EXPECT_EQ(day->points[0].count, 720u);
}

TEST_P(StoreTest, LateReadingOlderThanEverythingBecomesTheFirstRegister) {
  auto rs = steady("m1", 24);  // 2 minutes
  append(std::vector<Reading>(rs.begin() + 1, rs.end()));
  auto before = store_->readings("m1", kT0, kT0 + 2 * kMin, kMin);
  EXPECT_NEAR(before->points[0].energy_import_wh, 1200.0 * 50 / 3600, 1e-9);  // seq 1..11: nothing before it
  append({rs[0]});
  auto after = store_->readings("m1", kT0, kT0 + 2 * kMin, kMin);
  EXPECT_NEAR(after->points[0].energy_import_wh, 1200.0 * 55 / 3600, 1e-9);  // seq 0..11: 11 intervals
  EXPECT_EQ(after->points[0].count, 12u);
  EXPECT_NEAR(after->points[0].energy_import_wh + after->points[1].energy_import_wh, 1200.0 * 115 / 3600, 1e-9);
}

TEST_P(StoreTest, RegisterRollbackIsStoredAndRaisesOneEvent) {
  auto rs = steady("m1", 10);
  append(rs);
  std::vector<Reading> reset;
  for (uint64_t seq = 10; seq < 15; ++seq) {
    reset.push_back(make("m1", seq, kT0 + static_cast<int64_t>(seq) * 5000, 1200, 0.5 * static_cast<double>(seq - 10)));
  }
  AppendResult r = append(reset);
  EXPECT_EQ(r.stored, 5u);     // stored, not refused
  EXPECT_EQ(r.rollbacks, 1u);  // only the step back, not every reading after it
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].event.kind, protocol::EventKind::kRegisterRollback);
  EXPECT_EQ(r.events[0].source, EventSource::kServer);
  EXPECT_EQ(r.events[0].event.time_ms, reset[0].time_ms);
  EXPECT_NE(r.events[0].event.details.find("e_import_wh went backwards"), std::string::npos)
      << r.events[0].event.details;
  auto ev = store_->events(query("m1"));
  ASSERT_TRUE(ev.ok());
  ASSERT_EQ(ev->size(), 1u);
  EXPECT_EQ((*ev)[0].event.kind, protocol::EventKind::kRegisterRollback);
  EXPECT_EQ(store_->seq_summary("m1")->count, 15u);
  // Energy never counts negative across the reset.
  auto agg = store_->readings("m1", kT0, kT0 + kMin, 5000);
  ASSERT_TRUE(agg.ok());
  for (const auto& p : agg->points) EXPECT_GE(p.energy_import_wh, 0.0);
}

TEST_P(StoreTest, RollbackIsDetectedAcrossABatchAndAfterReopen) {
  append(steady("m1", 5));
  reopen();  // the newest reading is looked up again from the database
  AppendResult r = append({make("m1", 5, kT0 + 25'000, 1200, 0.0)});
  EXPECT_EQ(r.rollbacks, 1u);
  // Export register too, in the same batch as an in-order reading.
  AppendResult r2 = append({make("m2", 0, kT0, -500, 0, 10.0), make("m2", 1, kT0 + 5000, -500, 0, 3.0)});
  EXPECT_EQ(r2.rollbacks, 1u);
  ASSERT_EQ(r2.events.size(), 1u);
  EXPECT_NE(r2.events[0].event.details.find("e_export_wh"), std::string::npos);
}

TEST_P(StoreTest, LateReadingWithTooHighRegisterRaisesRollback) {
  auto rs = steady("m1", 10);
  Reading odd = rs[4];
  rs.erase(rs.begin() + 4);
  append(rs);
  odd.e_import_wh = 1e6;  // above the following reading: the register went back after it
  AppendResult r = append({odd});
  EXPECT_EQ(r.late, 1u);
  EXPECT_EQ(r.rollbacks, 1u);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].event.time_ms, rs[4].time_ms);  // at the reading after it
}

TEST_P(StoreTest, InvalidAndUnknownReadingsAreRefusedTheRestStored) {
  auto rs = steady("m1", 4);
  Reading nan = make("m1", 100, kT0, 1, 1);
  nan.vrms = std::numeric_limits<double>::quiet_NaN();
  Reading neg = make("m1", 101, kT0, 1, 1);
  neg.irms = -1;
  Reading unknown = make("ghost", 0, kT0, 1, 1);
  Reading bad_id = make("a/b", 0, kT0, 1, 1);
  std::vector<Reading> batch = {rs[0], nan, rs[1], neg, unknown, rs[2], bad_id, rs[3]};
  AppendResult r = append(batch);
  EXPECT_EQ(r.stored, 4u);
  ASSERT_EQ(r.refused.size(), 4u);
  EXPECT_EQ(r.refused[0].index, 1u);
  EXPECT_EQ(r.refused[0].reason, protocol::Rejection::kNotFinite);
  EXPECT_EQ(r.refused[1].index, 3u);
  EXPECT_EQ(r.refused[1].reason, protocol::Rejection::kNegativeCurrent);
  EXPECT_EQ(r.refused[2].index, 4u);
  EXPECT_EQ(r.refused[2].reason, protocol::Rejection::kUnknownMeter);
  EXPECT_EQ(r.refused[3].index, 6u);
  EXPECT_EQ(r.refused[3].reason, protocol::Rejection::kBadMeterId);
  auto raw = store_->raw_readings("m1", 0, INT64_MAX);
  ASSERT_TRUE(raw.ok());
  ASSERT_EQ(raw->size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ((*raw)[i], rs[i]);
}

TEST_P(StoreTest, ReopenLosesNothing) {
  const auto rs = steady("m1", 1000);
  append(rs);
  ASSERT_TRUE(store_
                  ->add_event({"m2", protocol::EventKind::kCoverOpen, protocol::EventEdge::kOnset, kT0, "lid"},
                              EventSource::kMeter, kT0)
                  .ok());
  ASSERT_TRUE(store_->set_retention(RetentionPolicy{30, 60, 90, 400, 0}).ok());
  auto agg_before = store_->readings("m1", kT0, kT0 + 86'400'000, 15 * kMin);
  ASSERT_TRUE(agg_before.ok());
  reopen();
  auto raw = store_->raw_readings("m1", 0, INT64_MAX);
  ASSERT_TRUE(raw.ok());
  ASSERT_EQ(raw->size(), rs.size());
  for (std::size_t i = 0; i < rs.size(); ++i) ASSERT_EQ((*raw)[i], rs[i]);
  auto agg_after = store_->readings("m1", kT0, kT0 + 86'400'000, 15 * kMin);
  ASSERT_TRUE(agg_after.ok());
  EXPECT_EQ(agg_after->points, agg_before->points);
  EXPECT_EQ(store_->events(query())->size(), 1u);
  EXPECT_EQ(store_->retention().value(), (RetentionPolicy{30, 60, 90, 400, 0}));
  auto latest = store_->latest("m1");
  ASSERT_TRUE(latest.ok());
  ASSERT_TRUE(latest->has_value());
  EXPECT_EQ((*latest)->reading, rs.back());
  EXPECT_EQ((*latest)->received_ms, kT0);
  // Appending the same readings again after the restart stores nothing.
  AppendResult again = append(rs);
  EXPECT_EQ(again.stored, 0u);
  EXPECT_EQ(again.duplicates, rs.size());
}

TEST_P(StoreTest, LatestStatePerMeter) {
  EXPECT_FALSE(store_->latest("m1")->has_value());
  auto rs = steady("m1", 5);
  std::reverse(rs.begin(), rs.end());
  append(rs);
  append({make("m2", 7, kT0 + 1000, 10, 3)});
  EXPECT_EQ((*store_->latest("m1"))->reading.seq, 4u);
  auto all = store_->latest_all();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].reading.meter_id, "m1");
  EXPECT_EQ((*all)[1].reading.seq, 7u);
  EXPECT_EQ(store_->latest("zz").error().code, ErrorCode::kNotFound);
}

TEST_P(StoreTest, RetentionDeletesOnlyOlderRowsPerResolution) {
  // 3 days, one reading per 10 minutes.
  std::vector<Reading> rs;
  for (uint64_t i = 0; i < 3 * 144; ++i) {
    rs.push_back(make("m1", i, kT0 + static_cast<int64_t>(i) * 600'000, 100, static_cast<double>(i)));
  }
  append(rs);
  ASSERT_TRUE(store_->set_retention(RetentionPolicy{1, 2, 0, 0, 0}).ok());
  const int64_t now = kT0 + 3 * 86'400'000;
  auto r = store_->apply_retention(now);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->deleted[0], 2u * 144);  // raw: keep the last day
  EXPECT_EQ(r->deleted[1], 144u);      // 1m: keep the last two days
  EXPECT_EQ(r->deleted[2], 0u);
  auto raw = store_->raw_readings("m1", 0, INT64_MAX);
  ASSERT_EQ(raw->size(), 144u);
  EXPECT_EQ(raw->front().time_ms, now - 86'400'000);
  // Coarse rollups still answer for the deleted raw days.
  auto daily = store_->readings("m1", kT0, now, 86'400'000);
  ASSERT_TRUE(daily.ok());
  ASSERT_EQ(daily->points.size(), 3u);
  EXPECT_EQ(daily->points[0].count, 144u);
  EXPECT_EQ(store_->set_retention(RetentionPolicy{-1, 0, 0, 0, 0}).error().code, ErrorCode::kInvalidInput);
}

TEST_P(StoreTest, EventsStoreQueryAndDeduplicate) {
  const protocol::MeterEvent e1{"m1", protocol::EventKind::kMagnetic, protocol::EventEdge::kOnset, kT0, "3 mT"};
  const protocol::MeterEvent e2{"m1", protocol::EventKind::kMagnetic, protocol::EventEdge::kClear, kT0 + 60'000, ""};
  const protocol::MeterEvent e3{"m2", protocol::EventKind::kOutage, protocol::EventEdge::kOnset, kT0 + 5, ""};
  auto id1 = store_->add_event(e1, EventSource::kMeter, kT0);
  ASSERT_TRUE(id1.ok());
  EXPECT_EQ(store_->add_event(e1, EventSource::kMeter, kT0 + 9).value(), id1.value());  // QoS 1 redelivery
  ASSERT_TRUE(store_->add_event(e2, EventSource::kMeter, kT0).ok());
  ASSERT_TRUE(store_->add_event(e3, EventSource::kMeter, kT0).ok());
  EXPECT_EQ(store_
                ->add_event({"zz", protocol::EventKind::kMagnetic, protocol::EventEdge::kOnset, kT0, ""},
                            EventSource::kMeter, kT0)
                .error()
                .code,
            ErrorCode::kNotFound);
  auto all = store_->events(query());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].event, e2);  // newest first
  auto m1 = store_->events(query("m1", protocol::EventKind::kMagnetic));
  ASSERT_EQ(m1->size(), 2u);
  auto window = store_->events(query("", std::nullopt, kT0 + 1, kT0 + 100));
  ASSERT_EQ(window->size(), 1u);
  EXPECT_EQ((*window)[0].event, e3);
}

TEST_P(StoreTest, CommandsAndAudit) {
  CommandRecord c;
  c.id = "c1";
  c.meter_id = "m1";
  c.kind = protocol::CommandKind::kRelayOff;
  c.requested_by = "operator1";
  c.created_ms = kT0;
  ASSERT_TRUE(store_->add_command(c).ok());
  EXPECT_EQ(store_->add_command(c).error().code, ErrorCode::kAlreadyExists);
  c.id = "c2";
  c.meter_id = "zz";
  EXPECT_EQ(store_->add_command(c).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->open_commands()->size(), 1u);
  ASSERT_TRUE(store_->update_command("c1", CommandState::kSent, "", protocol::RelayState::kUnknown, kT0 + 10).ok());
  ASSERT_TRUE(
      store_->update_command("c1", CommandState::kAcked, "relay opened", protocol::RelayState::kOff, kT0 + 900).ok());
  EXPECT_EQ(store_->update_command("c9", CommandState::kAcked, "", protocol::RelayState::kOff, 1).error().code,
            ErrorCode::kNotFound);
  auto got = store_->get_command("c1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->state, CommandState::kAcked);
  EXPECT_EQ(got->sent_ms, kT0 + 10);
  EXPECT_EQ(got->updated_ms, kT0 + 900);
  EXPECT_EQ(got->relay, protocol::RelayState::kOff);
  EXPECT_EQ(got->message, "relay opened");
  EXPECT_EQ(store_->commands("m1")->size(), 1u);
  EXPECT_TRUE(store_->open_commands()->empty());

  ASSERT_TRUE(store_->append_audit({0, kT0, "operator1", "command.relay_off", "m1", "theft alert 17"}).ok());
  ASSERT_TRUE(store_->append_audit({0, kT0 + 1, "admin", "meter.provision", "m2", ""}).ok());
  auto audit = store_->audit("m1");
  ASSERT_EQ(audit->size(), 1u);
  EXPECT_EQ((*audit)[0].actor, "operator1");
  EXPECT_EQ(store_->audit("")->size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest,
                         testing::Values(BackendKind::kSqliteStaged, BackendKind::kSqliteCompacted,
                                         BackendKind::kPostgresql),
                         [](const testing::TestParamInfo<BackendKind>& info) { return backend_name(info.param); });

TEST_P(StoreTest, ConcurrentReadersWhileWriting) {
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!done) {
        auto agg = store_->readings("m1", kT0, kT0 + 86'400'000, 15 * kMin);
        auto latest = store_->latest_all();
        if (!agg.ok() || !latest.ok()) ++failures;
        // Every committed batch is complete: the counts are multiples of the batch size.
        uint32_t n = 0;
        if (agg.ok())
          for (const auto& p : agg->points) n += p.count;
        if (n % 50 != 0) ++failures;
        ++reads;
      }
    });
  }
  const auto rs = steady("m1", 1000);
  for (std::size_t i = 0; i < rs.size(); i += 50) {
    append(std::vector<Reading>(rs.begin() + static_cast<long>(i), rs.begin() + static_cast<long>(i + 50)));
  }
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(store_->seq_summary("m1")->count, 1000u);
}

}  // namespace
}  // namespace wattguard::storage
