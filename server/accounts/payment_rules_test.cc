// The payment webhook's signature and the fair-disconnection rules, on their own.
#include <gtest/gtest.h>

#include "wattguard/accounts/disconnect_window.h"
#include "wattguard/accounts/payment_webhook.h"

namespace wattguard::accounts {
namespace {

constexpr const char* kSecret = "a-shared-secret-of-the-provider";
constexpr const char* kBody = R"({"payment_id":"pay_1","meter":"M1","amount":"250.00","currency":"INR"})";

TEST(PaymentWebhook, AcceptsTheSignedBody) {
  const int64_t now = 1'780'000'000;
  auto p = verify_payment(kBody, sign_payment(kBody, kSecret, now - 10), kSecret, now, 300);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->payment_id, "pay_1");
  EXPECT_EQ(p->meter, "M1");
  EXPECT_EQ(p->amount, "250.00");
  EXPECT_EQ(p->currency, "INR");
}

TEST(PaymentWebhook, RefusesWhatWasNotSignedByTheProvider) {
  const int64_t now = 1'780'000'000;
  const std::string good = sign_payment(kBody, kSecret, now);
  // The body changed after signing.
  std::string tampered = kBody;
  tampered.replace(tampered.find("250"), 3, "950");
  EXPECT_EQ(verify_payment(tampered, good, kSecret, now, 300).error().reason, "bad_signature");
  EXPECT_EQ(
      verify_payment(kBody, sign_payment(kBody, "another-secret-entirely", now), kSecret, now, 300).error().reason,
      "bad_signature");
  EXPECT_EQ(verify_payment(kBody, "", kSecret, now, 300).error().reason, "bad_signature");
  EXPECT_EQ(verify_payment(kBody, "t=abc,v1=00", kSecret, now, 300).error().reason, "bad_signature");
  // The timestamp is signed too: moving it breaks the signature; an old one is a replay.
  std::string moved = good;
  moved.replace(2, 10, std::to_string(now + 1));
  EXPECT_EQ(verify_payment(kBody, moved, kSecret, now, 300).error().reason, "bad_signature");
  EXPECT_EQ(verify_payment(kBody, sign_payment(kBody, kSecret, now - 301), kSecret, now, 300).error().reason, "stale");
  EXPECT_EQ(verify_payment(kBody, sign_payment(kBody, kSecret, now + 301), kSecret, now, 300).error().reason, "stale");
}

TEST(PaymentWebhook, NamesTheFieldOfABadBody) {
  const int64_t now = 1'780'000'000;
  const auto field_of = [&](const std::string& body) {
    auto p = verify_payment(body, sign_payment(body, kSecret, now), kSecret, now, 300);
    return p.ok() ? std::string("ok") : p.error().field;
  };
  EXPECT_EQ(field_of("[1,2]"), "body");
  EXPECT_EQ(field_of("{not json"), "body");
  EXPECT_EQ(field_of(R"({"meter":"M1","amount":"1","currency":"INR"})"), "payment_id");
  EXPECT_EQ(field_of(R"({"payment_id":"p","amount":"1","currency":"INR"})"), "meter");
  EXPECT_EQ(field_of(R"({"payment_id":"p","meter":"M1","amount":true,"currency":"INR"})"), "amount");
  EXPECT_EQ(field_of(R"({"payment_id":"p","meter":"M1","amount":"1"})"), "currency");
  EXPECT_EQ(field_of(R"({"payment_id":"p q","meter":"M1","amount":"1","currency":"INR"})"), "payment_id");
  EXPECT_EQ(field_of(R"({"payment_id":"p","meter":"M1","amount":12.5,"currency":"INR"})"), "ok");
}

class DisconnectWindowTest : public ::testing::Test {
 protected:
  // Local time in IST on a date of March 2026 (1 March is a Sunday).
  static int64_t ist(int day, int hour, int minute) {
    return 1'772'303'400 + (day - 1) * 86'400 + hour * 3600 + minute * 60;  // 2026-03-01T00:00+05:30
  }
  PrepaidConfig rules_;
};

TEST_F(DisconnectWindowTest, OnlyOnWorkingDaysInsideTheAllowedHours) {
  EXPECT_EQ(local_date(ist(2, 0, 0), 19'800), "2026-03-02");
  EXPECT_TRUE(may_disconnect(rules_, 19'800, ist(2, 10, 0), false).allowed);   // Monday 10:00
  EXPECT_TRUE(may_disconnect(rules_, 19'800, ist(6, 15, 59), false).allowed);  // Friday 15:59
  EXPECT_EQ(may_disconnect(rules_, 19'800, ist(2, 9, 59), false).why_not, "outside 10:00-16:00");
  EXPECT_EQ(may_disconnect(rules_, 19'800, ist(2, 16, 0), false).why_not, "outside 10:00-16:00");
  EXPECT_EQ(may_disconnect(rules_, 19'800, ist(7, 12, 0), false).why_not, "weekend");  // Saturday
  EXPECT_EQ(may_disconnect(rules_, 19'800, ist(1, 12, 0), false).why_not, "weekend");  // Sunday
  EXPECT_EQ(may_disconnect(rules_, 19'800, ist(3, 12, 0), true).why_not, "protected supply");
  rules_.holidays = {"2026-03-04"};
  EXPECT_EQ(may_disconnect(rules_, 19'800, ist(4, 12, 0), false).why_not, "holiday 2026-03-04");
  rules_.weekends = true;
  EXPECT_TRUE(may_disconnect(rules_, 19'800, ist(7, 12, 0), false).allowed);
  // The same instant is 06:30 in UTC: the meter's own zone decides.
  EXPECT_FALSE(may_disconnect(rules_, 0, ist(2, 12, 0), false).allowed);
}

}  // namespace
}  // namespace wattguard::accounts
