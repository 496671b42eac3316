// /healthz, /readyz and /metrics through the real ApiHandler, with ingest on a real (private) Mosquitto that the
// tests stop to see readiness fall, and the answer checked by Prometheus' own promtool.
#include "server/api/ops_routes.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "server/api/api_test_fixture.h"
#include "wattguard/broker/broker_process.h"
#include "wattguard/test_support/test_meters.h"

namespace wattguard::api {
namespace {

constexpr int64_t kNowMs = 1714557600000;  // 2024-05-01T10:00:00Z

// promtool's verdict on an exposition: exit status and what it printed. promtool is a test dependency
// (scripts/install-deps.sh installs Debian's prometheus package): missing, it is a failure, not a skip.
struct Checked {
  int status = -1;
  std::string output;
};
Checked promtool_check(const std::string& text, const TempDir& dir) {
  const std::string file = dir.file("scrape.txt");
  std::ofstream(file) << text;
  Checked c;
  FILE* p = ::popen(("promtool check metrics < '" + file + "' 2>&1").c_str(), "r");
  if (p == nullptr) return c;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) c.output += buf;
  const int raw = ::pclose(p);
  c.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return c;
}

class OpsRoutesTest : public ApiFixture {
 protected:
  void SetUp() override {
    auto started = broker::BrokerProcess::start(broker::anonymous_setup(dir_.path() / "broker"));
    ASSERT_TRUE(started.ok()) << started.error().message;
    broker_ = std::move(started).value();
    open_stores(kNowMs);
    ASSERT_FALSE(HasFatalFailure());
    ASSERT_TRUE(store_->add_meter({"m1", "House \"1\"", "north", "carol", 0}).ok());
    ASSERT_TRUE(auth_->add_user("olga", Role::kOperator, "olga-password", PasswordCost::kMin, kNowMs / 1000).ok());
    ASSERT_TRUE(auth_->add_user("carol", Role::kConsumer, "carol-password", PasswordCost::kMin, kNowMs / 1000).ok());
    ApiDeps deps;
    deps.metrics_per_meter = true;
    deps.open_connections = [] { return 3; };
    deps.http_requests = [] { return std::vector<HttpRequestCount>{{"GET", "2xx", 10}, {"POST", "4xx", 2}}; };
    // Two parts adding to one family, as the MQTT and Blynk ingest do.
    deps.metrics_sources.emplace_back([](MetricsWriter& out) {
      out.gauge("wattguard_connections", "Connections", 1, {{"protocol", "mqtt"}});
    });
    deps.metrics_sources.emplace_back([](MetricsWriter& out) {
      out.gauge("wattguard_connections", "Connections", 5, {{"protocol", "blynk"}});
    });
    start_api(
        std::move(deps), [] { return kNowMs; }, broker_->port());
    for (int i = 0; i < 500 && !ingest_->connected(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ASSERT_TRUE(ingest_->connected());
  }
  void TearDown() override {
    ApiFixture::TearDown();
    broker_.reset();
  }

  std::unique_ptr<broker::BrokerProcess> broker_;
};

TEST_F(OpsRoutesTest, HealthzAnswersOkWithoutCredentialsAndWithoutDetails) {
  const auto r = request("GET", "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok");
  EXPECT_EQ(*r.header("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(request("POST", "/healthz").status, 405);
}

TEST_F(OpsRoutesTest, ReadyzIsReadyWhileBrokerAndStoreAnswerAndNamesTheBrokerWhenItIsDown) {
  const auto ready = request("GET", "/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "ready");
  broker_->stop();
  for (int i = 0; i < 500 && ingest_->connected(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const auto down = request("GET", "/readyz");
  EXPECT_EQ(down.status, 503);
  EXPECT_EQ(down.body, "not ready: broker");
  EXPECT_EQ(request("GET", "/healthz").status, 200);  // alive all the same
}

TEST_F(OpsRoutesTest, MetricsRefuseCallersWithoutAReadingTokenOrStaffSession) {
  const auto none = request("GET", "/metrics");
  EXPECT_EQ(none.status, 401);
  EXPECT_NE(none.header("www-authenticate"), nullptr);
  EXPECT_EQ(with_token("not-a-token", "GET", "/metrics").status, 401);
  EXPECT_EQ(with_cookie(sign_in("carol"), "GET", "/metrics").status, 403);
  EXPECT_EQ(with_cookie(sign_in("olga"), "GET", "/metrics").status, 200);
  EXPECT_EQ(with_token(admin_token_, "GET", "/metrics").status, 200);
  EXPECT_EQ(with_token(read_token_, "POST", "/metrics").status, 405);
}

TEST_F(OpsRoutesTest, MetricsWithAReadTokenAreValidPrometheusTextThatPromtoolAccepts) {
  const auto r = with_token(read_token_, "GET", "/metrics");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(*r.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  for (const char* line :
       {"# TYPE wattguard_ingest_readings_received_total counter\n", "wattguard_mqtt_connected 1\n",
        "wattguard_ingest_rejected_total{reason=\"malformed_json\"} 0\n", "wattguard_meters{state=\"unknown\"} 1\n",
        "wattguard_http_responses_total{method=\"POST\",status=\"4xx\"} 2\n", "wattguard_http_open_connections 3\n",
        "wattguard_websocket_clients 0\n",
        "wattguard_connections{protocol=\"mqtt\"} 1\nwattguard_connections{protocol=\"blynk\"} 5\n",
        "# TYPE process_start_time_seconds gauge\n"}) {
    EXPECT_NE(r.body.find(line), std::string::npos) << line << "\nin\n" << r.body;
  }
  EXPECT_EQ(r.body.find("# HELP wattguard_connections"), r.body.rfind("# HELP wattguard_connections"));
  const Checked checked = promtool_check(r.body, dir_);
  EXPECT_EQ(checked.status, 0) << "promtool check metrics: " << checked.output << "\n" << r.body;
  EXPECT_EQ(checked.output, "");
}

TEST_F(OpsRoutesTest, PerMeterSeriesCarryTheMeterLabelOnceTheMeterReported) {
  // The meter reports through the real broker; ingest's live state then holds its newest reading.
  test_support::TestMeters meter(broker_->port(), {});
  protocol::Reading reading;
  reading.meter_id = "m1";
  reading.seq = 1;
  reading.time_ms = kNowMs;
  reading.vrms = 231.5;
  reading.irms = 6.5;
  reading.p_w = 1500;
  reading.s_va = 1505;
  reading.pf = 0.99;
  reading.freq_hz = 50;
  reading.e_import_wh = 2000;
  meter.publish(reading);
  for (int i = 0; i < 500; ++i) {
    const auto live = ingest_->live_state("m1");
    if (live && live->last_reading) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const auto r = with_token(read_token_, "GET", "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("wattguard_meter_power_watts{meter=\"m1\"} 1500\n"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("wattguard_meter_energy_import_joules_total{meter=\"m1\"} 7200000\n"), std::string::npos);
  EXPECT_NE(r.body.find("wattguard_meter_voltage_volts{meter=\"m1\"} 231.5\n"), std::string::npos);
  EXPECT_NE(r.body.find("wattguard_meter_last_seen_timestamp_seconds{meter=\"m1\"} 1714557600\n"), std::string::npos);
  EXPECT_NE(r.body.find("wattguard_ingest_readings_received_total 1\n"), std::string::npos);
  const Checked checked = promtool_check(r.body, dir_);
  EXPECT_EQ(checked.status, 0) << checked.output;
}

}  // namespace
}  // namespace wattguard::api
