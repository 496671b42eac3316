// Alert and audit routes through the real ApiHandler (no sockets): listing with filters, consumer
// isolation, acknowledge/close with audit, parameter errors naming the field, alerts_open on meters.
#include "server/api/alert_routes.h"

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "server/api/api_test_fixture.h"
#include "wattguard/notify/http_client.h"
#include "wattguard/storage/sqlite_store.h"
#include "wattguard/test_support/test_receiver.h"

namespace wattguard::api {
namespace {

using nlohmann::json;

constexpr int64_t kNowMs = 1'764'032'400'000;

class AlertRoutesTest : public ApiFixture {
 protected:
  void SetUp() override {
    open_stores(kNowMs);
    ASSERT_FALSE(HasFatalFailure());
    ASSERT_TRUE(store_->add_meter({"m1", "", "north", "carol", 0}).ok());
    ASSERT_TRUE(store_->add_meter({"m2", "", "north", "dave", 0}).ok());
    ASSERT_TRUE(auth_->add_user("carol", Role::kConsumer, "carol-password", PasswordCost::kMin, kNowMs / 1000).ok());
    alerts::AlertServiceOptions ao;
    ao.database_path = database_path();
    ao.now_ms = [] { return kNowMs; };
    auto opened = alerts::AlertService::open(ao);
    ASSERT_TRUE(opened.ok()) << opened.error().to_string();
    alerts_ = std::move(opened).value();
    routes_ = std::make_unique<AlertRoutes>(AlertRoutesDeps{alerts_.get(), store_.get(), [] { return kNowMs; }});
    ApiDeps deps;
    deps.alerts = routes_.get();
    start_api(std::move(deps), [] { return kNowMs; });
    ASSERT_FALSE(HasFatalFailure());

    m1_ = raise("m1", "", "neutral_mismatch");
    m2_ = raise("m2", "", "cover_open");
    dt_ = raise("", "T1", "energy_balance");
  }
  int64_t raise(const std::string& meter, const std::string& transformer, const std::string& kind) {
    alerts::NewAlert a;
    a.kind = kind;
    a.meter_id = meter;
    a.transformer_id = transformer;
    a.area = "north";
    a.score = 0.75;
    a.evidence = json::array({"why"});
    return alerts_->raise(a);
  }

  static std::vector<int64_t> ids(const HttpResponse& r) {
    std::vector<int64_t> out;
    const json b = body(r);
    for (const auto& a : b.at("alerts")) out.push_back(a.at("id").get<int64_t>());
    return out;
  }

