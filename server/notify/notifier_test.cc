// Notifier tests against a real loopback HTTP receiver.
#include "wattguard/notify/notifier.h"

#include <gtest/gtest.h>

#include "wattguard/test_support/test_receiver.h"

namespace wattguard::notify {
namespace {

Message sample_message() {
  Message m;
  m.delivery_id = 42;
  m.alert = {{"id", 7}, {"kind", "neutral_mismatch"}, {"meter", "m-001"}};
  m.fields = {{"id", "7"},      {"kind", "neutral_mismatch"},     {"meter", "m-001"},           {"area", "north"},
              {"score", "0.9"}, {"time", "2026-11-25T01:00:00Z"}, {"url", "http://wg/alerts/7"}};
  return m;
}

TEST(FillTemplate, ReplacesKnownAndKeepsUnknownPlaceholders) {
  EXPECT_EQ(fill_template("{kind} at {meter} {nope} {", {{"kind", "cover_open"}, {"meter", "m1"}}),
            "cover_open at m1 {nope} {");
}

TEST(ParseUrl, AcceptsHttpAndHttpsAndRejectsOthers) {
  auto u = parse_url("https://sms.example.com:8443/api/send?x=1");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "sms.example.com");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->target, "/api/send?x=1");
  u = parse_url("http://10.0.0.1");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->target, "/");
  const auto ftp = parse_url("ftp://x/");
  ASSERT_FALSE(ftp.ok());
  EXPECT_NE(ftp.error().message.find("ftp://x/"), std::string::npos);
  EXPECT_EQ(ftp.error().field, "url");
  EXPECT_FALSE(parse_url("http://host:99999/").ok());
  EXPECT_FALSE(parse_url("http://user:pw@host/").ok());
}

TEST(Webhook, PostsTheAlertJson) {
  test_support::TestReceiver rx;
  ASSERT_TRUE(rx.ok());
  auto hook = make_webhook_notifier({.timeout_ms = 10'000, .auth_header = "X-Token: s3cret", .ca_file = ""});
  const auto outcome = hook->send(rx.url("/hook"), sample_message());
  EXPECT_TRUE(outcome.ok()) << outcome.describe();
  const auto reqs = rx.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].target, "/hook");
  EXPECT_EQ(reqs[0].headers.at("content-type"), "application/json");
  EXPECT_EQ(reqs[0].headers.at("x-token"), "s3cret");
  EXPECT_EQ(reqs[0].headers.at("idempotency-key"), "wattguard-delivery-42");
  EXPECT_EQ(nlohmann::json::parse(reqs[0].body), sample_message().alert);
}

TEST(Webhook, ErrorStatusIsAFailureWithTheStatus) {
  test_support::TestReceiver rx;
  rx.set_status(503);
  auto hook = make_webhook_notifier({});
  const auto outcome = hook->send(rx.url(), sample_message());
  EXPECT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status, 503);
  EXPECT_NE(outcome.describe().find("503"), std::string::npos);
}

TEST(Webhook, ReceiverDownIsATransportError) {
  uint16_t port = 0;
  {
    test_support::TestReceiver rx;
    port = rx.port();
  }
  auto hook = make_webhook_notifier({.timeout_ms = 3000, .auth_header = "", .ca_file = ""});
  const auto outcome = hook->send("http://127.0.0.1:" + std::to_string(port) + "/", sample_message());
  EXPECT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status, 0);
  EXPECT_NE(outcome.error.find("connect"), std::string::npos) << outcome.error;
}

TEST(Webhook, AuthHeaderIsNotSentOverPlainHttpToAnotherHost) {
  // 192.0.2.0/24 is reserved for documentation: were a call made, it would fail on connecting, not with this.
  auto hook = make_webhook_notifier({.timeout_ms = 2000, .auth_header = "X-Token: s3cret", .ca_file = ""});
  const auto outcome = hook->send("http://192.0.2.10:8080/hook", sample_message());
  EXPECT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status, 0);
  EXPECT_NE(outcome.error.find("https://"), std::string::npos) << outcome.error;
  EXPECT_TRUE(may_carry_credentials("https://hooks.example.com/x"));
  EXPECT_TRUE(may_carry_credentials("http://127.0.0.1:8080/x"));
  EXPECT_TRUE(may_carry_credentials("http://localhost/x"));
  EXPECT_FALSE(may_carry_credentials("http://hooks.example.com/x"));
  EXPECT_FALSE(may_carry_credentials("http://127.example.com/x"));
}

TEST(Sms, CredentialsAreNotSentOverPlainHttpToAnotherHost) {
  SmsGatewayOptions o;
  o.url = "http://192.0.2.10:8080/send";
  o.username = "acct";
  o.password = "pw";
  o.timeout_ms = 2000;
  const auto outcome = make_sms_notifier(o)->send("+15550001", sample_message());
  EXPECT_FALSE(outcome.ok());
  EXPECT_NE(outcome.error.find("https://"), std::string::npos) << outcome.error;
}

TEST(Sms, FormBodyWithFilledTemplateAndBasicAuth) {
  test_support::TestReceiver rx;
  SmsGatewayOptions o;
  o.url = rx.url("/sms/send");
  o.username = "wg";
  o.password = "pw";
  o.extra_params = {{"sender", "WATTGD"}};
  o.message_template = "{kind} meter {meter} ({area}) score {score} {url}";
  auto sms = make_sms_notifier(o);
  const auto outcome = sms->send("+919800000001", sample_message());
  ASSERT_TRUE(outcome.ok()) << outcome.describe();
  const auto reqs = rx.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].headers.at("content-type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(reqs[0].headers.at("authorization"), basic_auth("wg", "pw"));
  EXPECT_EQ(
      reqs[0].body,
      "sender=WATTGD&text=neutral_mismatch%20meter%20m-001%20%28north%29%20score%200.9%20http%3A%2F%2Fwg%2Falerts%2F7"
      "&to=%2B919800000001");
}

TEST(Sms, JsonBodyAndBearerHeader) {
  test_support::TestReceiver rx;
  SmsGatewayOptions o;
  o.url = rx.url("/v1/messages");
  o.body = "json";
  o.to_param = "number";
  o.text_param = "message";
  o.auth_header = "Authorization: Bearer abc";
  o.message_template = "{kind}@{meter}";
  auto sms = make_sms_notifier(o);
  ASSERT_TRUE(sms->send("+15550001", sample_message()).ok());
  const auto reqs = rx.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].headers.at("authorization"), "Bearer abc");
  const auto body = nlohmann::json::parse(reqs[0].body);
  EXPECT_EQ(body.at("number"), "+15550001");
  EXPECT_EQ(body.at("message"), "neutral_mismatch@m-001");
}

TEST(Sms, GetPutsParametersInTheQuery) {
  test_support::TestReceiver rx;
  SmsGatewayOptions o;
  o.url = rx.url("/send?key=k1");
  o.method = "GET";
  o.message_template = "{meter}";
  auto sms = make_sms_notifier(o);
  ASSERT_TRUE(sms->send("123", sample_message()).ok());
  const auto reqs = rx.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].target, "/send?key=k1&text=m-001&to=123");
}

}  // namespace
}  // namespace wattguard::notify
