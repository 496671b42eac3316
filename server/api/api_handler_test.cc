// Request-handler tests without sockets: every route and error code against the real SQLite
// store (temp file), the real auth tables and an ingest service whose broker is unreachable
// (readings are put in the store directly). The clock is fixed, so delays and expiries are exact.
#include "wattguard/api/api_handler.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "server/api/api_test_fixture.h"
#include "wattguard/storage/sqlite_store.h"

namespace wattguard::api {
namespace {

using nlohmann::json;

constexpr int64_t kNowMs = 1714557600000;       // 2024-05-01T10:00:00Z
constexpr int64_t kMidnightMs = 1714521600000;  // 2024-05-01T00:00:00Z

protocol::Reading reading(const std::string& meter, uint64_t seq, int64_t time_ms, double import_wh, double p_w) {
  protocol::Reading r;
  r.meter_id = meter;
  r.seq = seq;
  r.time_ms = time_ms;
  r.vrms = 230.0;
  r.irms = p_w / 230.0;
  r.p_w = p_w;
  r.s_va = p_w;
  r.q_var = 0.0;
  r.pf = 1.0;
  r.freq_hz = 50.0;
  r.e_import_wh = import_wh;
  r.e_export_wh = 0.0;
  r.flags = protocol::kFlagLoadPresent;
  return r;
}

class ApiHandlerTest : public ApiFixture {
 protected:
  void SetUp() override {
    open_stores(kNowMs);
    ASSERT_FALSE(HasFatalFailure());
    ASSERT_TRUE(store_->add_meter({"m1", "House 1", "north", "carol", 0}).ok());
    ASSERT_TRUE(store_->add_meter({"m2", "House 2", "south", "dave", 0}).ok());
    ASSERT_TRUE(store_->add_meter({"m3", "Shop", "north", "", 0}).ok());
    // m1: one reading just before midnight (register 1000 Wh), then 10 minutes of 5 s readings
    // at 1.2 kW up to 10:00 (each adds 1200 * 5 / 3600 Wh).
    std::vector<protocol::Reading> rs;
    rs.push_back(reading("m1", 1, kMidnightMs - 5000, 1000.0, 600.0));
    double wh = 1500.0;  // 500 Wh used between midnight and 09:50
    for (int i = 0; i < 120; ++i) {
      wh += 1200.0 * 5 / 3600;
      rs.push_back(reading("m1", 2 + i, kNowMs - 600000 + (i + 1) * 5000, wh, 1200.0));
    }
    last_m1_import_wh_ = wh;
    auto appended = store_->append_readings(rs, kNowMs);
    ASSERT_TRUE(appended.ok()) << appended.error().message;
    ASSERT_EQ(appended->stored, rs.size());

    for (const auto& [name, role] : std::vector<std::pair<std::string, Role>>{{"root", Role::kAdmin},
                                                                              {"olga", Role::kOperator},
                                                                              {"carol", Role::kConsumer},
                                                                              {"dave", Role::kConsumer}}) {
      ASSERT_TRUE(auth_->add_user(name, role, name + "-password", PasswordCost::kMin, kNowMs / 1000).ok());
    }
    std::ofstream(dir_.file("index.html")) << "<!doctype html>wattguard";
    ApiDeps deps;
    deps.auth_config.login_delay_base_ms = 1000;
    deps.auth_config.login_delay_max_ms = 8000;
    deps.auth_config.session_ttl_s = 3600;
    start_api(std::move(deps), [this] { return now_ms_; });
  }

  static void expect_error(const HttpResponse& r, int status, const std::string& code, const std::string& field = "") {
    EXPECT_EQ(r.status, status) << r.body;
    const json b = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(b.is_object()) << r.body;
    EXPECT_EQ(b["error"]["code"], code) << r.body;
    if (!field.empty()) {
      EXPECT_EQ(b["error"]["field"], field) << r.body;
    }
    EXPECT_TRUE(b["error"]["message"].is_string());
  }

