// Bringing your own meter, on the real system (a private Mosquitto and the server over real HTTP): an admin adds
// meters from the API and gets their secrets once; the MQTT password logs in to the running broker at once; an
// emoncms uploader posts in every form the input API takes, from a separate process (curl), and its values are
// stored, shown live and charged to the meter's register; re-keying and retiring lock the old secrets out while
// the history stays.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "tests/e2e_support.h"
#include "wattguard/demo/local_system.h"
#include "wattguard/notify/http_client.h"
#include "wattguard/protocol/codec.h"
#include "wattguard/protocol/topics.h"
#include "wattguard/test_support/test_client.h"

namespace wattguard::e2e {
namespace {

using nlohmann::json;

constexpr const char* kToken = "byo-e2e-admin-token-0123456789abcdef";

struct CurlAnswer {
  int status = 0;
  std::string body;
};

// Runs curl (a real third-party HTTP client, in its own process) and returns the status and body.
CurlAnswer curl(const std::string& args) {
  const std::string cmd = "curl -s -S -m 20 -w '\\n%{http_code}' " + args + " 2>&1";
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    std::array<char, 4096> buf{};
    std::size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
    ::pclose(p);
  }
  CurlAnswer a;
  const auto nl = out.rfind('\n');
  if (nl == std::string::npos) return a;
  a.status = std::atoi(out.c_str() + nl + 1);
  a.body = out.substr(0, nl);
  return a;
}

class ByoMeterE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    demo::LocalSystemOptions o;
    o.data_dir = dir_.path();
    o.http_port = 0;
    o.password_cost = "min";
    o.create_operator = false;
    o.api_token = kToken;
    o.demo_accounts = false;
    o.fleet.meters = 1;
    o.fleet.period_ms = 1000;
    o.fleet.journal_fsync = false;
    o.configure_server = [](serve::ServerConfig& c) {
      // A CSV uploader's positional inputs, for one meter only.
      c.emoncms.inputs.push_back(api::EmoncmsInput{"csv-house", "1", "power"});
      c.emoncms.inputs.push_back(api::EmoncmsInput{"csv-house", "2", "voltage"});
    };
    auto s = demo::LocalSystem::start(o);
    ASSERT_TRUE(s.ok()) << s.error().message;
    sys_ = std::move(s).value();
  }
  void TearDown() override {
    if (sys_) sys_->stop();
  }

  json api(const std::string& method, const std::string& path, const json& body = nullptr, int expect = 200) {
    notify::HttpCall c;
    c.method = method;
    c.url = sys_->url() + path;
    c.body = body.is_null() ? "" : body.dump();
    c.headers = {{"Authorization", std::string("Bearer ") + kToken}, {"Content-Type", "application/json"}};
    c.keep_body_bytes = std::size_t{1} << 20;
    const auto out = notify::http_call(c);
    EXPECT_EQ(out.status, expect) << method << " " << path << ": " << out.body;
    auto parsed = json::parse(out.body, nullptr, false);
    return parsed.is_discarded() ? json() : parsed;
  }

  std::vector<protocol::Reading> stored(const std::string& meter, std::size_t at_least) {
    std::vector<protocol::Reading> rs;
    for (int i = 0; i < 100; ++i) {
      sys_->server().ingest().flush(2000);
      auto got = sys_->server().store().raw_readings(meter, 0, INT64_MAX);
      if (got.ok()) rs = got.value();
      if (rs.size() >= at_least) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return rs;
  }

  std::string emoncms(const std::string& rest) { return "'" + sys_->url() + "/emoncms" + rest + "'"; }

  TempDir dir_;
  std::unique_ptr<demo::LocalSystem> sys_;
};