  std::unique_ptr<alerts::AlertService> alerts_;
  std::unique_ptr<AlertRoutes> routes_;
  int64_t m1_ = 0, m2_ = 0, dt_ = 0;
};

TEST_F(AlertRoutesTest, ListsWithFiltersAndTheFullShape) {
  const auto all = with_token(read_token_, "GET", "/api/v1/alerts");
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(ids(all), (std::vector<int64_t>{dt_, m2_, m1_}));
  const json a = body(all)["alerts"][2];
  EXPECT_EQ(a["kind"], "neutral_mismatch");
  EXPECT_EQ(a["meter"], "m1");
  EXPECT_EQ(a["transformer"], "");
  EXPECT_EQ(a["area"], "north");
  EXPECT_EQ(a["score"], 0.75);
  EXPECT_EQ(a["evidence"], json::array({"why"}));
  EXPECT_EQ(a["raised_ms"], kNowMs);
  EXPECT_EQ(a["updated_ms"], kNowMs);
  EXPECT_EQ(a["cleared_ms"], 0);
  EXPECT_EQ(a["state"], "open");
  EXPECT_TRUE(a["deliveries"].is_array());
  EXPECT_TRUE(a["actions"].is_array());
  EXPECT_EQ(ids(with_token(read_token_, "GET", "/api/v1/alerts?meter=m2")), std::vector<int64_t>{m2_});
  EXPECT_EQ(ids(with_token(read_token_, "GET", "/api/v1/alerts?transformer=T1")), std::vector<int64_t>{dt_});
  EXPECT_EQ(ids(with_token(read_token_, "GET", "/api/v1/alerts?area=south")), std::vector<int64_t>{});
  EXPECT_EQ(ids(with_token(read_token_, "GET", "/api/v1/alerts?limit=1")), std::vector<int64_t>{dt_});
  EXPECT_EQ(ids(with_token(read_token_, "GET", "/api/v1/alerts?state=closed")), std::vector<int64_t>{});
  const auto one = with_token(read_token_, "GET", "/api/v1/alerts/" + std::to_string(m1_));
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(body(one)["alert"]["id"], m1_);
}

TEST_F(AlertRoutesTest, BadParametersNameTheField) {
  auto r = with_token(read_token_, "GET", "/api/v1/alerts?state=gone");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body(r)["error"]["field"], "state");
  r = with_token(read_token_, "GET", "/api/v1/alerts?limit=0");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body(r)["error"]["field"], "limit");
  r = with_token(read_token_, "GET", "/api/v1/alerts/abc");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body(r)["error"]["field"], "id");
  r = with_token(read_token_, "GET", "/api/v1/alerts/99999");
  EXPECT_EQ(r.status, 404);
  r = with_token(admin_token_, "POST", "/api/v1/alerts/" + std::to_string(m1_) + "/close", R"({"note": 5})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body(r)["error"]["field"], "note");
  r = with_token(admin_token_, "POST", "/api/v1/alerts/" + std::to_string(m1_) + "/close", "[1]");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body(r)["error"]["field"], "body");
  r = with_token(admin_token_, "GET", "/api/v1/audit?limit=x");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body(r)["error"]["field"], "limit");
  EXPECT_EQ(with_token(admin_token_, "DELETE", "/api/v1/alerts").status, 405);
}

TEST_F(AlertRoutesTest, ConsumersSeeOnlyTheSupplyAlertsOfTheirOwnMeters) {
  const int64_t offline = raise("m1", "", "offline");
  const int64_t other_offline = raise("m2", "", "offline");
  const int64_t suspect = raise("m1", "T1", "theft_suspect");
  ASSERT_TRUE(alerts_->acknowledge(offline, "op", "called the reader").ok());
  const std::string cookie = sign_in("carol");
  const auto mine = with_cookie(cookie, "GET", "/api/v1/alerts");
  ASSERT_EQ(mine.status, 200) << mine.body;
  // Their own meter's offline alert; not its tamper (m1_) or suspect alert, nor anyone else's.
  EXPECT_EQ(ids(mine), std::vector<int64_t>{offline});
  const json shown = body(mine)["alerts"][0];
  EXPECT_EQ(shown["evidence"], json::array());
  EXPECT_EQ(shown["actions"], json::array());  // the operator's note stays with the operators
  EXPECT_EQ(shown["deliveries"], json::array());
  EXPECT_EQ(ids(with_cookie(cookie, "GET", "/api/v1/alerts?meter=m2")), std::vector<int64_t>{});
  for (const int64_t hidden : {m1_, m2_, dt_, suspect, other_offline}) {
    EXPECT_EQ(with_cookie(cookie, "GET", "/api/v1/alerts/" + std::to_string(hidden)).status, 404) << hidden;
  }
  EXPECT_EQ(with_cookie(cookie, "GET", "/api/v1/alerts/" + std::to_string(offline)).status, 200);
  EXPECT_EQ(with_cookie(cookie, "GET", "/api/v1/audit").status, 403);
  // The meter's open-alert count tells no more than the list: 1, not 3.
  EXPECT_EQ(body(with_cookie(cookie, "GET", "/api/v1/meters/m1"))["meter"]["alerts_open"], 1);
  const json listed = body(with_cookie(cookie, "GET", "/api/v1/meters"))["meters"];
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["alerts_open"], 1);
  // Operators see everything, with the evidence.
  const auto all = with_token(read_token_, "GET", "/api/v1/alerts?meter=m1");
  EXPECT_EQ(ids(all).size(), 3u);
  EXPECT_EQ(body(all)["alerts"][0]["evidence"], json::array({"why"}));
}

