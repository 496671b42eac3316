// Grid routes through the real ApiHandler (no sockets): roles, topology import with row-naming errors and
// nothing half-imported, transformer edits, readings import, and the analysis shown for a transformer after a
// cycle of the real TheftAnalysisService over imported readings.
#include "server/api/grid_routes.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/api/api_test_fixture.h"
#include "wattguard/storage/sqlite_store.h"

namespace wattguard::api {
namespace {

using nlohmann::json;

constexpr int64_t kT0 = 1714521600;  // 2024-05-01T00:00:00Z
constexpr int64_t kNowMs = (kT0 + 2 * 86400 + 600) * 1000;

class GridRoutesTest : public ApiFixture {
 protected:
  void SetUp() override {
    open_stores(kNowMs);
    ASSERT_FALSE(HasFatalFailure());
    for (const char* m : {"chk1", "chk2", "m1", "m2", "m3"})
      ASSERT_TRUE(store_->add_meter({m, "", "north", "", 0}).ok());
    ASSERT_TRUE(store_->add_meter({"own", "", "north", "carol", 0}).ok());
    ASSERT_TRUE(auth_->add_user("carol", Role::kConsumer, "carol-password", PasswordCost::kMin, kNowMs / 1000).ok());
    auto opened = grid::GridStore::open(database_path());
    ASSERT_TRUE(opened.ok()) << opened.error().to_string();
    grid_ = std::move(opened).value();
    grid::TheftOptions options;
    options.calibration_days = 1;
    options.history_days = 2;
    analysis_ = std::make_unique<grid::TheftAnalysisService>(
        options, *store_, *grid_,
        grid::AlertSink{[](const alerts::NewAlert&) { return int64_t{1}; }, [](const std::string&, int64_t) {}});
    routes_ =
        std::make_unique<GridRoutes>(GridRoutesDeps{grid_.get(), analysis_.get(), store_.get(), [] { return kNowMs; }});
    ApiDeps deps;
    deps.grid = routes_.get();
    start_api(std::move(deps), [] { return kNowMs; });
  }

  std::unique_ptr<grid::GridStore> grid_;
  std::unique_ptr<grid::TheftAnalysisService> analysis_;
  std::unique_ptr<GridRoutes> routes_;
};

const char* kTopology =
    "transformer,meter,role\nT1,chk1,check\nT1,m1,consumer\nT1,m2,consumer\nT2,chk2,check\nT2,m3,consumer\n";

TEST_F(GridRoutesTest, RolesConsumersAreRefusedReadersReadAdminsWrite) {
  // A consumer signed in with a session gets 403 on every grid route.
  const std::string cookie = sign_in("carol");
  EXPECT_EQ(with_cookie(cookie, "GET", "/api/v1/transformers").status, 403);
  EXPECT_EQ(with_cookie(cookie, "GET", "/api/v1/topology").status, 403);

  EXPECT_EQ(with_token("", "GET", "/api/v1/transformers").status, 401);
  EXPECT_EQ(with_token(read_token_, "GET", "/api/v1/transformers").status, 200);
  EXPECT_EQ(with_token(read_token_, "PUT", "/api/v1/topology", kTopology).status, 403);
  EXPECT_EQ(with_token(read_token_, "POST", "/api/v1/import/readings", "meter,time,kwh\n").status, 403);
  EXPECT_EQ(with_token(admin_token_, "PUT", "/api/v1/topology", kTopology).status, 200);
  EXPECT_EQ(with_token(admin_token_, "PATCH", "/api/v1/topology").status, 405);
  EXPECT_EQ(with_token(admin_token_, "GET", "/api/v1/transformers/T1/other").status, 404);
}

TEST_F(GridRoutesTest, TopologyImportIsAtomicAndErrorsNameTheRow) {
  auto r = with_token(admin_token_, "PUT", "/api/v1/topology", kTopology);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body(r)["transformers"], 2);
  EXPECT_EQ(body(r)["consumers"], 3);

