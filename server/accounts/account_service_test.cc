// The account service on a real SQLite store: running and issued bills against hand-worked figures, notices
// once per cycle and threshold, and prepaid credit from charge to disconnection and back.
#include "wattguard/accounts/account_service.h"

#include <gtest/gtest.h>

#include <vector>

#include "wattguard/accounts/consumer_notices.h"
#include "wattguard/accounts/payment_webhook.h"
#include "wattguard/billing/cycle.h"
#include "wattguard/billing/tariff_toml.h"
#include "wattguard/storage/sqlite_store.h"
#include "wattguard/test_support/temp_dir.h"

namespace wattguard::accounts {
namespace {

constexpr const char* kTariffs = R"toml(
[[tariff]]
id = "domestic"
currency = "INR"
cycle = "monthly"
time_zone = "+05:30"
slab_mode = "telescopic"
slabs = [ { upto_kwh = 100, rate = 4.71 }, { upto_kwh = 300, rate = 10.29 }, { rate = 14.55 } ]
fixed_charge = 120.0
tax_percent = 16.0
)toml";

constexpr int32_t kIst = 19'800;
constexpr const char* kSecret = "0123456789abcdef-provider";

struct Sent {
  std::string meter;
  protocol::CommandKind kind;
};

class AccountServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::SqliteOptions so;
    so.path = dir_.file("w.db");
    auto store = storage::SqliteStore::open(so);
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(store).value();
    auto accounts = AccountStore::open(so.path);
    ASSERT_TRUE(accounts.ok()) << accounts.error().message;
    accounts_ = std::move(accounts).value();
    std::vector<storage::MeterInfo> meters = {{"M1", "", "north", "asha", 0}, {"M2", "", "north", "", 0}};
    ASSERT_TRUE(store_->add_meters(meters).ok());
    cycle_start_ = billing::local_midnight_s(2026, 3, 1, kIst);  // Sunday 1 March 2026, IST
  }

  std::unique_ptr<AccountService> service() {
    AccountServiceDeps d;
    d.store = store_.get();
    d.accounts = accounts_.get();
    auto book = billing::parse_tariffs(kTariffs, "test");
    EXPECT_TRUE(book.ok());
    d.billing.tariffs = std::move(book).value();
    d.prepaid = prepaid_;
    d.prepaid.payment_secret = kSecret;
    d.now_ms = [this] { return now_s_ * 1000; };
    d.relay = [this](const std::string& meter, protocol::CommandKind kind,
                     const std::string&) -> Expected<std::string> {
      sent_.push_back({meter, kind});
      return "cmd-" + std::to_string(sent_.size());
    };
    return std::make_unique<AccountService>(std::move(d));
  }

  // Readings every 15 minutes from the cycle's start, `wh` per interval: reading k at start + k*900 s has
  // register k*wh, so the interval [start + k*900, +900) holds wh for k >= 1.
  void feed(const std::string& meter, int64_t from_k, int64_t to_k, double wh) {
    std::vector<protocol::Reading> rs;
    for (int64_t k = from_k; k < to_k; ++k) {
      protocol::Reading r;
      r.meter_id = meter;
      r.seq = static_cast<uint64_t>(k + 1);
      r.time_ms = (cycle_start_ + k * 900) * 1000;
      r.vrms = 230;
      r.e_import_wh = static_cast<double>(k) * wh;
      rs.push_back(r);
    }
    auto appended = store_->append_readings(rs, rs.back().time_ms);
    ASSERT_TRUE(appended.ok()) << appended.error().message;
  }

  test_support::TempDir dir_{"accounts"};
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<AccountStore> accounts_;
  PrepaidConfig prepaid_;
  int64_t cycle_start_ = 0;
  int64_t now_s_ = 0;
  std::vector<Sent> sent_;
};