TEST_F(AlertRoutesTest, AcknowledgeAndCloseNeedAnOperatorAndAreAudited) {
  const std::string path = "/api/v1/alerts/" + std::to_string(m1_);
  EXPECT_EQ(with_token(read_token_, "POST", path + "/acknowledge").status, 403);
  auto r = with_token(admin_token_, "POST", path + "/acknowledge", R"({"note": "reader on the way"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body(r)["alert"]["state"], "acknowledged");
  r = with_token(admin_token_, "POST", path + "/close");  // no body: no note
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body(r)["alert"]["state"], "closed");
  const json actions = body(r)["alert"]["actions"];
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0]["action"], "acknowledge");
  EXPECT_EQ(actions[0]["detail"], "reader on the way");
  EXPECT_EQ(with_token(admin_token_, "POST", path + "/close").status, 409);
  EXPECT_EQ(ids(with_token(read_token_, "GET", "/api/v1/alerts?state=open")), (std::vector<int64_t>{dt_, m2_}));

  const auto audit = with_token(admin_token_, "GET", "/api/v1/audit?meter=m1");
  ASSERT_EQ(audit.status, 200) << audit.body;
  const json entries = body(audit)["audit"];
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0]["action"], "alert.close");
  EXPECT_EQ(entries[1]["action"], "alert.acknowledge");
  EXPECT_EQ(entries[1]["target"], "m1");
  EXPECT_EQ(entries[1]["time_ms"], kNowMs);
  EXPECT_NE(entries[1]["details"].get<std::string>().find("reader on the way"), std::string::npos);
  EXPECT_NE(entries[1]["actor"].get<std::string>().find("token"), std::string::npos);
}

TEST_F(AlertRoutesTest, CommandsSentThroughTheApiAreInTheAuditLogWithTheirReason) {
  const auto sent =
      with_token(admin_token_, "POST", "/api/v1/meters/m1/commands", R"({"kind": "relay_on", "reason": "bill paid"})");
  ASSERT_EQ(sent.status, 202) << sent.body;
  const auto audit = with_token(admin_token_, "GET", "/api/v1/audit?meter=m1&limit=10");
  ASSERT_EQ(audit.status, 200) << audit.body;
  const json entries = body(audit)["audit"];
  ASSERT_FALSE(entries.empty());
  EXPECT_EQ(entries[0]["action"], "command.relay_on");
  EXPECT_EQ(entries[0]["target"], "m1");
  EXPECT_NE(entries[0]["details"].get<std::string>().find("bill paid"), std::string::npos);
  EXPECT_NE(entries[0]["actor"].get<std::string>().find("token"), std::string::npos);
  EXPECT_EQ(with_token(read_token_, "GET", "/api/v1/audit").status, 403);
}

TEST_F(AlertRoutesTest, MetersCarryTheirOpenAlertCount) {
  raise("m1", "", "cover_open");
  auto r = with_token(read_token_, "GET", "/api/v1/meters");
  ASSERT_EQ(r.status, 200) << r.body;
  const json meters = body(r)["meters"];
  for (const auto& m : meters) EXPECT_EQ(m["alerts_open"], m["id"] == "m1" ? 2 : 1) << m["id"];
  alerts_->close(m2_, "op", "");
  r = with_token(read_token_, "GET", "/api/v1/meters/m2");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(body(r)["meter"]["alerts_open"], 0);
  EXPECT_EQ(body(with_token(read_token_, "GET", "/api/v1/meters/m1"))["meter"]["alerts_open"], 2);
}

}  // namespace
}  // namespace wattguard::api
