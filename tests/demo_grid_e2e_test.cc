// The demo's grid: simulated history loaded into a real server (SQLite store, grid store, theft analysis) and
// read back through its HTTP API, as a user of `wattguard demo` sees it.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "tests/e2e_support.h"
#include "wattguard/base/clock.h"
#include "wattguard/demo/demo_grid.h"
#include "wattguard/demo/local_system.h"
#include "wattguard/notify/http_client.h"

namespace wattguard::e2e {
namespace {

constexpr const char* kToken = "demo-grid-test-token-0123456789";

std::unique_ptr<demo::LocalSystem> start_server(const std::filesystem::path& data) {
  demo::LocalSystemOptions o;
  o.data_dir = data;
  o.http_port = 0;
  o.password_cost = "min";
  o.create_operator = false;
  o.api_token = kToken;
  o.fleet.meters = 1;
  o.fleet.journal_fsync = false;
  o.start_fleet = false;
  o.configure_server = [](serve::ServerConfig& c) {
    c.storage.synchronous_full = false;
    c.theft.history_days = 28;
  };
  auto s = demo::LocalSystem::start(o);
  if (!s.ok()) throw std::runtime_error(s.error().message);
  return std::move(s).value();
}

nlohmann::json get(demo::LocalSystem& sys, const std::string& path) {
  notify::HttpCall call;
  call.method = "GET";
  call.url = sys.url() + path;
  call.headers.emplace_back("Authorization", std::string("Bearer ") + kToken);
  const notify::HttpOutcome out = notify::http_call(call);
  EXPECT_EQ(out.status, 200) << path << ": " << out.error << out.body;
  return nlohmann::json::parse(out.body, nullptr, false);
}

TEST(DemoGrid, HistoryIsLoadedAnalysedAndItsPrimeSuspectIsAThief) {
  TempDir dir("demo-grid-e2e");
  auto sys = start_server(dir.path());
  demo::DemoGridOptions g;
  g.transformers = 1;
  g.consumers = 40;
  g.seed = 1;
  g.files_dir = dir.path() / "grid-demo";
  const int64_t now = system_now_ms();
  auto seeded = demo::seed_demo_grid(sys->server(), g, now);
  ASSERT_TRUE(seeded.ok()) << seeded.error().message;
  ASSERT_TRUE(seeded->seeded);
  EXPECT_EQ(seeded->transformers, 1u);
  EXPECT_EQ(seeded->consumers, 40u);
  ASSERT_FALSE(seeded->thieves.empty());
  // 41 meters x 28 days of 15-minute intervals, less the simulated gaps.
  EXPECT_GT(seeded->intervals_stored, 41u * 28 * 96 * 9 / 10);
  std::set<std::string> thieves;
  for (const auto& t : seeded->thieves) thieves.insert(t.meter);

  // The truth file lists exactly the thieves.
  std::ifstream truth(seeded->thieves_csv);
  std::string line;
  std::getline(truth, line);
  EXPECT_EQ(line, "meter,transformer,scenario");
  size_t rows = 0;
  while (std::getline(truth, line)) rows += thieves.count(line.substr(0, line.find(','))) ? 1 : 0;
  EXPECT_EQ(rows, thieves.size());

  // The analysis ran at once. The history ends at the last settled local midnight (UTC here), at most a day
  // ago; the analysis waits there for the check meters' next readings (theft.check_wait_s), so its newest
  // interval is that midnight's, with a check reading and a balance.
  auto status = sys->server().theft_analysis().status("DT001");
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(status->calibrated);
  const int64_t settle_ms = sys->server().config().theft.settle_s * 1000;
  EXPECT_EQ(status->analysed_to_ms % (86400 * 1000LL), 0) << status->analysed_to_ms;
  EXPECT_LE(status->analysed_to_ms, now - settle_ms);
  EXPECT_GT(status->analysed_to_ms, now - settle_ms - 86400 * 1000LL);
  ASSERT_TRUE(status->last);
  EXPECT_TRUE(status->last->check_present);
  EXPECT_TRUE(status->last->evaluated);

  EXPECT_EQ(status->suspects.size(), 40u);

  // Through the API (the list; the client reads 4 KiB of an answer): the transformer with its area and its
  // analysis, whose prime suspect really steals.
  const nlohmann::json list = get(*sys, "/api/v1/transformers");
  ASSERT_TRUE(list.contains("transformers")) << list.dump();
  ASSERT_EQ(list["transformers"].size(), 1u);
  const nlohmann::json& t = list["transformers"][0];
  EXPECT_EQ(t.value("area", ""), "grid-demo");
  ASSERT_TRUE(t.contains("analysis") && t["analysis"].is_object()) << t.dump();
  const nlohmann::json& top = t["analysis"]["top_suspects"];
  ASSERT_FALSE(top.empty()) << t.dump();
  EXPECT_EQ(top[0].value("rank", 0), 1);
  EXPECT_TRUE(thieves.count(top[0].value("meter", ""))) << top[0].dump();

  // A second start keeps what is there and adds nothing.
  auto again = demo::seed_demo_grid(sys->server(), g, system_now_ms());
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_FALSE(again->seeded);
}

TEST(DemoGrid, TooShortAHistoryIsRefusedWithTheReason) {
  TempDir dir("demo-grid-e2e");
  auto sys = start_server(dir.path());
  demo::DemoGridOptions g;
  g.days = 20;
  g.files_dir = dir.path() / "grid-demo";
  auto seeded = demo::seed_demo_grid(sys->server(), g, system_now_ms());
  ASSERT_FALSE(seeded.ok());
  EXPECT_NE(seeded.error().message.find("20 days"), std::string::npos) << seeded.error().message;
  auto topology = sys->server().grid().list();
  ASSERT_TRUE(topology.ok());
  EXPECT_TRUE(topology->empty());
}

}  // namespace
}  // namespace wattguard::e2e
