// The serve wiring of alerts: an alert raised through Server::alerts() reaches the area's webhook and the API.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "wattguard/notify/http_client.h"
#include "wattguard/serve/server.h"
#include "wattguard/test_support/temp_dir.h"
#include "wattguard/test_support/test_receiver.h"

namespace wattguard::serve {
namespace {

using nlohmann::json;
using test_support::TempDir;

// The serve wiring: an alert raised through Server::alerts() reaches the area's webhook and the API.
TEST(AlertsInServer, RaisedAlertIsDeliveredAndListed) {
  TempDir dir;
  test_support::TestReceiver hook;
  ASSERT_TRUE(hook.ok());
  ServerConfig config;
  config.http.port = 0;
  config.http.static_dir = dir.file("web");
  config.mqtt.port = 1;  // no broker: ingest keeps retrying, which is fine here
  config.mqtt.username = "";
  config.storage.data_dir = dir.file("data");
  config.auth.password_cost = "min";
  config.alerts.retry_base_s = 1;
  config.alerts.areas = {{"default", "Control room", "", hook.url("/wg"), {}}};
  auto started = Server::start(config);
  ASSERT_TRUE(started.ok()) << config_error_text(started.error());
  std::unique_ptr<Server> server = std::move(started).value();
  const std::string token = server->auth().create_token(api::TokenScope::kAdmin, "test", 1);

  alerts::NewAlert a;
  a.kind = "energy_balance";
  a.transformer_id = "T9";
  a.area = "west";
  a.score = 0.6;
  const int64_t id = server->alerts().raise(a);
  ASSERT_GT(id, 0);
  ASSERT_TRUE(hook.wait_for(1));
  EXPECT_EQ(json::parse(hook.requests()[0].body).at("id"), id);

  notify::HttpCall call;
  call.method = "GET";
  call.url = server->url() + "/api/v1/alerts?transformer=T9";
  call.headers = {{"Authorization", "Bearer " + token}};
  // The delivered mark follows the receiver's answer; poll briefly for it.
  json listed;
  for (int i = 0; i < 200; ++i) {
    const auto r = notify::http_call(call);
    ASSERT_EQ(r.status, 200) << r.describe();
    listed = json::parse(r.body);
    if (listed["alerts"][0]["deliveries"][0]["state"] == "delivered") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_EQ(listed["alerts"].size(), 1u);
  EXPECT_EQ(listed["alerts"][0]["deliveries"][0]["recipient"], "Control room");
  EXPECT_EQ(listed["alerts"][0]["deliveries"][0]["state"], "delivered");
  server->stop();
  EXPECT_EQ(hook.requests().size(), 1u);
}

}  // namespace
}  // namespace wattguard::serve
