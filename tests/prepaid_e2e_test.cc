// Prepaid credit on the real system: a private Mosquitto, the server and a virtual meter reporting every
// second. The meter is charged by its tariff as it uses energy, its consumer is told through the notice outbox
// (a real HTTP receiver, each notice once), it is disconnected through the audited command path only once the
// protection is lifted, and a signed payment from the provider's webhook switches it back on; forged, stale,
// repeated and conflicting webhook calls change nothing.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "tests/e2e_support.h"
#include "wattguard/accounts/payment_webhook.h"
#include "wattguard/billing/tariff_toml.h"
#include "wattguard/demo/local_system.h"
#include "wattguard/notify/http_client.h"
#include "wattguard/test_support/test_receiver.h"

namespace wattguard::e2e {
namespace {

using nlohmann::json;

constexpr const char* kToken = "prepaid-e2e-admin-token-0123456789";
constexpr const char* kSecret = "provider-shared-secret-0123456789";

// A fixed charge that almost uses up the opening credit, and an energy rate high enough that a virtual
// household's use moves the balance within seconds.
constexpr const char* kTariff = R"toml(
[[tariff]]
id = "test-prepaid"
currency = "INR"
cycle = "monthly"
time_zone = "+05:30"
slab_mode = "telescopic"
slabs = [ { rate = 20000.0 } ]
fixed_charge = 110.0
tax_percent = 0.0
)toml";

class PrepaidE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(hook_.ok());
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
    // A house with rooftop PV exports by day and is charged nothing then: the test failed on sunny mornings.
    o.fleet.solar = false;
    o.configure_server = [](serve::ServerConfig& c) {
      auto book = billing::parse_tariffs(kTariff, "test");
      ASSERT_TRUE(book.ok()) << book.error().message;
      c.billing.tariffs = std::move(book).value();
      c.billing.update_interval_s = 1;
      c.prepaid.low_credit = "100";
      c.prepaid.emergency_credit = "5";
      // Any hour of any day: the protected flag is what this test switches.
      c.prepaid.allowed_from_minute = 0;
      c.prepaid.allowed_to_minute = 1440;
      c.prepaid.weekends = true;
      c.prepaid.payment_secret = kSecret;
      c.alerts.retry_base_s = 1;
    };
    auto s = demo::LocalSystem::start(o);
    ASSERT_TRUE(s.ok()) << s.error().message;
    sys_ = std::move(s).value();
    auto meters = sys_->server().store().list_meters();
    ASSERT_TRUE(meters.ok());
    ASSERT_EQ(meters->size(), 1u);
    meter_ = meters->front().id;
  }
  void TearDown() override {
    if (sys_) sys_->stop();
  }

  notify::HttpOutcome call(const std::string& method, const std::string& path, const std::string& body = "",
                           std::vector<std::pair<std::string, std::string>> headers = {}) {
    notify::HttpCall c;
    c.method = method;
    c.url = sys_->url() + path;
    c.body = body;
    c.headers = std::move(headers);
    c.headers.emplace_back("Content-Type", "application/json");
    c.keep_body_bytes = std::size_t{1} << 20;
    return notify::http_call(c);
  }
  json api(const std::string& method, const std::string& path, const json& body = nullptr, int expect = 200) {
    const auto out =
        call(method, path, body.is_null() ? "" : body.dump(), {{"Authorization", std::string("Bearer ") + kToken}});
    EXPECT_EQ(out.status, expect) << method << " " << path << ": " << out.body;
    auto parsed = json::parse(out.body, nullptr, false);
    if (!parsed.is_object()) {
      ADD_FAILURE() << method << " " << path << " answered " << out.status << ": " << out.describe();
      return json::object();
    }
    return parsed;
  }
  // Polls the billing status until pred holds.
  bool wait_status(const std::function<bool(const json&)>& pred, int seconds = 60) {
    for (int i = 0; i < seconds * 5; ++i) {
      if (pred(api("GET", "/api/v1/meters/" + meter_ + "/billing"))) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  }
  std::vector<json> relay_commands() {
    std::vector<json> out;
    const json listed = api("GET", "/api/v1/meters/" + meter_ + "/commands");
    for (const auto& c : listed["commands"]) {
      if (c["requested_by"] == "prepaid") out.push_back(c);
    }
    return out;
  }
  notify::HttpOutcome webhook(const std::string& body, const std::string& signature) {
    return call("POST", "/api/v1/payments/webhook", body, {{accounts::kPaymentSignatureHeader, signature}});
  }
  int64_t balance() { return api("GET", "/api/v1/meters/" + meter_ + "/ledger")["balance"]["minor"].get<int64_t>(); }

  TempDir dir_{"prepaid-e2e"};
  test_support::TestReceiver hook_;
  std::unique_ptr<demo::LocalSystem> sys_;
  std::string meter_;
};

