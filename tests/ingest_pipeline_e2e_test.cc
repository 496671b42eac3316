// Meters -> broker -> server -> store, all real: every reading stored, a broker restart loses
// nothing, commands round-trip, tamper events reach the store.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/e2e_support.h"
#include "wattguard/demo/local_system.h"
#include "wattguard/storage/reading_store.h"

namespace wattguard::e2e {
namespace {

using namespace std::chrono_literals;

demo::LocalSystemOptions options_for(const std::filesystem::path& data, std::size_t meters, double speed) {
  demo::LocalSystemOptions o;
  o.data_dir = data;
  o.http_port = 0;
  o.password_cost = "min";
  o.create_operator = false;
  o.fleet.meters = meters;
  o.fleet.speed = speed;
  o.fleet.fidelity = fleet::Fidelity::kSamples;
  o.fleet.sample_rate_hz = 2000;
  o.fleet.journal_fsync = false;
  o.fleet.keepalive_s = 10;
  o.configure_server = [](serve::ServerConfig& c) {
    c.storage.synchronous_full = false;
    c.ingest.flush_interval_ms = 50;
  };
  return o;
}

std::unique_ptr<demo::LocalSystem> start(const demo::LocalSystemOptions& o) {
  auto s = demo::LocalSystem::start(o);
  if (!s.ok()) throw std::runtime_error(s.error().message);
  return std::move(s).value();
}

uint64_t stored_count(demo::LocalSystem& sys, const std::string& id) {
  auto s = sys.server().store().seq_summary(id);
  return s.ok() ? s->count : 0;
}

// Polls until pred() or the timeout.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

// After the fleet has stopped: every meter's readings 1..next_seq-1 are in the store, once each.
void expect_all_stored(demo::LocalSystem& sys, const std::vector<uint64_t>& next) {
  const auto& ids = sys.fleet().meter_ids();
  ASSERT_TRUE(eventually(
      [&] {
        for (std::size_t k = 0; k < ids.size(); ++k) {
          if (stored_count(sys, ids[k]) < next[k] - 1) return false;
        }
        return true;
      },
      30s));
  for (std::size_t k = 0; k < ids.size(); ++k) {
    auto s = sys.server().store().seq_summary(ids[k]);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->count, next[k] - 1) << ids[k];
    EXPECT_EQ(s->min_seq, 1u) << ids[k];
    EXPECT_EQ(s->max_seq, next[k] - 1) << ids[k];
  }
}

TEST(IngestPipeline, NMetersTimesMReadingsAllStored) {
  TempDir dir("pipeline-e2e");
  const std::size_t meters = 8, readings = 10;
  auto sys = start(options_for(dir.path(), meters, 20.0));
  const auto& ids = sys->fleet().meter_ids();
  ASSERT_TRUE(eventually(
      [&] {
        for (const auto& id : ids) {
          if (stored_count(*sys, id) < readings) return false;
        }
        return true;
      },
      90s));
  sys->fleet().stop();
  const auto next = sys->fleet().next_seqs();
  expect_all_stored(*sys, next);
  const auto h = sys->server().ingest().health();
  EXPECT_EQ(h.rejected_total, 0u);
  // The stored values are the meter's: a plausible household supply.
  auto latest = sys->server().store().latest(ids[0]);
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_GT((*latest)->reading.vrms, 215.0);
  EXPECT_LT((*latest)->reading.vrms, 245.0);
  sys->stop();
}

TEST(IngestPipeline, BrokerRestartMidStreamLosesNothing) {
  TempDir dir("pipeline-e2e");
  auto sys = start(options_for(dir.path(), 6, 20.0));
  const auto& ids = sys->fleet().meter_ids();
  ASSERT_TRUE(eventually([&] { return stored_count(*sys, ids.back()) >= 3; }, 60s));
  sys->broker().stop();
  std::this_thread::sleep_for(2s);  // 40 virtual seconds: 8 readings per meter queued in the fleet
  ASSERT_TRUE(sys->broker().restart().ok());
  ASSERT_TRUE(
      eventually([&] { return sys->server().ingest().connected() && sys->fleet().stats().readings_queued == 0; }, 60s));
  sys->fleet().stop(10000);
  EXPECT_GT(sys->fleet().stats().readings_replayed, 0u);
  expect_all_stored(*sys, sys->fleet().next_seqs());
  sys->stop();
}

TEST(IngestPipeline, RelayOffCommandIsAcknowledgedAndTheMeterDrawsNothing) {
  TempDir dir("pipeline-e2e");
  auto sys = start(options_for(dir.path(), 3, 10.0));
  const std::string id = sys->fleet().meter_ids()[1];
  ASSERT_TRUE(eventually([&] { return stored_count(*sys, id) >= 2; }, 60s));
  ingest::CommandRequest req;
  req.meter_id = id;
  req.kind = protocol::CommandKind::kRelayOff;
  req.requested_by = "e2e";
  req.reason = "test";
  auto sent = sys->server().ingest().send_command(req);
  ASSERT_TRUE(sent.ok());
  const std::string command_id = sent->id;
  ASSERT_TRUE(eventually(
      [&] {
        auto c = sys->server().store().get_command(command_id);
        return c.ok() && c->state == storage::CommandState::kAcked;
      },
      30s));
  auto rec = sys->server().store().get_command(command_id);
  EXPECT_EQ(rec->relay, protocol::RelayState::kOff);
  const uint64_t at_ack = stored_count(*sys, id);
  ASSERT_TRUE(eventually([&] { return stored_count(*sys, id) >= at_ack + 2; }, 30s));
  auto latest = sys->server().store().latest(id);
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_LT((*latest)->reading.irms, 0.05);
  EXPECT_NE((*latest)->reading.flags & protocol::kFlagRelayOpen, 0u);
  sys->stop();
}

TEST(IngestPipeline, ThievesTamperEventsAreStored) {
  TempDir dir("pipeline-e2e");
  auto o = options_for(dir.path(), 4, 30.0);
  o.fleet.thieves.fraction = 0.5;
  o.fleet.thieves.kinds = {fleet::TheftKind::kBypass, fleet::TheftKind::kReversedCt};
  o.fleet.thieves.onset_min_s = 10;
  o.fleet.thieves.onset_max_s = 20;
  auto sys = start(o);
  auto count_kind = [&](protocol::EventKind kind) {
    storage::EventQuery q;
    q.kind = kind;
    auto e = sys->server().store().events(q);
    return e.ok() ? e->size() : 0;
  };
  ASSERT_TRUE(eventually(
      [&] {
        return count_kind(protocol::EventKind::kNeutralMismatch) >= 1 &&
               count_kind(protocol::EventKind::kReverseFlow) >= 1;
      },
      90s));
  storage::EventQuery q;
  q.kind = protocol::EventKind::kNeutralMismatch;
  auto stored = sys->server().store().events(q);
  ASSERT_TRUE(stored.ok());
  const std::vector<storage::StoredEvent> events = stored.value();
  for (const auto& e : events) {
    EXPECT_EQ(sys->fleet().snapshot(e.event.meter_id)->theft.kind, fleet::TheftKind::kBypass);
  }
  sys->stop();
}

}  // namespace
}  // namespace wattguard::e2e
