// The outbox sender against a real loopback HTTP receiver and a real SQLite file.
#include "wattguard/alerts/delivery_worker.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "wattguard/alerts/alerts_config.h"
#include "wattguard/test_support/temp_dir.h"
#include "wattguard/test_support/test_receiver.h"

namespace wattguard::alerts {
namespace {

using test_support::TestReceiver;

bool wait_until(const std::function<bool()>& pred, int timeout_ms = 30'000) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

class DeliveryTest : public ::testing::Test {
 protected:
  std::unique_ptr<AlertService> open_service() {
    AlertServiceOptions o;
    o.database_path = (dir_ / "wattguard.db").string();
    o.recipients = [this](const std::string& area) { return config_.recipients(area); };
    auto s = AlertService::open(o);
    EXPECT_TRUE(s.ok()) << s.error().to_string();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  std::map<std::string, std::shared_ptr<notify::Notifier>> notifiers() {
    notify::SmsGatewayOptions sms;
    sms.url = config_.sms.url;
    sms.message_template = config_.sms.message_template;
    sms.timeout_ms = 3000;
    return {{"webhook", std::shared_ptr<notify::Notifier>(notify::make_webhook_notifier({3000, "", ""}))},
            {"sms", std::shared_ptr<notify::Notifier>(notify::make_sms_notifier(sms))}};
  }
  DeliveryOptions fast(int attempts) {
    DeliveryOptions d;
    d.max_attempts = attempts;
    d.retry_base_ms = 50;
    d.retry_max_ms = 200;
    d.poll_ms = 20;
    d.public_url = "https://wg.example/";
    return d;
  }

  test_support::TempDir temp_dir_{"delivery"};
  const std::filesystem::path dir_ = temp_dir_.path();
  AlertsConfig config_;
};

NewAlert mismatch(const std::string& meter) {
  NewAlert a;
  a.kind = "neutral_mismatch";
  a.meter_id = meter;
  a.area = "north";
  a.score = 0.93;
  a.raised_ms = 1'764'032'400'000;  // 2025-11-25T01:00:00Z
  a.evidence = nlohmann::json::array({"neutral 4.1 A vs phase 0.2 A"});
  return a;
}

TEST_F(DeliveryTest, WebhookAndSmsAreDeliveredOnceWithTheAlertAndTheFilledTemplate) {
  TestReceiver hook, gateway;
  config_.sms.url = gateway.url("/send");
  config_.sms.message_template = "{kind} {meter} {area} {score} {time} {url} for {reader}";
  config_.areas = {{"north", "Asha", "+919800000001", hook.url("/asha"), {}}};
  auto service = open_service();
  DeliveryWorker worker(*service, notifiers(), fast(3));
  worker.start();
  const int64_t id = service->raise(mismatch("m-001"));
  service->raise(mismatch("m-001"));  // dedup: same alert, no new deliveries
  worker.wake();
  ASSERT_TRUE(hook.wait_for(1));
  ASSERT_TRUE(gateway.wait_for(1));
  ASSERT_TRUE(wait_until([&] {
    const auto ds = service->deliveries_of(id);
    return ds.size() == 2 && ds[0].state == DeliveryState::kDelivered && ds[1].state == DeliveryState::kDelivered;
  }));
  // A few more passes must not send anything again.
  for (int i = 0; i < 3; ++i) worker.wake(), std::this_thread::sleep_for(std::chrono::milliseconds(50));
  worker.stop();
  ASSERT_EQ(hook.requests().size(), 1u);
  ASSERT_EQ(gateway.requests().size(), 1u);
  const auto body = nlohmann::json::parse(hook.requests()[0].body);
  EXPECT_EQ(body.at("id"), id);
  EXPECT_EQ(body.at("kind"), "neutral_mismatch");
  EXPECT_EQ(body.at("meter"), "m-001");
  EXPECT_EQ(body.at("area"), "north");
  EXPECT_EQ(body.at("evidence"), nlohmann::json::array({"neutral 4.1 A vs phase 0.2 A"}));
  EXPECT_EQ(gateway.requests()[0].body,
            "text=" +
                notify::url_encode("neutral_mismatch m-001 north 0.93 2025-11-25T01:00:00Z https://wg.example/alerts/" +
                                   std::to_string(id) + " for Asha") +
                "&to=%2B919800000001");
  const auto a = service->get(id);
  EXPECT_EQ(a->deliveries[0].attempts, 1);
  EXPECT_GT(a->deliveries[0].delivered_ms, 0);
}

TEST_F(DeliveryTest, ReceiverDownIsRetriedWithBackoffThenUndelivered) {
  uint16_t dead_port = 0;
  {
    TestReceiver gone;
    dead_port = gone.port();
  }
  config_.areas = {{"default", "Ravi", "", "http://127.0.0.1:" + std::to_string(dead_port) + "/x", {}}};
  auto service = open_service();
  DeliveryWorker worker(*service, notifiers(), fast(3));
  EXPECT_EQ(worker.backoff_ms(1), 50);
  EXPECT_EQ(worker.backoff_ms(2), 100);
  EXPECT_EQ(worker.backoff_ms(3), 200);
  EXPECT_EQ(worker.backoff_ms(9), 200);
  const int64_t id = service->raise(mismatch("m-002"));  // area north has no entry: default area's reader
  worker.start();
  ASSERT_TRUE(wait_until([&] { return service->deliveries_of(id).at(0).state == DeliveryState::kUndelivered; }));
  worker.stop();
  const auto d = service->deliveries_of(id).at(0);
  EXPECT_EQ(d.recipient, "Ravi");
  EXPECT_EQ(d.attempts, 3);
  EXPECT_NE(d.last_error.find("connect"), std::string::npos) << d.last_error;
  EXPECT_TRUE(service->due_deliveries(INT64_MAX).empty());
}

TEST_F(DeliveryTest, ErrorAnswersAreRetriedUntilAccepted) {
  TestReceiver hook;
  hook.set_status(500);
  config_.areas = {{"north", "Asha", "", hook.url(), {}}};
  auto service = open_service();
  DeliveryWorker worker(*service, notifiers(), fast(10));
  const int64_t id = service->raise(mismatch("m-003"));
  worker.start();
  ASSERT_TRUE(hook.wait_for(2));
  hook.set_status(204);
  ASSERT_TRUE(wait_until([&] { return service->deliveries_of(id).at(0).state == DeliveryState::kDelivered; }));
  worker.stop();
  const auto d = service->deliveries_of(id).at(0);
  EXPECT_GE(d.attempts, 3);
  EXPECT_EQ(static_cast<std::size_t>(d.attempts), hook.requests().size());
}

TEST_F(DeliveryTest, PendingRowsResumeAfterARestartAndAreDeliveredOnce) {
  TestReceiver hook;
  hook.set_status(503);
  config_.areas = {{"north", "Asha", "", hook.url(), {}}};
  int64_t id = 0;
  {
    auto service = open_service();
    DeliveryWorker worker(*service, notifiers(), fast(50));
    id = service->raise(mismatch("m-004"));
    worker.start();
    ASSERT_TRUE(hook.wait_for(1));
    worker.stop();
    EXPECT_EQ(service->deliveries_of(id).at(0).state, DeliveryState::kPending);
  }
  const std::size_t before = hook.requests().size();
  hook.set_status(200);
  auto service = open_service();  // "restart": new connection, new worker, same file
  DeliveryWorker worker(*service, notifiers(), fast(50));
  worker.start();
  ASSERT_TRUE(wait_until([&] { return service->deliveries_of(id).at(0).state == DeliveryState::kDelivered; }));
  for (int i = 0; i < 3; ++i) worker.wake(), std::this_thread::sleep_for(std::chrono::milliseconds(50));
  worker.stop();
  EXPECT_EQ(hook.requests().size(), before + 1);
}

TEST_F(DeliveryTest, NoNotifiersMeansNoOutboxRows) {
  auto service = open_service();
  const int64_t id = service->raise(mismatch("m-005"));
  EXPECT_GT(id, 0);
  EXPECT_TRUE(service->deliveries_of(id).empty());
  EXPECT_FALSE(config_.has_notifiers());
}

TEST(AlertsConfigTest, ValidationNamesTheKey) {
  AlertsConfig c;
  EXPECT_TRUE(validate_alerts_config(c).ok());
  c.max_attempts = 0;
  EXPECT_EQ(validate_alerts_config(c).error().field, "alerts.max_attempts");
  EXPECT_EQ(validate_alerts_config(c).error().message, "alerts.max_attempts must be 1..100");
  c = {};
  c.areas = {{"north", "Asha", "+91", "", {}}};
  EXPECT_EQ(validate_alerts_config(c).error().field, "alerts.areas[0].phone");
  c.areas = {{"north", "Asha", "", "ftp://x", {}}};
  EXPECT_EQ(validate_alerts_config(c).error().field, "alerts.areas[0].webhook_url");
  c = {};
  c.sms.url = "https://sms.example/send";
  c.sms.body = "xml";
  EXPECT_EQ(validate_alerts_config(c).error().field, "alerts.sms.body");
}

}  // namespace
}  // namespace wattguard::alerts