TEST_F(PrepaidE2e, ChargeWarnDisconnectPayReconnect) {
  const std::string base = "/api/v1/meters/" + meter_;
  api("PUT", base + "/billing", {{"prepaid", true}, {"protected", true}, {"webhook_url", hook_.url("/consumer")}});
  api("POST", base + "/topups", {{"amount", "120.00"}, {"reference", "counter 1"}}, 201);

  // Charged as it goes: the fixed charge and then energy at INR 20,000 per kWh take it below zero and past the
  // emergency credit. Protected: told, but not disconnected.
  ASSERT_TRUE(wait_status([](const json& s) { return s["prepaid"]["balance"]["minor"].get<int64_t>() < -1000; }))
      << "the balance never went below -10.00: " << api("GET", "/api/v1/meters/" + meter_ + "/billing").dump() << " "
      << api("GET", "/api/v1/meters/" + meter_).dump();
  const auto entries = api("GET", base + "/ledger")["entries"];
  int64_t sum = 0;
  for (const auto& e : entries) sum += e["amount"]["minor"].get<int64_t>();
  EXPECT_EQ(sum, balance()) << "the balance is the ledger's sum";
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_TRUE(relay_commands().empty()) << "a protected supply was disconnected";

  // Protection lifted: disconnected once, through the command path, and the meter acknowledges it.
  api("PUT", base + "/billing", {{"protected", false}});
  ASSERT_TRUE(wait_status([](const json& s) { return s["prepaid"]["disconnected"] == true; }));
  std::vector<json> commands;
  for (int i = 0; i < 100; ++i) {
    commands = relay_commands();
    if (!commands.empty() && commands[0]["state"] == "acked") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_EQ(commands.size(), 1u);
  EXPECT_EQ(commands[0]["kind"], "relay_off");
  EXPECT_EQ(commands[0]["state"], "acked");

  // The provider's webhook: forged and stale calls are refused and change nothing.
  const int64_t before = balance();
  const int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string amount = std::to_string((-before) / 100 + 200) + ".00";
  const std::string body =
      json{{"payment_id", "pay-e2e-1"}, {"meter", meter_}, {"amount", amount}, {"currency", "INR"}}.dump();
  EXPECT_EQ(webhook(body, accounts::sign_payment(body, "a-forged-secret-xxxxxxxx", now_s)).status, 401);
  EXPECT_EQ(webhook(body, accounts::sign_payment(body, kSecret, now_s - 3600)).status, 401);
  EXPECT_EQ(webhook(body, "").status, 401);
  EXPECT_EQ(webhook("{\"payment_id\":1}", accounts::sign_payment("{\"payment_id\":1}", kSecret, now_s)).status, 400);
  EXPECT_GE(balance(), before - 100) << "only metering may have moved it";  // charges stop once the relay is off

  // A valid payment clears the debt: the supply is switched back on.
  const std::string signature = accounts::sign_payment(body, kSecret, now_s);
  const auto paid = webhook(body, signature);
  ASSERT_EQ(paid.status, 200) << paid.body;
  EXPECT_EQ(json::parse(paid.body)["status"], "applied");
  ASSERT_TRUE(wait_status([](const json& s) { return s["prepaid"]["disconnected"] == false; }));
  for (int i = 0; i < 100; ++i) {
    commands = relay_commands();
    if (commands.size() == 2 && commands[0]["state"] == "acked") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_EQ(commands.size(), 2u);
  EXPECT_EQ(commands[0]["kind"], "relay_on");  // newest first
  EXPECT_EQ(commands[0]["state"], "acked");

  // The provider retries the same call: acknowledged, the ledger has it once; the same id for another amount
  // is a conflict.
  const auto again = webhook(body, signature);
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(json::parse(again.body)["status"], "duplicate");
  const std::string other =
      json{{"payment_id", "pay-e2e-1"}, {"meter", meter_}, {"amount", "1.00"}, {"currency", "INR"}}.dump();
  EXPECT_EQ(webhook(other, accounts::sign_payment(other, kSecret, now_s)).status, 409);
  int payments = 0;
  const json ledger = api("GET", base + "/ledger");
  for (const auto& e : ledger["entries"]) payments += e["kind"] == "payment" ? 1 : 0;
  EXPECT_EQ(payments, 1);

  // The consumer was told, each notice once: low credit, emergency credit, disconnected, reconnected.
  const auto notices = api("GET", base + "/notices")["notices"];
  std::map<std::string, int64_t> id_of;
  for (const auto& n : notices) id_of[n["kind"].get<std::string>()] = n["id"].get<int64_t>();
  for (const char* kind : {"emergency_credit", "disconnected", "reconnected"}) {
    EXPECT_TRUE(id_of.count(kind)) << "no " << kind << " notice; got " << notices.dump();
  }
  ASSERT_TRUE(hook_.wait_for(id_of.size(), 30'000));
  std::this_thread::sleep_for(std::chrono::seconds(2));  // time for a wrong second delivery to show
  std::map<int64_t, int> received;
  for (const auto& r : hook_.requests()) {
    const auto n = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(n.is_object()) << r.body;
    ++received[n["notice"].get<int64_t>()];
    EXPECT_FALSE(n["text"].get<std::string>().empty());
  }
  for (const auto& [kind, id] : id_of) EXPECT_EQ(received[id], 1) << kind << " delivered " << received[id] << " times";
}

}  // namespace
}  // namespace wattguard::e2e
