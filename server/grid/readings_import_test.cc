// Readings import into a real SqliteStore: 15-minute rollups hold exactly each imported interval's energy,
// finer files are summed, re-imports store nothing twice, later files continue the register, and every bad
// input is an error naming its line with nothing stored.
#include "wattguard/grid/readings_import.h"

#include <gtest/gtest.h>

#include <cmath>

#include "server/grid/grid_test_support.h"

namespace wattguard::grid {
namespace {

constexpr int64_t kT0 = 1714521600;  // 2024-05-01T00:00:00Z
constexpr int64_t kNowMs = (kT0 + 86400) * 1000;

std::string row(const std::string& meter, int64_t end_s, double kwh) {
  return meter + "," + std::to_string(end_s) + "," + std::to_string(kwh) + "\n";
}

class ReadingsImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = open_test_store(dir_.file("w.db"));
    ASSERT_TRUE(store_);
    for (const char* m : {"c1", "m1"}) ASSERT_TRUE(store_->add_meter({m, "", "", "", 0}).ok());
  }
  std::vector<double> energies_kwh(const std::string& meter, int64_t from_s, int64_t to_s) {
    auto s = store_->readings(meter, from_s * 1000, to_s * 1000, 900'000);
    EXPECT_TRUE(s.ok());
    std::vector<double> out;
    if (!s.ok()) return out;
    EXPECT_EQ(s->source, storage::Resolution::k15Min);
    for (const auto& p : s->points) out.push_back(std::round(p.energy_import_wh) / 1000.0);
    return out;
  }
  test_support::TempDir dir_;
  std::unique_ptr<storage::SqliteStore> store_;
};

TEST_F(ReadingsImportTest, IntervalsLandInTheirOwnRollupBuckets) {
  std::string csv = "meter,time,kwh\n";
  const double kwh[] = {0.25, 0.5, 0.125, 1.0};
  for (int k = 0; k < 4; ++k) {
    csv += row("m1", kT0 + 900 * (k + 1), kwh[k]);
    csv += row("c1", kT0 + 900 * (k + 1), kwh[k] * 1.05);
  }
  auto result = import_readings(csv, "R.csv", *store_, kNowMs);
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  EXPECT_EQ(result.value().meters, 2u);
  EXPECT_EQ(result.value().rows, 8);
  EXPECT_EQ(result.value().intervals_stored, 8u);
  EXPECT_EQ(result.value().first_end_ms, (kT0 + 900) * 1000);
  EXPECT_EQ(energies_kwh("m1", kT0, kT0 + 3600), (std::vector<double>{0.25, 0.5, 0.125, 1.0}));
  auto s = store_->readings("m1", kT0 * 1000, (kT0 + 3600) * 1000, 900'000);
  ASSERT_EQ(s->points.size(), 4u);
  EXPECT_EQ(s->points[0].t_ms, kT0 * 1000);
  EXPECT_NEAR(s->points[1].p_avg_w, 2000.0, 1e-6);  // 0.5 kWh in 15 minutes
  // Marked as imported, so ingest never takes them for the meter reporting (no offline alerts for it).
  auto newest = store_->latest("c1");
  ASSERT_TRUE(newest.ok() && newest.value().has_value());
  EXPECT_EQ(newest.value()->reading.flags, protocol::kFlagImported);

  // The same file again stores nothing; a later one continues the register.
  auto again = import_readings(csv, "R.csv", *store_, kNowMs);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value().intervals_stored, 0u);
  EXPECT_EQ(again.value().intervals_skipped, 8u);
  // (A file needs two rows of some meter: the reader infers the interval from them.)
  auto later = import_readings("meter,time,kwh\n" + row("m1", kT0 + 4500, 0.75) + row("m1", kT0 + 5400, 0.5), "R2.csv",
                               *store_, kNowMs);
  ASSERT_TRUE(later.ok()) << later.error().to_string();
  EXPECT_EQ(energies_kwh("m1", kT0, kT0 + 5400), (std::vector<double>{0.25, 0.5, 0.125, 1.0, 0.75, 0.5}));
  storage::EventQuery query;
  query.meter_id = "m1";
  auto events = store_->events(query);
  ASSERT_TRUE(events.ok());
  EXPECT_TRUE(events->empty());  // registers never went back
}

TEST_F(ReadingsImportTest, FiveMinuteFilesAreSummedAndRegisterGapsCarried) {
  std::string csv = "meter,time,kwh\n";
  for (int k = 1; k <= 6; ++k) csv += row("m1", kT0 + 300 * k, 0.1);
  auto result = import_readings(csv, "R.csv", *store_, kNowMs);
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  EXPECT_EQ(result.value().source_interval_s, 300);
  EXPECT_EQ(energies_kwh("m1", kT0, kT0 + 1800), (std::vector<double>{0.3, 0.3}));

  // A gap covered by register_kwh: not stored as readings, but the register carries it into the next bucket.
  std::string reg = "meter,time,kwh,register_kwh\n";
  reg += "c1," + std::to_string(kT0 + 900) + ",1.0,10.0\n";
  reg += "c1," + std::to_string(kT0 + 1800) + ",1.0,11.0\n";
  reg += "c1," + std::to_string(kT0 + 4500) + ",1.0,15.0\n";  // 2 intervals missing, 3 kWh covered
  auto gap = import_readings(reg, "G.csv", *store_, kNowMs);
  ASSERT_TRUE(gap.ok()) << gap.error().to_string();
  EXPECT_EQ(gap.value().intervals_stored, 3u);
  EXPECT_EQ(gap.value().intervals_filled, 2u);
  EXPECT_EQ(energies_kwh("c1", kT0, kT0 + 4500), (std::vector<double>{1.0, 1.0, 4.0}));
}

TEST_F(ReadingsImportTest, BadInputNamesTheLineAndStoresNothing) {
  struct Case {
    std::string text;
    int64_t line;
    const char* field;
  };
  const std::string good = row("m1", kT0 + 900, 0.5) + row("m1", kT0 + 1800, 0.5);
  const Case cases[] = {
      {"meter,time,kwh\n" + good + "m1," + std::to_string(kT0 + 2700) + ",abc\n", 4, "kwh"},
      {"meter,time,kwh\n" + good + "m1,yesterday,0.5\n", 4, "time"},
      {"meter,time,kwh\n" + good + row("ghost", kT0 + 900, 0.1), 4, "meter"},
      {"meter,time,kwh\n" + good + "m1," + std::to_string(kT0 + 2700) + ",-1\n", 4, "kwh"},
      {"meter,time,kwh\n" + row("m1", kT0 + 1800, 0.5) + row("m1", kT0 + 3600, 0.5) + row("m1", kT0 + 5400, 0.5), 0,
       "time"},  // a 30-minute file
      {"meter,kwh\n" + good, 1, "header"},
  };
  for (const Case& c : cases) {
    auto r = import_readings(c.text, "R.csv", *store_, kNowMs);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.error().line, c.line) << r.error().to_string();
    EXPECT_EQ(r.error().field, c.field) << r.error().to_string();
    EXPECT_FALSE(store_->latest("m1")->has_value()) << "half-imported: " << c.text;
  }
  auto future =
      import_readings("meter,time,kwh\n" + row("m1", kT0 + 3 * 86400, 0.5) + row("m1", kT0 + 3 * 86400 + 900, 0.5),
                      "R.csv", *store_, kNowMs);
  ASSERT_FALSE(future.ok());
  EXPECT_NE(future.error().message.find("after the server's clock"), std::string::npos);
}

}  // namespace
}  // namespace wattguard::grid