  // Unknown meter on line 4: 400 naming the line; the stored topology is unchanged.
  r = with_token(admin_token_, "PUT", "/api/v1/topology",
                 "transformer,meter,role\nT5,chk1,check\nT5,m1,consumer\nT5,ghost,consumer\n");
  ASSERT_EQ(r.status, 400) << r.body;
  const json e = body(r)["error"];
  EXPECT_EQ(e["code"], "bad_parameter");
  EXPECT_EQ(e["field"], "body");
  EXPECT_EQ(e["line"], 4);
  EXPECT_EQ(e["column"], "meter");
  EXPECT_EQ(e["value"], "ghost");
  EXPECT_NE(e["message"].get<std::string>().find("line 4"), std::string::npos);
  const json list = body(with_token(read_token_, "GET", "/api/v1/transformers"));
  ASSERT_EQ(list["transformers"].size(), 2u);
  EXPECT_EQ(list["transformers"][0]["id"], "T1");
  EXPECT_EQ(list["transformers"][0]["consumer_count"], 2);
  EXPECT_TRUE(list["transformers"][0]["analysis"].is_null());

  // JSON with names and areas replaces it.
  r = with_token(
      admin_token_, "PUT", "/api/v1/topology",
      R"({"transformers": [{"id": "T9", "name": "Elm", "area": "east", "check_meter": "chk1", "consumers": ["m1"]}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  const json topo = body(with_token(read_token_, "GET", "/api/v1/topology"));
  ASSERT_EQ(topo["transformers"].size(), 1u);
  EXPECT_EQ(topo["transformers"][0]["name"], "Elm");
  EXPECT_EQ(topo["transformers"][0]["consumers"], json::array({"m1"}));
  auto audit = store_->audit("", 10);
  ASSERT_TRUE(audit.ok());
  ASSERT_FALSE(audit->empty());
  EXPECT_EQ(audit->front().action, "topology.replace");
}

TEST_F(GridRoutesTest, TransformerEdits) {
  auto r =
      with_token(admin_token_, "POST", "/api/v1/transformers",
                 R"({"id": "T1", "name": "One", "area": "north", "check_meter": "chk1", "consumers": ["m1", "m2"]})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(*r.header("location"), "/api/v1/transformers/T1");
  EXPECT_EQ(with_token(admin_token_, "POST", "/api/v1/transformers", R"({"id": "T1", "check_meter": "chk2"})").status,
            409);
  r = with_token(admin_token_, "POST", "/api/v1/transformers",
                 R"({"id": "T2", "check_meter": "chk2", "consumers": ["m2"]})");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(body(r)["error"]["code"], "meter_assigned");
  r = with_token(admin_token_, "POST", "/api/v1/transformers",
                 R"({"id": "T2", "check_meter": "chk2", "consumers": ["m3", "zz"]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body(r)["error"]["field"], "consumers[1]");
  EXPECT_EQ(with_token(admin_token_, "POST", "/api/v1/transformers", R"({"id": "T2"})").status, 400);

  r = with_token(admin_token_, "PUT", "/api/v1/transformers/T1/members",
                 R"({"consumers": ["m1", "m3"], "name": "Uno"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body(r)["transformer"]["consumers"], json::array({"m1", "m3"}));
  EXPECT_EQ(body(r)["transformer"]["name"], "Uno");
  EXPECT_EQ(with_token(admin_token_, "PUT", "/api/v1/transformers/T7/members", R"({"consumers": []})").status, 404);

  r = with_token(read_token_, "GET", "/api/v1/transformers/T1");
  ASSERT_EQ(r.status, 200);
  const json t = body(r);
  EXPECT_EQ(t["transformer"]["members"].size(), 3u);
  EXPECT_EQ(t["transformer"]["members"][0]["role"], "check");
  EXPECT_EQ(t["transformer"]["members"][0]["area"], "north");
  EXPECT_EQ(with_token(read_token_, "GET", "/api/v1/transformers/T7").status, 404);
  EXPECT_EQ(with_token(admin_token_, "DELETE", "/api/v1/transformers/T1").status, 204);
  EXPECT_EQ(with_token(admin_token_, "DELETE", "/api/v1/transformers/T1").status, 404);
}

TEST_F(GridRoutesTest, ACheckMeterRefusesRelayCommandsNamingItsTransformerOthersStillTakeThem) {
  ASSERT_EQ(with_token(admin_token_, "PUT", "/api/v1/topology", kTopology).status, 200);
  auto r = with_token(admin_token_, "POST", "/api/v1/meters/chk1/commands", R"({"kind": "relay_off"})");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(body(r)["error"]["code"], "check_meter");
  EXPECT_EQ(body(r)["error"]["field"], "kind");
  EXPECT_NE(body(r)["error"]["message"].get<std::string>().find("transformer T1"), std::string::npos) << r.body;
  EXPECT_EQ(with_token(admin_token_, "POST", "/api/v1/meters/chk2/commands", R"({"kind": "relay_on"})").status, 409);
  // A ping still reaches the check meter; a consumer's relay is still switched.
  EXPECT_EQ(with_token(admin_token_, "POST", "/api/v1/meters/chk1/commands", R"({"kind": "ping"})").status, 202);
  r = with_token(admin_token_, "POST", "/api/v1/meters/m1/commands", R"({"kind": "relay_off"})");
  EXPECT_EQ(r.status, 202) << r.body;
  // Once the meter leaves the grid model it is an ordinary meter again.
  ASSERT_EQ(with_token(admin_token_, "DELETE", "/api/v1/transformers/T1").status, 204);
  EXPECT_EQ(with_token(admin_token_, "POST", "/api/v1/meters/chk1/commands", R"({"kind": "relay_off"})").status, 202);
}

TEST_F(GridRoutesTest, ReadingsImportThenAnalysisShowsTheBalance) {
  ASSERT_EQ(with_token(admin_token_, "PUT", "/api/v1/topology", kTopology).status, 200);
  // Two days: the check meter sees the consumers plus 4 %.
  std::string csv = "meter,time,kwh\n";
  for (int k = 1; k <= 192; ++k) {
    const int64_t end = kT0 + 900 * k;
    const double m1 = 0.2 + 0.1 * (k % 7), m2 = 0.3 + 0.05 * (k % 5), m3 = 0.25;
    csv += "m1," + std::to_string(end) + "," + std::to_string(m1) + "\n";
    csv += "m2," + std::to_string(end) + "," + std::to_string(m2) + "\n";
    csv += "m3," + std::to_string(end) + "," + std::to_string(m3) + "\n";
    csv += "chk1," + std::to_string(end) + "," + std::to_string((m1 + m2) * 1.04) + "\n";
    csv += "chk2," + std::to_string(end) + "," + std::to_string(m3 * 1.04) + "\n";
  }
  auto bad = with_token(admin_token_, "POST", "/api/v1/import/readings", csv + "m1,2024-05-03T00:15:00Z,lots\n");
  ASSERT_EQ(bad.status, 400);
  EXPECT_EQ(body(bad)["error"]["line"], 962);
  EXPECT_EQ(body(bad)["error"]["column"], "kwh");
  EXPECT_FALSE(store_->latest("m1")->has_value());

  auto r = with_token(admin_token_, "POST", "/api/v1/import/readings", csv);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body(r)["meters"], 5);
  EXPECT_EQ(body(r)["intervals_stored"], 960);
  EXPECT_EQ(body(r)["last_end_ms"], (kT0 + 192 * 900) * 1000);

  const grid::CycleSummary sum = analysis_->run_cycle(kNowMs);
  EXPECT_TRUE(sum.errors.empty());
  EXPECT_EQ(sum.transformers, 2u);
  const json list = body(with_token(read_token_, "GET", "/api/v1/transformers"));
  const json& a = list["transformers"][0]["analysis"];
  ASSERT_TRUE(a.is_object()) << list.dump();
  EXPECT_EQ(a["analysed_to_ms"], (kT0 + 192 * 900) * 1000);
  EXPECT_EQ(a["last_interval"]["end_ms"], (kT0 + 192 * 900) * 1000);
  const double m1 = 0.2 + 0.1 * (192 % 7), m2 = 0.3 + 0.05 * (192 % 5);
  EXPECT_NEAR(a["last_interval"]["check_kwh"].get<double>(), (m1 + m2) * 1.04, 1e-3);
  EXPECT_NEAR(a["last_interval"]["consumers_kwh"].get<double>(), m1 + m2, 1e-3);
  EXPECT_EQ(a["top_suspects"].size(), 2u);
  EXPECT_FALSE(a["alert"].get<bool>());

  const json detail = body(with_token(read_token_, "GET", "/api/v1/transformers/T1?intervals=8"));
  EXPECT_EQ(detail["analysis"]["series"].size(), 8u);
  EXPECT_EQ(detail["analysis"]["suspects"].size(), 2u);
  EXPECT_TRUE(detail["analysis"]["suspects"][0]["evidence"].is_array());
  EXPECT_EQ(with_token(read_token_, "GET", "/api/v1/transformers/T1?intervals=x").status, 400);
}

}  // namespace
}  // namespace wattguard::api