TEST_F(ByoMeterE2e, AnAddedMqttMeterLogsInToTheRunningBrokerAndItsReadingsAreStored) {
  const json added = api("POST", "/api/v1/meters",
                         {{"id", "new-mqtt"}, {"name", "Flat 4"}, {"area", "north"}, {"protocols", {"mqtt"}}}, 201);
  ASSERT_TRUE(added.contains("credentials")) << added.dump();
  EXPECT_EQ(added["meter"]["id"], "new-mqtt");
  EXPECT_EQ(added["meter"]["area"], "north");
  EXPECT_EQ(added["meter"]["retired_ms"], 0);
  const std::string user = added["credentials"]["mqtt_username"];
  const std::string password = added["credentials"]["mqtt_password"];
  EXPECT_FALSE(added["credentials"].contains("blynk_token"));
  // The secret is not kept in clear anywhere the server writes.
  std::ifstream passwd(sys_->broker().password_file());
  std::stringstream text;
  text << passwd.rdbuf();
  EXPECT_NE(text.str().find("new-mqtt:$7$"), std::string::npos);
  EXPECT_EQ(text.str().find(password), std::string::npos);

  test_support::TestClient meter(sys_->broker().port(), {"new-mqtt", user, password, true, std::nullopt});
  ASSERT_EQ(meter.connect(), 0) << "the broker did not take the new password";
  protocol::Reading r;
  r.meter_id = "new-mqtt";
  r.seq = 1;
  r.time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                  .count();
  r.vrms = 231.0;
  r.irms = 1.0;
  r.p_w = 200.0;
  r.s_va = 231.0;
  r.pf = 200.0 / 231.0;
  r.freq_hz = 50.0;
  r.e_import_wh = 10.0;
  ASSERT_TRUE(meter.publish(protocol::make_topic("new-mqtt", protocol::TopicKind::kReading), protocol::encode(r)));
  const auto rs = stored("new-mqtt", 1);
  ASSERT_EQ(rs.size(), 1U);
  EXPECT_DOUBLE_EQ(rs[0].p_w, 200.0);

  // A wrong password is still refused: the broker did not open up.
  test_support::TestClient impostor(sys_->broker().port(), {"impostor", user, "not-the-password", true, std::nullopt});
  EXPECT_NE(impostor.connect(), 0);
}