TEST_F(AccountServiceTest, RunningBillMatchesTheHandWorkedFigures) {
  // 9.5 days at 1 kWh per hour: readings k = 0..911 (the last at now - 15 min) = 911 intervals of 250 Wh.
  now_s_ = cycle_start_ + 912 * 900;
  feed("M1", 0, 912, 250.0);
  auto s = service();
  auto status = s->cycle_status("M1");
  ASSERT_TRUE(status.ok()) << status.error().message;
  // 227.75 kWh: 100 x 4.71 = 471.00, 127.75 x 10.29 = 1314.5475 -> 1314.55; + 120 fixed = 1905.55;
  // tax 16 % = 304.888 -> 304.89; total 2210.44.
  EXPECT_EQ(status->running.energy_uwh, 227'750'000'000);
  EXPECT_EQ(status->running.energy_charge_minor, 178'555);
  EXPECT_EQ(status->running.tax_minor, 30'489);
  EXPECT_EQ(status->running.total_minor, 221'044);
  EXPECT_EQ(status->running.cycle.label(), "2026-03");
  EXPECT_EQ(status->slab.index, 1u);
  EXPECT_EQ(status->slab.to_uwh, std::optional<int64_t>(300'000'000'000));
  // The usual pace (24 kWh/day over the 7 days before now) for the 21.5 days left: 516 kWh more.
  ASSERT_TRUE(status->projection.has_value());
  const auto& p = *status->projection;
  EXPECT_FALSE(p.banded);
  EXPECT_NEAR(static_cast<double>(p.end_uwh.p50) / 1e9, 227.75 + 21.5 * 24.0, 0.5);
  EXPECT_GT(p.end_minor.p50, status->running.total_minor);
  // One point per local midnight still to come (11 March .. 1 April 00:00 IST) and used per day so far.
  ASSERT_EQ(p.daily.size(), 22u);
  EXPECT_EQ(p.daily.back().first, status->running.cycle.end_s);
  EXPECT_EQ(p.daily.back().second.p50, p.end_uwh.p50);
  ASSERT_EQ(status->used.size(), 10u);                         // 2..10 March at midnight, then now
  EXPECT_EQ(status->used.front().second, 95 * 250'000'000LL);  // day 1: intervals 1..95 (reading 0 opens it)
  EXPECT_EQ(status->used.back().second, status->running.energy_uwh);

  auto doc = s->bill("M1", "2026-03");
  ASSERT_TRUE(doc.ok()) << doc.error().message;
  EXPECT_FALSE(doc->issued);
  EXPECT_NE(doc->json.find("\"total\":2210.44"), std::string::npos) << doc->json;
  EXPECT_NE(doc->csv.find("M1,2026-03,domestic,INR,total,,,227.750,,2210.44\r\n"), std::string::npos) << doc->csv;
}

TEST_F(AccountServiceTest, WithFourWeeksOfHistoryTheProjectionIsAForecastWithABand) {
  // 37.5 days of a household's day (low at night, an evening peak) with deterministic noise, from 1 February.
  const int64_t first = -28 * 96;
  const int64_t last = 912;  // 10 March, 12:00 IST
  std::vector<protocol::Reading> rs;
  double reg = 0;
  uint32_t noise = 12345;
  for (int64_t k = first; k < last; ++k) {
    const int64_t hour = ((k % 96) + 96) % 96 / 4;
    noise = noise * 1'103'515'245u + 12'345u;
    const double base = hour < 6 ? 80.0 : hour >= 18 && hour < 22 ? 450.0 : 220.0;
    reg += base * (0.6 + 0.8 * static_cast<double>(noise >> 16 & 0x7fff) / 32767.0);
    protocol::Reading r;
    r.meter_id = "M1";
    r.seq = static_cast<uint64_t>(k - first + 1);
    r.time_ms = (cycle_start_ + k * 900) * 1000;
    r.vrms = 230;
    r.e_import_wh = reg;
    rs.push_back(r);
  }
  ASSERT_TRUE(store_->append_readings(rs, rs.back().time_ms).ok());
  now_s_ = cycle_start_ + last * 900;
  auto s = service();
  auto status = s->cycle_status("M1");
  ASSERT_TRUE(status.ok()) << status.error().message;
  ASSERT_TRUE(status->projection.has_value());
  const auto& p = *status->projection;
  EXPECT_TRUE(p.banded) << "four weeks of history: the forecast, not the plain average";
  EXPECT_LE(p.end_uwh.p10, p.end_uwh.p50);
  EXPECT_LE(p.end_uwh.p50, p.end_uwh.p90);
  EXPECT_LT(p.end_uwh.p10, p.end_uwh.p90);
  EXPECT_LE(p.end_minor.p10, p.end_minor.p90);
  // The mean day is 6 h x 4 x 80 + 4 h x 4 x 450 + 14 h x 4 x 220 Wh = 21.44 kWh; 21.5 days are left.
  const double used = static_cast<double>(status->running.energy_uwh) / 1e9;
  const double expected_end = used + 21.5 * 21.44;
  EXPECT_NEAR(static_cast<double>(p.end_uwh.p50) / 1e9, expected_end, 0.1 * expected_end);
  ASSERT_EQ(p.daily.size(), 22u);
  for (size_t i = 1; i < p.daily.size(); ++i) EXPECT_GE(p.daily[i].second.p50, p.daily[i - 1].second.p50);
}

TEST_F(AccountServiceTest, AClosedCycleIsIssuedOnceAndKeepsItsFigures) {
  const int64_t march = 31 * 96;
  feed("M1", 0, march + 8, 50.0);              // 0.2 kWh per hour through March and 2 hours into April
  now_s_ = cycle_start_ + march * 900 + 1800;  // 30 minutes after the cycle's end: not yet issued
  auto s = service();
  auto early = s->bill("M1", "2026-03");
  ASSERT_TRUE(early.ok());
  EXPECT_FALSE(early->issued);

  now_s_ = cycle_start_ + march * 900 + 7200;
  s->update_all();
  auto stored = accounts_->bill("M1", "2026-03");
  ASSERT_TRUE(stored.ok());
  ASSERT_TRUE(stored->has_value());
  // 2975 intervals of 50 Wh in March (reading 0 opens the register): 148.75 kWh.
  EXPECT_NE((*stored)->json.find("\"kwh\":148.750"), std::string::npos) << (*stored)->json;
  EXPECT_EQ((*stored)->tariff_version, "domestic");
  auto doc = s->bill("M1", "2026-03");
  ASSERT_TRUE(doc.ok());
  EXPECT_TRUE(doc->issued);
  EXPECT_EQ(doc->json, (*stored)->json);
  // M2 has no readings: no bill, and asking says so.
  auto none = s->bill("M2", "2026-03");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);
  // Future and malformed months are refused naming the parameter.
  EXPECT_EQ(s->bill("M1", "2026-06").error().field, "cycle");
  EXPECT_EQ(s->bill("M1", "2026-13").error().field, "cycle");
}

TEST_F(AccountServiceTest, NoticesAreDecidedOncePerCycleAndThreshold) {
  AccountSettings settings;
  settings.meter = "M1";
  settings.phone = "+919800000001";
  settings.budget_kwh = "150";
  auto s = service();
  now_s_ = cycle_start_ + 500 * 900;
  ASSERT_TRUE(s->save_settings(settings).ok());
  feed("M1", 0, 500, 250.0);  // 124.75 kWh: slab 100 crossed, 80 % of 150 kWh reached
  s->update_all();
  s->update_all();
  auto notices = accounts_->notices("M1");
  ASSERT_TRUE(notices.ok());
  std::map<std::string, std::string> by_kind;
  for (const Notice& n : notices.value()) by_kind[n.kind + "|" + n.threshold] = n.text;
  EXPECT_EQ(by_kind.size(), 2u);
  EXPECT_TRUE(by_kind.count("slab_crossed|100"));
  EXPECT_TRUE(by_kind.count("budget|kwh:80"));
  // 24 kWh a day for 3 days reaches 300 kWh? 124.75 + 72 < 300: no slab_soon; this one is the 300 kWh slab's.
  EXPECT_FALSE(by_kind.count("slab_soon|300"));
  EXPECT_TRUE(by_kind.count("budget|kwh:50") == 0) << "only the highest threshold reached is sent";
  EXPECT_NE(by_kind["slab_crossed|100"].find("INR 10.29"), std::string::npos) << by_kind["slab_crossed|100"];
  // One SMS per notice.
  auto due = accounts_->due_notice_deliveries(now_s_ * 1000, 100);
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(due->size(), by_kind.size());
  // Opted out of budget notices: the 100 % one is not decided.
  settings.opt_out = {"budget"};
  ASSERT_TRUE(s->save_settings(settings).ok());
  now_s_ = cycle_start_ + 700 * 900;
  feed("M1", 500, 700, 250.0);  // 174.75 kWh
  s->update_all();
  auto later = accounts_->notices("M1");
  ASSERT_TRUE(later.ok());
  for (const Notice& n : later.value()) EXPECT_NE(n.threshold, "kwh:100");
  // 174.75 + 3 days at 24 kWh = 246.75 < 300: still no warning; at 250 kWh it comes.
  now_s_ = cycle_start_ + 1000 * 900;
  feed("M1", 700, 1000, 250.0);  // 249.75 kWh
  s->update_all();
  auto warned = accounts_->notices("M1");
  ASSERT_TRUE(warned.ok());
  bool soon = false;
  for (const Notice& n : warned.value()) soon = soon || (n.kind == "slab_soon" && n.threshold == "300");
  EXPECT_TRUE(soon);
}

TEST_F(AccountServiceTest, SettingsAreCheckedField_by_field) {
  auto s = service();
  AccountSettings bad;
  bad.meter = "M1";
  bad.tariff = "industrial";
  EXPECT_EQ(s->save_settings(bad).error().field, "tariff");
  bad.tariff = "";
  bad.opt_out = {"low_credit"};  // credit warnings cannot be switched off
  EXPECT_EQ(s->save_settings(bad).error().field, "opt_out");
  bad.opt_out = {};
  bad.budget_money = "12.345";  // finer than a paisa
  EXPECT_EQ(s->save_settings(bad).error().field, "budget_money");
  bad.budget_money = "";
  bad.phone = "call me";
  EXPECT_EQ(s->save_settings(bad).error().field, "phone");
  bad.phone = "";
  bad.meter = "nope";
  EXPECT_EQ(s->save_settings(bad).error().code, ErrorCode::kNotFound);
}

class PrepaidTest : public AccountServiceTest {
 protected:
  void make_prepaid(AccountService& s) {
    AccountSettings settings;
    settings.meter = "M1";
    settings.prepaid = true;
    ASSERT_TRUE(s.save_settings(settings).ok());
  }
  std::string payment(const std::string& id, const std::string& amount, int64_t signed_at) {
    body_ = R"({"payment_id":")" + id + R"(","meter":"M1","amount":")" + amount + R"(","currency":"INR"})";
    return sign_payment(body_, kSecret, signed_at);
  }
  std::string body_;
};

TEST_F(PrepaidTest, ChargesFollowTheRunningBillAndTheBalanceIsTheLedgersSum) {
  auto s = service();
  now_s_ = cycle_start_ + 2 * 86'400 + 12 * 3600;  // Tuesday 3 March, 12:00 IST
  make_prepaid(*s);
  ASSERT_TRUE(s->top_up("M1", "500.00", "counter-17", "ravi").ok());
  feed("M1", 0, 100, 250.0);  // 24.75 kWh
  ASSERT_TRUE(s->update_meter(*store_->get_meter("M1")).ok());
  // 24.75 x 4.71 = 116.5725 -> 116.57; + 120 = 236.57; tax 37.8512 -> 37.85; total 274.42.
  EXPECT_EQ(accounts_->charged_minor("M1", "2026-03").value(), 27'442);
  EXPECT_EQ(accounts_->balance_minor("M1").value(), 50'000 - 27'442);
  // Charging again without new use changes nothing.
  ASSERT_TRUE(s->update_meter(*store_->get_meter("M1")).ok());
  EXPECT_EQ(accounts_->ledger("M1").value().size(), 2u);
  // The ledger cannot be edited, even from SQL.
  auto db = storage::Db::open(dir_.file("w.db"), 1000);
  ASSERT_TRUE(db.ok());
  EXPECT_FALSE(db.value()->exec("UPDATE ledger SET amount_minor = 0").ok());
  EXPECT_FALSE(db.value()->exec("DELETE FROM ledger").ok());
  EXPECT_EQ(accounts_->balance_minor("M1").value(), 50'000 - 27'442);
  EXPECT_TRUE(sent_.empty());
}

TEST_F(PrepaidTest, DisconnectsOnlyWhenTheRulesAllowAndReconnectsOnPayment) {
  auto s = service();
  // Saturday 7 March, 12:00 IST: a weekend, so no disconnection however low the credit.
  now_s_ = cycle_start_ + 6 * 86'400 + 12 * 3600;
  make_prepaid(*s);
  feed("M1", 0, 600, 250.0);  // 149.75 kWh, about INR 1,300 owed, no credit
  ASSERT_TRUE(s->update_meter(*store_->get_meter("M1")).ok());
  EXPECT_LT(accounts_->balance_minor("M1").value(), -5'000);
  EXPECT_TRUE(sent_.empty());
  // Monday 9 March 09:00: before the allowed hours (10:00-16:00).
  now_s_ = cycle_start_ + 8 * 86'400 + 9 * 3600;
  ASSERT_TRUE(s->update_meter(*store_->get_meter("M1")).ok());
  EXPECT_TRUE(sent_.empty());
  // 10:30: disconnected once, through the relay path.
  now_s_ = cycle_start_ + 8 * 86'400 + 10 * 3600 + 1800;
  ASSERT_TRUE(s->update_meter(*store_->get_meter("M1")).ok());
  ASSERT_TRUE(s->update_meter(*store_->get_meter("M1")).ok());
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].kind, protocol::CommandKind::kRelayOff);
  EXPECT_TRUE(s->prepaid_status("M1")->disconnected);

  // A payment that does not clear the debt leaves it off; one that does switches it on.
  const int64_t owed = -accounts_->balance_minor("M1").value();
  auto small = s->apply_payment(body_, payment("pay-1", "10.00", now_s_));
  ASSERT_TRUE(small.ok()) << small.error().message;
  EXPECT_EQ(sent_.size(), 1u);
  const std::string enough = std::to_string(owed / 100 + 100) + ".00";
  const std::string header = payment("pay-2", enough, now_s_);
  auto paid = s->apply_payment(body_, header);
  ASSERT_TRUE(paid.ok()) << paid.error().message;
  EXPECT_FALSE(paid->duplicate);
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_EQ(sent_[1].kind, protocol::CommandKind::kRelayOn);
  EXPECT_FALSE(s->prepaid_status("M1")->disconnected);
  const int64_t balance = accounts_->balance_minor("M1").value();
  EXPECT_GT(balance, 0);

  // The provider retries the same call: acknowledged, nothing changes.
  auto again = s->apply_payment(body_, header);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(accounts_->balance_minor("M1").value(), balance);
  // A forged signature, a replay after the tolerance, a bad amount: refused, the ledger untouched.
  const size_t entries = accounts_->ledger("M1").value().size();
  payment("pay-3", "100.00", now_s_);
  EXPECT_EQ(s->apply_payment(body_, sign_payment(body_, "not-the-secret-at-all", now_s_)).error().code,
            ErrorCode::kPermissionDenied);
  const std::string old = payment("pay-3", "100.00", now_s_ - 3600);
  EXPECT_EQ(s->apply_payment(body_, old).error().reason, "stale");
  const std::string negative = payment("pay-4", "-5.00", now_s_);
  EXPECT_EQ(s->apply_payment(body_, negative).error().field, "amount");
  EXPECT_EQ(accounts_->ledger("M1").value().size(), entries);
}

TEST_F(PrepaidTest, AProtectedSupplyIsNeverDisconnected) {
  auto s = service();
  now_s_ = cycle_start_ + 8 * 86'400 + 11 * 3600;  // Monday 11:00
  AccountSettings settings;
  settings.meter = "M1";
  settings.prepaid = true;
  settings.protected_supply = true;
  ASSERT_TRUE(s->save_settings(settings).ok());
  feed("M1", 0, 700, 250.0);
  ASSERT_TRUE(s->update_meter(*store_->get_meter("M1")).ok());
  EXPECT_LT(accounts_->balance_minor("M1").value(), 0);
  EXPECT_TRUE(sent_.empty());
  // The consumer was told they are on emergency credit.
  bool told = false;
  const auto notices = accounts_->notices("M1");
  ASSERT_TRUE(notices.ok());
  for (const Notice& n : notices.value()) told = told || n.kind == "emergency_credit";
  EXPECT_TRUE(told);
}

}  // namespace
}  // namespace wattguard::accounts

namespace wattguard::accounts {
namespace {

TEST(MoneyText, GroupsThousandsForTheReader) {
  billing::Tariff inr;
  inr.currency = "INR";
  inr.minor_digits = 2;
  EXPECT_EQ(money_text(121'240, inr), "INR 1,212.40");
  EXPECT_EQ(money_text(18'545'845, inr), "INR 185,458.45");
  EXPECT_EQ(money_text(99, inr), "INR 0.99");
  EXPECT_EQ(money_text(-123'456, inr), "INR -1,234.56");
  billing::Tariff jpy;
  jpy.currency = "JPY";
  jpy.minor_digits = 0;
  EXPECT_EQ(money_text(1'234'567, jpy), "JPY 1,234,567");
}

}  // namespace
}  // namespace wattguard::accounts
