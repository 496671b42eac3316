// The analysis service end to end on a real SqliteStore: a simulated grid's readings are imported (as the
// server would store them), the topology put in the GridStore, and cycles run with an injected clock. The
// transformer with a thief raises one energy_balance alert and ranks the thief first (flagged, its own
// theft_suspect alert); the honest transformer raises nothing; incremental cycles and a restarted service
// reach the same conclusion with the same dedup keys.
#include "wattguard/grid/theft_analysis_service.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "server/grid/grid_test_support.h"
#include "wattguard/evaluation/grid_simulator.h"
#include "wattguard/grid/readings_import.h"

namespace wattguard::grid {
namespace {

struct Recorder {
  std::vector<alerts::NewAlert> raised;
  std::vector<std::string> cleared;
  std::map<std::string, alerts::NewAlert> active;

  AlertSink sink() {
    return AlertSink{[this](const alerts::NewAlert& a) {
                       raised.push_back(a);
                       active[a.dedup_key] = a;
                       return static_cast<int64_t>(raised.size());
                     },
                     [this](const std::string& key, int64_t) {
                       cleared.push_back(key);
                       active.erase(key);
                     }};
  }
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class TheftAnalysisTest : public ::testing::Test {
 protected:
  static constexpr int kDays = 22;

  void SetUp() override {
    evaluation::GridSimConfig config;
    config.seed = 11;
    config.transformers = 2;
    config.consumers = 12;
    config.days = kDays;
    config.calibration_days = 9;
    config.thief_share = 0;
    config.holiday_share = 0;
    config.new_appliance_share = 0;
    config.outage_share = 0;
    config.utc_offset_s = 0;
    grid_ = evaluation::simulate_grid(config);
    // Consumer 4 of DT001 bypasses its meter completely from day 15, 14:00.
    thief_ = grid_.consumers[4].id;
    for (int64_t k = 15 * 96 + 56; k < grid_.count; ++k) grid_.consumers[4].reported_kwh[static_cast<size_t>(k)] = 0.0f;

    store_ = open_test_store(dir_.file("w.db"));
    ASSERT_TRUE(store_);
    auto opened = GridStore::open(dir_.file("w.db"));
    ASSERT_TRUE(opened.ok()) << opened.error().to_string();
    grid_store_ = std::move(opened).value();
    std::vector<Transformer> topology;
    for (const auto& t : grid_.transformers) {
      ASSERT_TRUE(store_->add_meter({t.check_id, "", "", "", 0}).ok());
      Transformer tr{t.id, "", "area-" + t.id, t.check_id, {}, 0};
      for (int c : t.consumers) {
        const std::string& id = grid_.consumers[static_cast<size_t>(c)].id;
        ASSERT_TRUE(store_->add_meter({id, "", "", "", 0}).ok());
        tr.consumers.push_back(id);
      }
      topology.push_back(std::move(tr));
    }
    ASSERT_TRUE(grid_store_->replace_all(topology, 1).ok());
    ASSERT_TRUE(evaluation::write_grid_csv(grid_, dir_.file("R.csv"), dir_.file("T.csv"), true));
    last_end_ms_ = grid_.end_s(grid_.count - 1) * 1000;
    auto imported = import_readings(read_file(dir_.file("R.csv")), "R.csv", *store_, last_end_ms_);
    ASSERT_TRUE(imported.ok()) << imported.error().to_string();
    ASSERT_GT(imported.value().intervals_stored, 20000u);

    options_.calibration_days = 9;
    options_.history_days = kDays;
    options_.settle_s = 300;
  }

  int64_t now_at_end() const { return last_end_ms_ + options_.settle_s * 1000 + 1000; }

  void expect_thief_found(const Recorder& rec, const TheftAnalysisService& service) {
    const auto b1 = rec.active.find(TheftAnalysisService::balance_key("DT001"));
    ASSERT_NE(b1, rec.active.end()) << "no energy_balance alert for DT001";
    EXPECT_EQ(b1->second.kind, "energy_balance");
    EXPECT_EQ(b1->second.transformer_id, "DT001");
    EXPECT_EQ(b1->second.area, "area-DT001");
    ASSERT_TRUE(b1->second.evidence.is_array());
    const auto& facts = b1->second.evidence[0];
    EXPECT_GT(facts["unexplained_kwh"].get<double>(), 5.0);
    EXPECT_GT(facts["loss_share"].get<double>(), 0.0);
    EXPECT_EQ(facts["suspects"][0]["meter"], thief_);
    const auto s = rec.active.find(TheftAnalysisService::suspect_key("DT001", thief_));
    ASSERT_NE(s, rec.active.end()) << "no theft_suspect alert for the thief";
    EXPECT_EQ(s->second.kind, "theft_suspect");
    EXPECT_EQ(s->second.meter_id, thief_);
    EXPECT_EQ(s->second.evidence[0]["rank"], 1);
    EXPECT_GT(s->second.evidence.size(), 1u);  // text evidence follows the facts
    for (const auto& [key, alert] : rec.active) {
      EXPECT_EQ(alert.transformer_id, "DT001") << "honest transformer raised " << key;
      if (alert.kind == "theft_suspect") {
        EXPECT_EQ(alert.meter_id, thief_) << "honest consumer flagged";
      }
    }
    const auto status = service.status("DT001");
    ASSERT_TRUE(status);
    EXPECT_TRUE(status->calibrated);
    EXPECT_TRUE(status->alert);
    EXPECT_EQ(status->analysed_to_ms, last_end_ms_);
    ASSERT_FALSE(status->suspects.empty());
    EXPECT_EQ(status->suspects[0].meter, thief_);
    EXPECT_EQ(status->suspects[0].rank, 1);
    EXPECT_TRUE(status->suspects[0].flagged);
    ASSERT_TRUE(status->last);
    EXPECT_EQ(status->last->end_ms, last_end_ms_);
    EXPECT_TRUE(status->last->check_present);
    EXPECT_EQ(status->series.size(), 96u);
    const auto honest = service.status("DT002");
    ASSERT_TRUE(honest);
    EXPECT_TRUE(honest->calibrated);
    EXPECT_FALSE(honest->alert);
    for (const auto& sus : honest->suspects) EXPECT_FALSE(sus.flagged) << sus.meter;
  }

  test_support::TempDir dir_;
  evaluation::SimulatedGrid grid_;
  std::string thief_;
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<GridStore> grid_store_;
  TheftOptions options_;
  int64_t last_end_ms_ = 0;
};

TEST_F(TheftAnalysisTest, ThiefRaisesTheTransformerAlertAndRanksFirstHonestGridStaysQuiet) {
  Recorder rec;
  TheftAnalysisService service(options_, *store_, *grid_store_, rec.sink());
  const CycleSummary sum = service.run_cycle(now_at_end());
  EXPECT_TRUE(sum.errors.empty()) << sum.errors.front();
  EXPECT_EQ(sum.transformers, 2u);
  EXPECT_EQ(sum.rebuilt, 2u);
  EXPECT_EQ(sum.intervals_fed, 2u * kDays * 96);
  expect_thief_found(rec, service);
  for (const auto& a : rec.raised) EXPECT_EQ(a.transformer_id, "DT001");

  // Nothing new has ended: the next cycle feeds nothing and raises nothing more.
  const size_t raises = rec.raised.size();
  const CycleSummary idle = service.run_cycle(now_at_end() + 60'000);
  EXPECT_EQ(idle.intervals_fed, 0u);
  EXPECT_EQ(rec.raised.size(), raises);

  // Removing DT001 from the topology clears its alerts.
  ASSERT_TRUE(grid_store_->remove("DT001").ok());
  service.run_cycle(now_at_end() + 120'000);
  EXPECT_TRUE(rec.active.empty());
  EXPECT_FALSE(service.status("DT001"));
}

// The check meter's readings end with the file (read once a day by another system): ten hours later the
// transformer is analysed up to them and no further, so the late file's intervals still get a balance; after
// check_wait_s the analysis goes on without them.
TEST_F(TheftAnalysisTest, TheAnalysisWaitsForALateCheckMeter) {
  Recorder rec;
  TheftAnalysisService service(options_, *store_, *grid_store_, rec.sink());
  const CycleSummary early = service.run_cycle(now_at_end() + 10 * 3600'000LL);
  // The history window ends at now (its start moves 10 h = 40 intervals on); the feed stops at the check's end.
  EXPECT_EQ(early.intervals_fed, 2u * (kDays * 96 - 40));
  auto status = service.status("DT001");
  ASSERT_TRUE(status && status->last);
  EXPECT_EQ(status->analysed_to_ms, last_end_ms_);
  EXPECT_TRUE(status->last->check_present);
  expect_thief_found(rec, service);

  const int64_t late_ms = now_at_end() + options_.check_wait_s * 1000 + 3600'000LL;
  const CycleSummary late = service.run_cycle(late_ms);
  EXPECT_GT(late.intervals_fed, 2u * 26 * 4);
  status = service.status("DT001");
  ASSERT_TRUE(status && status->last);
  EXPECT_GT(status->analysed_to_ms, last_end_ms_ + options_.check_wait_s * 1000);
  EXPECT_FALSE(status->last->check_present);
}

TEST_F(TheftAnalysisTest, NoWaitWhenSetToZero) {
  options_.check_wait_s = 0;
  Recorder rec;
  TheftAnalysisService service(options_, *store_, *grid_store_, rec.sink());
  service.run_cycle(now_at_end() + 10 * 3600'000LL);
  const auto status = service.status("DT001");
  ASSERT_TRUE(status && status->last);
  EXPECT_EQ(status->analysed_to_ms, last_end_ms_ + 10 * 3600'000LL);
  EXPECT_FALSE(status->last->check_present);
}

TEST_F(TheftAnalysisTest, IncrementalCyclesAndARestartAgree) {
  options_.history_days = kDays - 2;  // the first cycle, two days before the end, starts at the grid's start
  Recorder rec;
  {
    TheftAnalysisService service(options_, *store_, *grid_store_, rec.sink());
    // Start two days before the end, then catch up interval by interval in 6-hour steps.
    service.run_cycle(now_at_end() - 2 * 86400'000LL);
    EXPECT_EQ(service.status("DT001")->analysed_to_ms, last_end_ms_ - 2 * 86400'000LL);
    for (int64_t back = 2 * 86400'000LL - 6 * 3600'000LL; back >= 0; back -= 6 * 3600'000LL) {
      const CycleSummary s = service.run_cycle(now_at_end() - back);
      EXPECT_EQ(s.rebuilt, 0u);
      EXPECT_EQ(s.intervals_fed, 2u * 24);
    }
    expect_thief_found(rec, service);
  }
  // A new service (server restart) rebuilds from the store and raises under the same keys.
  Recorder after;
  TheftAnalysisService restarted(options_, *store_, *grid_store_, after.sink());
  restarted.run_cycle(now_at_end());
  expect_thief_found(after, restarted);
  for (const auto& [key, alert] : after.active) EXPECT_TRUE(rec.active.count(key)) << key;
}

}  // namespace
}  // namespace wattguard::grid