  double last_m1_import_wh_ = 0;
  int64_t now_ms_ = kNowMs;
};

// --- authentication -------------------------------------------------------------------------

TEST_F(ApiHandlerTest, NoCredentialsIs401WithChallenge) {
  const auto r = request("GET", "/api/v1/meters");
  expect_error(r, 401, "unauthorized");
  ASSERT_NE(r.header("www-authenticate"), nullptr);
}

TEST_F(ApiHandlerTest, WrongOrMalformedTokenIs401) {
  expect_error(with_token("wgt_not-a-real-token-at-all", "GET", "/api/v1/meters"), 401, "unauthorized");
  expect_error(request("GET", "/api/v1/meters", "", {{"authorization", "Basic dXNlcjpwYXNz"}}), 401, "unauthorized");
  expect_error(request("GET", "/api/v1/meters", "", {{"authorization", "Bearer "}}), 401, "unauthorized");
  expect_error(with_cookie("wg_session=forged", "GET", "/api/v1/meters"), 401, "unauthorized");
}

TEST_F(ApiHandlerTest, ReadTokenReadsButCannotCommandOrAdminister) {
  EXPECT_EQ(with_token(read_token_, "GET", "/api/v1/meters").status, 200);
  EXPECT_EQ(with_token(read_token_, "GET", "/api/v1/health").status, 200);
  expect_error(with_token(read_token_, "POST", "/api/v1/meters/m1/commands", R"({"kind":"relay_off"})"), 403,
               "forbidden");
  expect_error(with_token(read_token_, "GET", "/api/v1/users"), 403, "forbidden");
  expect_error(with_token(read_token_, "POST", "/api/v1/tokens", R"({"scope":"admin"})"), 403, "forbidden");
}

// --- sign-in, sessions, throttling ----------------------------------------------------------

TEST_F(ApiHandlerTest, SignInSetsStrictHttpOnlyCookieAndSessionWorks) {
  const auto r = request("POST", "/api/v1/session", R"({"name":"carol","password":"carol-password"})");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string cookie = *r.header("set-cookie");
  EXPECT_EQ(cookie.rfind("wg_session=", 0), 0u);
  EXPECT_NE(cookie.find("; HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("; SameSite=Strict"), std::string::npos);
  EXPECT_NE(cookie.find("; Path=/"), std::string::npos);
  EXPECT_NE(cookie.find("; Max-Age=3600"), std::string::npos);
  EXPECT_EQ(cookie.find("Secure"), std::string::npos);  // loopback Host, plain HTTP
  EXPECT_EQ(body(r)["user"]["name"], "carol");
  EXPECT_EQ(body(r)["user"]["role"], "consumer");
  EXPECT_EQ(body(r)["user"]["meters"], json::array({"m1"}));

  const std::string session = cookie.substr(0, cookie.find(';'));
  const auto me = with_cookie(session, "GET", "/api/v1/session");
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(body(me)["user"]["name"], "carol");
  EXPECT_EQ(body(me)["expires_ms"], kNowMs + 3600 * 1000);
  EXPECT_EQ(with_cookie(session, "GET", "/api/v1/session/me").status, 200);
}

TEST_F(ApiHandlerTest, CookieIsSecureForNonLoopbackHostOrBehindTls) {
  const auto r = request("POST", "/api/v1/session", R"({"name":"carol","password":"carol-password"})",
                         {{"host", "meters.example.org"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.header("set-cookie")->find("; Secure"), std::string::npos);
  const auto r2 = request("POST", "/api/v1/session", R"({"name":"carol","password":"carol-password"})",
                          {{"x-forwarded-proto", "https"}});
  EXPECT_NE(r2.header("set-cookie")->find("; Secure"), std::string::npos);
}

TEST_F(ApiHandlerTest, SessionExpiresAndLogoutEndsIt) {
  const std::string s1 = sign_in("olga");
  now_ms_ += 3600 * 1000;  // the TTL
  const auto expired = with_cookie(s1, "GET", "/api/v1/meters");
  expect_error(expired, 401, "unauthorized");
  EXPECT_NE(expired.header("set-cookie")->find("Max-Age=0"), std::string::npos);  // clears the cookie

  const std::string s2 = sign_in("olga");
  const auto out = with_cookie(s2, "DELETE", "/api/v1/session");
  EXPECT_EQ(out.status, 204);
  EXPECT_NE(out.header("set-cookie")->find("Max-Age=0"), std::string::npos);
  expect_error(with_cookie(s2, "GET", "/api/v1/session"), 401, "unauthorized");
}

TEST_F(ApiHandlerTest, WrongPasswordAndUnknownUserGetTheSameRefusal) {
  // From two addresses, so the per-address count does not make the second answer differ.
  const auto wrong =
      request("POST", "/api/v1/session", R"({"name":"carol","password":"not-it-at-all"})", {}, "10.0.0.1");
  const auto unknown =
      request("POST", "/api/v1/session", R"({"name":"nobody","password":"not-it-at-all"})", {}, "10.0.0.2");
  expect_error(wrong, 401, "bad_credentials");
  expect_error(unknown, 401, "bad_credentials");
  EXPECT_EQ(wrong.body, unknown.body);
  EXPECT_EQ(wrong.delay_ms, unknown.delay_ms);
  EXPECT_EQ(wrong.header("set-cookie"), nullptr);
}

TEST_F(ApiHandlerTest, FailedSignInDelayGrowsAndParallelTriesAreRefused) {
  const std::string bad = R"({"name":"carol","password":"guess-number-1"})";
  auto r = request("POST", "/api/v1/session", bad);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.delay_ms, 1000);
  // A second try before the delay has passed is refused without checking the password.
  r = request("POST", "/api/v1/session", R"({"name":"carol","password":"carol-password"})");
  expect_error(r, 429, "too_many_attempts");
  EXPECT_EQ(*r.header("retry-after"), "1");
  now_ms_ += 1000;
  r = request("POST", "/api/v1/session", bad);
  EXPECT_EQ(r.delay_ms, 2000);
  now_ms_ += 2000;
  r = request("POST", "/api/v1/session", bad);
  EXPECT_EQ(r.delay_ms, 4000);
  r = request("POST", "/api/v1/session", bad);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(*r.header("retry-after"), "4");
  now_ms_ += 4000;
  // The right password after waiting works and clears the count.
  EXPECT_EQ(request("POST", "/api/v1/session", R"({"name":"carol","password":"carol-password"})").status, 200);
  r = request("POST", "/api/v1/session", R"({"name":"carol","password":"guess-number-2"})");
  EXPECT_GE(r.delay_ms, 1000);
}

TEST_F(ApiHandlerTest, SignInBodyErrorsNameTheField) {
  expect_error(request("POST", "/api/v1/session", "not json"), 400, "bad_parameter", "body");
  expect_error(request("POST", "/api/v1/session", R"({"password":"x-password"})"), 400, "bad_parameter", "name");
  expect_error(request("POST", "/api/v1/session", R"({"name":"carol"})"), 400, "bad_parameter", "password");
  expect_error(request("POST", "/api/v1/session", R"({"name":5,"password":"x"})"), 400, "bad_parameter", "name");
}

TEST_F(ApiHandlerTest, CrossOriginCookieRequestsThatChangeThingsAreRefused) {
  const std::string s = sign_in("olga");
  const auto r = request("POST", "/api/v1/meters/m1/commands", R"({"kind":"ping"})",
                         {{"cookie", s}, {"origin", "https://evil.example"}});
  expect_error(r, 403, "forbidden");
  // A token is not sent by browsers on their own, so no origin check applies to it.
  const auto t =
      request("GET", "/api/v1/meters", "", {{"authorization", "Bearer " + read_token_}, {"origin", "x://y"}});
  EXPECT_EQ(t.status, 200);
}

// --- meters ---------------------------------------------------------------------------------

TEST_F(ApiHandlerTest, ListsMetersWithLatestStateAndToday) {
  const auto r = with_token(read_token_, "GET", "/api/v1/meters");
  ASSERT_EQ(r.status, 200) << r.body;
  const json b = body(r);
  EXPECT_EQ(b["now_ms"], kNowMs);
  EXPECT_EQ(b["total"], 3);
  ASSERT_EQ(b["meters"].size(), 3u);
  const json& m1 = b["meters"][0];
  EXPECT_EQ(m1["id"], "m1");
  EXPECT_EQ(m1["name"], "House 1");
  EXPECT_EQ(m1["area"], "north");
  EXPECT_EQ(m1["owner"], "carol");
  ASSERT_TRUE(m1["last_reading"].is_object()) << m1.dump();
  EXPECT_EQ(m1["last_reading"]["seq"], 121);
  EXPECT_EQ(m1["last_reading"]["time_ms"], kNowMs);
  EXPECT_DOUBLE_EQ(m1["last_reading"]["p_w"].get<double>(), 1200.0);
  EXPECT_DOUBLE_EQ(m1["day_start_import_wh"].get<double>(), 1000.0);
  EXPECT_NEAR(m1["today_import_wh"].get<double>(), last_m1_import_wh_ - 1000.0, 1e-6);
  EXPECT_EQ(m1["tamper"], json::array());
  EXPECT_EQ(m1["alerts_open"], 0);
  const json& m3 = b["meters"][2];
  EXPECT_EQ(m3["id"], "m3");
  EXPECT_TRUE(m3["last_reading"].is_null());  // never a made-up zero reading
  EXPECT_TRUE(m3["today_import_wh"].is_null());
}

TEST_F(ApiHandlerTest, ListPagingFilteringSortingAndFleetFields) {
  auto b = body(with_token(read_token_, "GET", "/api/v1/meters?limit=2&offset=1"));
  EXPECT_EQ(b["total"], 3);
  ASSERT_EQ(b["meters"].size(), 2u);
  EXPECT_EQ(b["meters"][0]["id"], "m2");
  b = body(with_token(read_token_, "GET", "/api/v1/meters?area=north&sort=-id"));
  ASSERT_EQ(b["meters"].size(), 2u);
  EXPECT_EQ(b["meters"][0]["id"], "m3");
  b = body(with_token(read_token_, "GET", "/api/v1/meters?q=SHOP"));
  ASSERT_EQ(b["meters"].size(), 1u);
  EXPECT_EQ(b["meters"][0]["id"], "m3");
  b = body(with_token(read_token_, "GET", "/api/v1/meters?sort=-p_w"));
  EXPECT_EQ(b["meters"][0]["id"], "m1");  // the only one with power; nulls last
  b = body(with_token(read_token_, "GET", "/api/v1/meters?fields=fleet&limit=1"));
  const json& r = b["meters"][0]["last_reading"];
  EXPECT_TRUE(r.contains("p_w"));
  EXPECT_FALSE(r.contains("q_var"));
  EXPECT_FALSE(r.contains("seq"));
}

TEST_F(ApiHandlerTest, ListParameterErrorsNameTheField) {
  expect_error(with_token(read_token_, "GET", "/api/v1/meters?limit=0"), 400, "bad_parameter", "limit");
  expect_error(with_token(read_token_, "GET", "/api/v1/meters?limit=abc"), 400, "bad_parameter", "limit");
  expect_error(with_token(read_token_, "GET", "/api/v1/meters?offset=-1"), 400, "bad_parameter", "offset");
  expect_error(with_token(read_token_, "GET", "/api/v1/meters?status=sleepy"), 400, "bad_parameter", "status");
  expect_error(with_token(read_token_, "GET", "/api/v1/meters?sort=colour"), 400, "bad_parameter", "sort");
  expect_error(with_token(read_token_, "GET", "/api/v1/meters?fields=some"), 400, "bad_parameter", "fields");
}

TEST_F(ApiHandlerTest, OneMeterAndUnknownMeter) {
  const auto r = with_token(read_token_, "GET", "/api/v1/meters/m1");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(body(r)["meter"]["id"], "m1");
  expect_error(with_token(read_token_, "GET", "/api/v1/meters/nope"), 404, "meter_not_found", "id");
  expect_error(with_token(read_token_, "GET", "/api/v1/meters/nope/readings"), 404, "meter_not_found");
  expect_error(with_token(read_token_, "GET", "/api/v1/meters/nope/events"), 404, "meter_not_found");
  expect_error(with_token(admin_token_, "POST", "/api/v1/meters/nope/commands", R"({"kind":"ping"})"), 404,
               "meter_not_found");
}

TEST_F(ApiHandlerTest, ConsumerSeesOnlyOwnMeters) {
  const std::string carol = sign_in("carol");
  const json list = body(with_cookie(carol, "GET", "/api/v1/meters"));
  ASSERT_EQ(list["meters"].size(), 1u);
  EXPECT_EQ(list["meters"][0]["id"], "m1");
  EXPECT_EQ(with_cookie(carol, "GET", "/api/v1/meters/m1").status, 200);
  // Someone else's meter looks exactly like a meter that does not exist.
  const auto other = with_cookie(carol, "GET", "/api/v1/meters/m2");
  const auto none = with_cookie(carol, "GET", "/api/v1/meters/zz");
  expect_error(other, 404, "meter_not_found");
  EXPECT_EQ(body(other)["error"]["code"], body(none)["error"]["code"]);
  expect_error(with_cookie(carol, "GET", "/api/v1/meters/m2/readings"), 404, "meter_not_found");
  expect_error(with_cookie(carol, "GET", "/api/v1/meters/m2/events"), 404, "meter_not_found");
  expect_error(with_cookie(carol, "GET", "/api/v1/meters/m2/commands"), 404, "meter_not_found");
  expect_error(with_cookie(carol, "GET", "/api/v1/health"), 403, "forbidden");
  expect_error(with_cookie(carol, "GET", "/api/v1/users"), 403, "forbidden");
  // Commands are for operators, even on one's own meter.
  expect_error(with_cookie(carol, "POST", "/api/v1/meters/m1/commands", R"({"kind":"relay_on"})"), 403, "forbidden");
}

// --- readings and events --------------------------------------------------------------------

TEST_F(ApiHandlerTest, ReadingsAggregatedToTheStep) {
  const auto r = with_token(read_token_, "GET",
                            "/api/v1/meters/m1/readings?from=2024-05-01T09:50:00Z&to=2024-05-01T10:00:05Z&step=1m");
  ASSERT_EQ(r.status, 200) << r.body;
  const json b = body(r);
  EXPECT_EQ(b["step_ms"], 60000);
  EXPECT_EQ(b["step_s"], 60);
  EXPECT_EQ(b["source"], "1m");
  EXPECT_EQ(b["from_ms"], kNowMs - 600000);
  // Readings at 09:50:05 ... 10:00:00: ten full minutes of 12 and the 10:00 bucket with one.
  ASSERT_EQ(b["points"].size(), 11u) << b.dump();
  EXPECT_EQ(b["points"][0]["t_ms"], kNowMs - 600000);
  EXPECT_EQ(b["points"][0]["count"], 11);  // 09:50:05 .. 09:50:55
  EXPECT_DOUBLE_EQ(b["points"][1]["p_avg_w"].get<double>(), 1200.0);
  EXPECT_NEAR(b["points"][1]["energy_import_wh"].get<double>(), 1200.0 * 60 / 3600, 1e-6);
}

TEST_F(ApiHandlerTest, ReadingsAcceptUnixSecondsAndRawSteps) {
  // 09:59:05 to 10:00:00 inclusive: 12 readings, one per 5 s bucket.
  const int64_t to_s = kNowMs / 1000 + 1;
  const auto r = with_token(read_token_, "GET",
                            "/api/v1/meters/m1/readings?from=" + std::to_string(to_s - 56) +
                                "&to=" + std::to_string(to_s) + "&step=5");
  ASSERT_EQ(r.status, 200) << r.body;
  const json b = body(r);
  EXPECT_EQ(b["source"], "raw");
  EXPECT_EQ(b["points"].size(), 12u);
}

TEST_F(ApiHandlerTest, ReadingsParameterErrorsNameTheField) {
  const std::string base = "/api/v1/meters/m1/readings?";
  expect_error(with_token(read_token_, "GET", base + "from=yesterday"), 400, "bad_parameter", "from");
  expect_error(with_token(read_token_, "GET", base + "to=2024-13-01"), 400, "bad_parameter", "to");
  expect_error(with_token(read_token_, "GET", base + "step=0"), 400, "bad_parameter", "step");
  expect_error(with_token(read_token_, "GET", base + "step=5x"), 400, "bad_parameter", "step");
  expect_error(with_token(read_token_, "GET", base + "from=1714557600&to=1714557600"), 400, "bad_parameter", "from");
  // A year at 1 s is far over max_points.
  expect_error(with_token(read_token_, "GET", base + "from=2023-05-01&to=2024-05-01&step=1"), 400, "bad_parameter",
               "step");
  expect_error(with_token(read_token_, "GET", base + "max_points=0"), 400, "bad_parameter", "max_points");
}

TEST_F(ApiHandlerTest, ReadingsWithoutStepPickAStepForAboutAThousandPoints) {
  const auto r = with_token(read_token_, "GET", "/api/v1/meters/m1/readings?from=2024-04-01&to=2024-05-01");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body(r)["step_ms"], 3600 * 1000);  // 30 days / 1 h = 720 points
}

TEST_F(ApiHandlerTest, EventsNewestFirstWithKindFilter) {
  protocol::MeterEvent e;
  e.meter_id = "m1";
  e.kind = protocol::EventKind::kMagnetic;
  e.edge = protocol::EventEdge::kOnset;
  e.time_ms = kNowMs - 1000;
  e.details = "magnet near the meter";
  ASSERT_TRUE(store_->add_event(e, storage::EventSource::kMeter, kNowMs).ok());
  e.kind = protocol::EventKind::kPowerUp;
  e.edge = protocol::EventEdge::kInstant;
  e.time_ms = kNowMs - 500;
  ASSERT_TRUE(store_->add_event(e, storage::EventSource::kMeter, kNowMs).ok());
  auto b = body(with_token(read_token_, "GET", "/api/v1/meters/m1/events"));
  ASSERT_EQ(b["events"].size(), 2u);
  EXPECT_EQ(b["events"][0]["kind"], "power_up");
  EXPECT_EQ(b["events"][1]["kind"], "magnetic");
  EXPECT_EQ(b["events"][1]["edge"], "onset");
  EXPECT_EQ(b["events"][1]["details"], "magnet near the meter");
  EXPECT_EQ(b["events"][1]["source"], "meter");
  b = body(with_token(read_token_, "GET", "/api/v1/meters/m1/events?kind=magnetic&limit=5"));
  ASSERT_EQ(b["events"].size(), 1u);
  expect_error(with_token(read_token_, "GET", "/api/v1/meters/m1/events?kind=ghost"), 400, "bad_parameter", "kind");
  expect_error(with_token(read_token_, "GET", "/api/v1/meters/m1/events?limit=0"), 400, "bad_parameter", "limit");
}

// --- commands -------------------------------------------------------------------------------

TEST_F(ApiHandlerTest, CommandValidationNamesTheField) {
  const std::string url = "/api/v1/meters/m1/commands";
  expect_error(with_token(admin_token_, "POST", url, ""), 400, "bad_parameter", "body");
  expect_error(with_token(admin_token_, "POST", url, R"({})"), 400, "bad_parameter", "kind");
  expect_error(with_token(admin_token_, "POST", url, R"({"kind":"explode"})"), 400, "bad_parameter", "kind");
  expect_error(with_token(admin_token_, "POST", url, R"({"kind":"set_period"})"), 400, "bad_parameter", "period_s");
  expect_error(with_token(admin_token_, "POST", url, R"({"kind":"set_period","period_s":0})"), 400, "bad_parameter",
               "period_s");
  expect_error(with_token(admin_token_, "POST", url, R"({"kind":"ping","period_s":10})"), 400, "bad_parameter",
               "period_s");
  expect_error(with_token(admin_token_, "POST", url, R"({"kind":"ping","timeout_s":"soon"})"), 400, "bad_parameter",
               "timeout_s");
}

TEST_F(ApiHandlerTest, OperatorCommandIsStoredAndCanBeLookedUp) {
  const std::string olga = sign_in("olga");
  const auto r = with_cookie(olga, "POST", "/api/v1/meters/m1/commands", R"({"kind":"relay_off","reason":"test"})");
  ASSERT_EQ(r.status, 202) << r.body;
  const json cmd = body(r)["command"];
  EXPECT_EQ(cmd["meter_id"], "m1");
  EXPECT_EQ(cmd["kind"], "relay_off");
  EXPECT_EQ(cmd["requested_by"], "olga");
  const std::string state = cmd["state"];
  EXPECT_TRUE(state == "pending" || state == "sent") << state;
  const std::string id = cmd["id"];
  const auto got = with_token(read_token_, "GET", "/api/v1/meters/m1/commands/" + id);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(body(got)["command"]["id"], id);
  const auto list = body(with_token(read_token_, "GET", "/api/v1/meters/m1/commands"));
  ASSERT_EQ(list["commands"].size(), 1u);
  expect_error(with_token(read_token_, "GET", "/api/v1/meters/m2/commands/" + id), 404, "command_not_found");
  expect_error(with_token(read_token_, "GET", "/api/v1/meters/m1/commands/nope"), 404, "command_not_found");
}

// --- users and tokens -----------------------------------------------------------------------

// argon2id takes tens of milliseconds and much memory: a new or changed password is hashed on the HTTP server's
// worker pool (the answer's offload), never on the I/O thread that handles the request.
TEST_F(ApiHandlerTest, NewAndChangedPasswordsAreHashedOffTheIoThreadAndOtherChangesAnsweredAtOnce) {
  auto raw = [&](const std::string& method, const std::string& target, const std::string& body) {
    HttpRequest req;
    req.method = method;
    req.target = target;
    req.body = body;
    req.remote_address = "10.0.0.1";
    req.set_header("host", "127.0.0.1:8080");
    req.set_header("content-type", "application/json");
    req.set_header("authorization", "Bearer " + admin_token_);
    return api_->handle(req);
  };
  HttpResponse add = raw("POST", "/api/v1/users", R"({"name":"fay","role":"consumer","password":"fay-password"})");
  ASSERT_TRUE(add.offload) << add.status << " " << add.body;
  EXPECT_FALSE(auth_->find_user("fay")) << "nothing is done before the worker runs it";
  EXPECT_EQ(finish_offloaded(std::move(add)).status, 201);
  HttpResponse change = raw("PATCH", "/api/v1/users/fay", R"({"password":"fay-new-password"})");
  ASSERT_TRUE(change.offload);
  EXPECT_EQ(finish_offloaded(std::move(change)).status, 200);
  EXPECT_TRUE(auth_->check_password("fay", "fay-new-password", PasswordCost::kMin).has_value());
  HttpResponse role = raw("PATCH", "/api/v1/users/fay", R"({"role":"operator"})");
  EXPECT_FALSE(role.offload);
  EXPECT_EQ(role.status, 200) << role.body;
}

TEST_F(ApiHandlerTest, AdminManagesUsersAndTheirMeters) {
  auto r = with_token(admin_token_, "POST", "/api/v1/users",
                      R"({"name":"erin","role":"consumer","password":"erin-password","meters":["m3"]})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(body(r)["user"]["meters"], json::array({"m3"}));
  expect_error(with_token(admin_token_, "POST", "/api/v1/users",
                          R"({"name":"ERIN","role":"consumer","password":"erin-password"})"),
               409, "user_exists", "name");
  expect_error(with_token(admin_token_, "POST", "/api/v1/users",
                          R"({"name":"x1","role":"king","password":"pw-123456"})"),
               400, "bad_parameter", "role");
  expect_error(with_token(admin_token_, "POST", "/api/v1/users", R"({"name":"x1","role":"admin","password":"short"})"),
               400, "bad_parameter", "password");
  expect_error(with_token(admin_token_, "POST", "/api/v1/users",
                          R"({"name":"x1","role":"consumer","password":"pw-123456","meters":["nope"]})"),
               400, "bad_parameter", "meters");

  const std::string erin = sign_in("erin");
  EXPECT_EQ(body(with_cookie(erin, "GET", "/api/v1/meters"))["meters"][0]["id"], "m3");

  r = with_token(admin_token_, "PUT", "/api/v1/users/erin/meters", R"({"meters":["m2"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body(r)["user"]["meters"], json::array({"m2"}));
  EXPECT_EQ(with_cookie(erin, "GET", "/api/v1/meters/m3").status, 404);
  EXPECT_EQ(with_cookie(erin, "GET", "/api/v1/meters/m2").status, 200);

  r = with_token(admin_token_, "PATCH", "/api/v1/users/erin", R"({"role":"operator"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body(r)["user"]["role"], "operator");
  EXPECT_EQ(body(with_cookie(erin, "GET", "/api/v1/meters"))["total"], 3);

  EXPECT_EQ(with_token(admin_token_, "DELETE", "/api/v1/users/erin").status, 204);
  expect_error(with_cookie(erin, "GET", "/api/v1/meters"), 401, "unauthorized");
  EXPECT_EQ(store_->get_meter("m2")->owner, "");
  expect_error(with_token(admin_token_, "DELETE", "/api/v1/users/erin"), 404, "user_not_found");

  const std::string olga = sign_in("olga");
  expect_error(with_cookie(olga, "GET", "/api/v1/users"), 403, "forbidden");
  const std::string root = sign_in("root");
  expect_error(with_cookie(root, "DELETE", "/api/v1/users/root"), 400, "bad_parameter", "name");
  const json users = body(with_cookie(root, "GET", "/api/v1/users"));
  EXPECT_EQ(users["users"].size(), 4u);
}

TEST_F(ApiHandlerTest, AdminCreatesAndRevokesTokens) {
  const auto r = with_token(admin_token_, "POST", "/api/v1/tokens", R"({"scope":"read","label":"grafana"})");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string token = body(r)["token"];
  const int64_t id = body(r)["id"];
  EXPECT_EQ(with_token(token, "GET", "/api/v1/meters").status, 200);
  const json list = body(with_token(admin_token_, "GET", "/api/v1/tokens"));
  EXPECT_EQ(list["tokens"].size(), 3u);
  EXPECT_EQ(list.dump().find(token), std::string::npos);  // never shown again
  EXPECT_EQ(with_token(admin_token_, "DELETE", "/api/v1/tokens/" + std::to_string(id)).status, 204);
  expect_error(with_token(token, "GET", "/api/v1/meters"), 401, "unauthorized");
  expect_error(with_token(admin_token_, "POST", "/api/v1/tokens", R"({"scope":"root"})"), 400, "bad_parameter",
               "scope");
  expect_error(with_token(admin_token_, "DELETE", "/api/v1/tokens/abc"), 400, "bad_parameter", "id");
}

// --- health, routing, static files ------------------------------------------------------------

TEST_F(ApiHandlerTest, HealthReportsCounters) {
  const auto r = with_token(read_token_, "GET", "/api/v1/health");
  ASSERT_EQ(r.status, 200);
  const json b = body(r);
  EXPECT_EQ(b["mqtt"]["connected"], false);
  EXPECT_EQ(b["status"], "degraded");
  EXPECT_EQ(b["meters"]["known"], 3);
  EXPECT_TRUE(b["readings"].contains("received"));
  EXPECT_TRUE(b["readings"].contains("stored"));
  ASSERT_TRUE(b["rejected"]["by_reason"].is_object());
  EXPECT_EQ(b["rejected"]["by_reason"]["voltage_too_high"], 0);
  EXPECT_TRUE(b.contains("uptime_s"));
}

TEST_F(ApiHandlerTest, RoutingErrors) {
  expect_error(with_token(read_token_, "GET", "/api/v1/nothing"), 404, "not_found");
  expect_error(with_token(read_token_, "GET", "/api/v2/meters"), 404, "not_found");
  const auto r = with_token(read_token_, "DELETE", "/api/v1/meters");
  expect_error(r, 405, "method_not_allowed");
  EXPECT_EQ(*r.header("allow"), "GET, POST");  // POST adds a meter (admins)
  expect_error(with_token(read_token_, "GET", "/api/v1/live"), 426, "upgrade_required");
  expect_error(request("GET", "/api/v1/meters/%zz"), 400, "bad_parameter", "target");
}

TEST_F(ApiHandlerTest, StaticFilesAndSpaFallbackOutsideApi) {
  auto r = request("GET", "/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "<!doctype html>wattguard");
  r = request("GET", "/fleet");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "<!doctype html>wattguard");
}

TEST_F(ApiHandlerTest, ExtraRoutesSeeTheCaller) {
  ApiDeps deps;
  deps.store = store_.get();
  deps.ingest = ingest_.get();
  deps.auth = auth_.get();
  deps.hub = &hub_;
  deps.now_ms = [] { return kNowMs; };
  deps.extra_route = [](const HttpRequest&, const RequestTarget& t, const Caller& c) -> std::optional<HttpResponse> {
    if (t.path != "/api/v1/demo/whoami") return std::nullopt;
    return json_response(200, json{{"name", c.name}, {"admin", c.is_admin()}});
  };
  ApiHandler api(std::move(deps));
  HttpRequest req;
  req.method = "GET";
  req.target = "/api/v1/demo/whoami";
  req.set_header("authorization", "Bearer " + admin_token_);
  const auto r = api.handle(req);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(body(r)["admin"], true);
  req.target = "/api/v1/demo/other";
  EXPECT_EQ(api.handle(req).status, 404);
  req.headers.clear();
  req.target = "/api/v1/demo/whoami";
  EXPECT_EQ(api.handle(req).status, 401);  // extra routes are behind authentication
}

// --- WebSocket upgrade decisions --------------------------------------------------------------

TEST_F(ApiHandlerTest, LiveUpgradeAuthorisesAndFiltersMeters) {
  HttpRequest req;
  req.method = "GET";
  req.set_header("host", "127.0.0.1:8080");
  req.target = "/api/v1/live";
  auto d = api_->upgrade(req);
  ASSERT_TRUE(d.refusal);
  EXPECT_EQ(d.refusal->status, 401);

  req.set_header("authorization", "Bearer " + read_token_);
  d = api_->upgrade(req);
  EXPECT_FALSE(d.refusal);
  EXPECT_FALSE(d.meters);  // every meter
  req.target = "/api/v1/live?meters=m1,m2";
  d = api_->upgrade(req);
  ASSERT_TRUE(d.meters);
  EXPECT_EQ(*d.meters, (LiveHub::MeterSet{"m1", "m2"}));
  req.target = "/api/v1/live?meters=bad/id";
  d = api_->upgrade(req);
  ASSERT_TRUE(d.refusal);
  EXPECT_EQ(d.refusal->status, 400);
  req.target = "/api/v1/other";
  d = api_->upgrade(req);
  ASSERT_TRUE(d.refusal);
  EXPECT_EQ(d.refusal->status, 404);

  HttpRequest consumer;
  consumer.method = "GET";
  consumer.set_header("host", "127.0.0.1:8080");
  consumer.set_header("cookie", sign_in("carol"));
  consumer.target = "/api/v1/live";
  d = api_->upgrade(consumer);
  ASSERT_TRUE(d.meters);
  EXPECT_EQ(*d.meters, (LiveHub::MeterSet{"m1"}));
  consumer.target = "/api/v1/live?meters=m2";
  d = api_->upgrade(consumer);
  ASSERT_TRUE(d.meters);
  EXPECT_TRUE(d.meters->empty());  // another's meter is simply not delivered
  consumer.set_header("origin", "https://evil.example");
  d = api_->upgrade(consumer);
  ASSERT_TRUE(d.refusal);
  EXPECT_EQ(d.refusal->status, 403);
  consumer.set_header("origin", "http://127.0.0.1:8080");
  EXPECT_FALSE(api_->upgrade(consumer).refusal);
}

TEST(CookieValue, FindsTheNamedCookie) {
  HttpRequest req;
  req.set_header("cookie", "theme=dark; wg_session=abc123; other=1");
  EXPECT_EQ(cookie_value(req, "wg_session"), "abc123");
  EXPECT_EQ(cookie_value(req, "missing"), "");
}

TEST(SameOrigin, ComparesOriginWithHost) {
  HttpRequest req;
  req.set_header("host", "127.0.0.1:8080");
  EXPECT_TRUE(same_origin(req));
  req.set_header("origin", "http://127.0.0.1:8080");
  EXPECT_TRUE(same_origin(req));
  req.set_header("origin", "http://127.0.0.1:9090");
  EXPECT_FALSE(same_origin(req));
  req.set_header("origin", "null");
  EXPECT_FALSE(same_origin(req));
}

}  // namespace
}  // namespace wattguard::api