TEST_F(ByoMeterE2e, AnEmoncmsUploaderPostsInEveryFormAndTheValuesBecomeReadings) {
  const json added = api("POST", "/api/v1/meters", {{"id", "emon-1"}, {"protocols", {"emoncms"}}}, 201);
  const std::string key = added["credentials"]["emoncms_apikey"];
  ASSERT_EQ(key.size(), 32U);
  const int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();

  // emonESP: GET with json= and the key in the query.
  auto a = curl("-G " + emoncms("/input/post") +
                " --data-urlencode 'node=emonesp' --data-urlencode 'json={vrms:230.5,irms:2.1,power1:450,kwh:12.5}' "
                "--data-urlencode 'apikey=" +
                key + "' --data-urlencode 'time=" + std::to_string(now_s - 30) + "'");
  EXPECT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.body, "ok");
  // fulljson in a form POST, the key as a bearer token.
  auto b = curl(
      "-X POST " + emoncms("/input/post.json") + " -H 'Authorization: Bearer " + key +
      "' --data-urlencode 'node=emontx' --data-urlencode 'fulljson={\"V\":231.0,\"I\":3.0,\"P\":600,\"energy\":12.6}'"
      " --data-urlencode 'time=" +
      std::to_string(now_s - 20) + "'");
  EXPECT_EQ(b.status, 200) << b.body;
  // IoTaWatt-style bulk upload: two frames ten seconds apart, relative to time=.
  auto c = curl("-X POST " + emoncms("/input/bulk") + " -H 'Authorization: Bearer " + key +
                "' --data-urlencode 'data=[[0,\"iotawatt\",{}],[5,\"iotawatt\",{}]]'");
  EXPECT_EQ(c.status, 400) << "objects are not values: " << c.body;
  auto d = curl("-X POST " + emoncms("/input/bulk") + " -H 'Authorization: Bearer " + key +
                "' --data-urlencode 'data=[[0,\"iotawatt\",232.0,4.0,900,12.7],[5,\"iotawatt\",232.5,4.1,910,12.71]]'" +
                " --data-urlencode 'time=" + std::to_string(now_s - 10) + "'");
  EXPECT_EQ(d.status, 400) << "positional values need a map: " << d.body;

  const auto rs = stored("emon-1", 2);
  ASSERT_EQ(rs.size(), 2U);
  EXPECT_DOUBLE_EQ(rs[0].vrms, 230.5);
  EXPECT_DOUBLE_EQ(rs[0].p_w, 450.0);
  EXPECT_DOUBLE_EQ(rs[0].e_import_wh, 12500.0);
  EXPECT_EQ(rs[0].time_ms, (now_s - 30) * 1000);
  EXPECT_DOUBLE_EQ(rs[1].irms, 3.0);
  EXPECT_DOUBLE_EQ(rs[1].e_import_wh, 12600.0);
  EXPECT_LT(rs[0].seq, rs[1].seq);
  // And it is the meter's live state.
  const json meter = api("GET", "/api/v1/meters/emon-1");
  EXPECT_DOUBLE_EQ(meter["meter"]["last_reading"]["p_w"].get<double>(), 600.0);

  // A wrong key: emoncms's refusal, as JSON, with 401.
  auto wrong = curl("-G " + emoncms("/input/post") +
                    " --data-urlencode 'json={power:1}' --data-urlencode 'apikey=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'");
  EXPECT_EQ(wrong.status, 401);
  const json refusal = json::parse(wrong.body, nullptr, false);
  ASSERT_TRUE(refusal.is_object()) << wrong.body;
  EXPECT_EQ(refusal["success"], false);
  // Refusals are counted where operators look.
  notify::HttpCall m;
  m.method = "GET";
  m.url = sys_->url() + "/metrics";
  m.headers = {{"Authorization", std::string("Bearer ") + kToken}};
  m.keep_body_bytes = std::size_t{1} << 20;
  const auto metrics = notify::http_call(m);
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("wattguard_emoncms_refused_total{reason=\"key\"} 1"), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("wattguard_emoncms_frames_total 2"), std::string::npos);
  // A non-finite value is refused naming the input, and nothing is stored.
  auto nan = curl("-G " + emoncms("/input/post") +
                  " --data-urlencode 'json={power:inf}' --data-urlencode 'apikey=" + key + "'");
  EXPECT_EQ(nan.status, 400);
  EXPECT_NE(nan.body.find("power"), std::string::npos) << nan.body;
  EXPECT_EQ(stored("emon-1", 2).size(), 2U);
}

TEST_F(ByoMeterE2e, CsvAndBulkUploadsUseTheMetersOwnInputMapAndIntegratePower) {
  const json added = api("POST", "/api/v1/meters", {{"id", "csv-house"}, {"protocols", {"emoncms"}}}, 201);
  const std::string key = added["credentials"]["emoncms_apikey"];
  const int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto a = curl("-G " + emoncms("/input/post") + " --data-urlencode 'csv=3600,230' --data-urlencode 'apikey=" + key +
                "' --data-urlencode 'time=" + std::to_string(now_s - 40) + "'");
  EXPECT_EQ(a.status, 200) << a.body;
  // Two frames 10 s apart at 3.6 kW: the register grows by 10 Wh per frame.
  auto b = curl("-X POST " + emoncms("/input/bulk") + " --data-urlencode 'apikey=" + key +
                "' --data-urlencode 'data=[[0,5,3600,231],[10,5,3600,232]]' --data-urlencode 'time=" +
                std::to_string(now_s - 30) + "'");
  EXPECT_EQ(b.status, 200) << b.body;
  const auto rs = stored("csv-house", 3);
  ASSERT_EQ(rs.size(), 3U);
  EXPECT_DOUBLE_EQ(rs[0].vrms, 230.0);
  EXPECT_DOUBLE_EQ(rs[2].vrms, 232.0);
  EXPECT_NEAR(rs[1].e_import_wh - rs[0].e_import_wh, 10.0, 1e-6);
  EXPECT_NEAR(rs[2].e_import_wh - rs[1].e_import_wh, 10.0, 1e-6);
}

TEST_F(ByoMeterE2e, RekeyingAndRetiringLockTheOldSecretsOutAndKeepTheHistory) {
  const json added = api("POST", "/api/v1/meters", {{"id", "both"}, {"protocols", {"mqtt", "emoncms", "blynk"}}}, 201);
  const std::string old_key = added["credentials"]["emoncms_apikey"];
  ASSERT_TRUE(added["credentials"].contains("blynk_token"));
  auto first = curl("-G " + emoncms("/input/post") +
                    " --data-urlencode 'json={power:100}' --data-urlencode 'apikey=" + old_key + "'");
  ASSERT_EQ(first.status, 200) << first.body;
  ASSERT_EQ(stored("both", 1).size(), 1U);

  const json rotated = api("POST", "/api/v1/meters/both/credentials", nullptr, 200);
  const std::string new_key = rotated["credentials"]["emoncms_apikey"];
  EXPECT_NE(new_key, old_key);
  EXPECT_TRUE(rotated["credentials"].contains("mqtt_password"));
  EXPECT_TRUE(rotated["credentials"].contains("blynk_token"));
  EXPECT_EQ(curl("-G " + emoncms("/input/post") +
                 " --data-urlencode 'json={power:1}' --data-urlencode 'apikey=" + old_key + "'")
                .status,
            401);
  EXPECT_EQ(curl("-G " + emoncms("/input/post") +
                 " --data-urlencode 'json={power:2}' --data-urlencode 'apikey=" + new_key + "'")
                .status,
            200);
  ASSERT_EQ(stored("both", 2).size(), 2U);

  const json retired = api("DELETE", "/api/v1/meters/both", nullptr, 200);
  EXPECT_GT(retired["meter"]["retired_ms"].get<int64_t>(), 0);
  EXPECT_EQ(curl("-G " + emoncms("/input/post") +
                 " --data-urlencode 'json={power:3}' --data-urlencode 'apikey=" + new_key + "'")
                .status,
            401);
  std::ifstream passwd(sys_->broker().password_file());
  std::stringstream text;
  text << passwd.rdbuf();
  EXPECT_EQ(text.str().find("both:"), std::string::npos) << "the retired meter's broker user is gone";
  EXPECT_EQ(stored("both", 2).size(), 2U) << "history kept";
  api("POST", "/api/v1/meters/both/credentials", nullptr, 404);
  // Retiring again changes nothing.
  const json again = api("DELETE", "/api/v1/meters/both", nullptr, 200);
  EXPECT_EQ(again["meter"]["retired_ms"], retired["meter"]["retired_ms"]);
}

TEST_F(ByoMeterE2e, AddingAMeterRefusesBadInputNamingTheField) {
  const json bad_id = api("POST", "/api/v1/meters", {{"id", "has space"}, {"protocols", {"emoncms"}}}, 400);
  EXPECT_EQ(bad_id["error"]["field"], "id");
  const json bad_protocol = api("POST", "/api/v1/meters", {{"id", "x1"}, {"protocols", {"zigbee"}}}, 400);
  EXPECT_EQ(bad_protocol["error"]["field"], "protocols");
  api("POST", "/api/v1/meters", {{"id", "x1"}, {"protocols", {"emoncms"}}}, 201);
  api("POST", "/api/v1/meters", {{"id", "x1"}, {"protocols", {"emoncms"}}}, 409);
  EXPECT_FALSE(sys_->server().store().get_meter("has space").ok());
}

}  // namespace
}  // namespace wattguard::e2e
