// A bill's JSON line: the keys the issue names, money with exactly the currency's decimals, no doubles.
#include "wattguard/billing/bill_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "wattguard/billing/bill_table.h"
#include "wattguard/billing/tariff_toml.h"

namespace wattguard::billing {
namespace {

const std::string kTariff = R"([[tariff]]
id = "domestic"
currency = "INR"
cycle = "monthly"
time_zone = "+05:30"
slab_mode = "telescopic"
slabs = [ { upto_kwh = 100, rate = 4.71 }, { upto_kwh = 300, rate = 10.29 }, { rate = 16.64 } ]
fixed_charge = 120.0
tax_percent = 16.0
tod = [ { from = "22:00", to = "06:00", factor = 0.8 } ]
)";

Bill bill_of(const std::string& meter_id, const std::vector<std::pair<int, int64_t>>& hours_and_kwh) {
  const TariffBook book = parse_tariffs(kTariff, "t.toml").value();
  MeterEnergy energy;
  energy.meter = meter_id;
  energy.interval_s = 3600;
  for (const auto& [hour, kwh] : hours_and_kwh) {
    energy.intervals.push_back({local_midnight_s(2024, 3, 10, 19'800) + (hour + 1) * 3600, kwh * kUwhPerKwh});
  }
  return bill_meter(book, "domestic", energy).value().front();
}

TEST(BillingJson, ABillIsOneLineWithTheIssuesKeysAndExactMoney) {
  // 100 kWh at noon (4.71), 50 kWh at 23:00 (night: 10.29 x 0.8 = 8.232). 471.00 + 411.60 = 882.60;
  // subtotal 1002.60; tax 160.416 -> 160.42; total 1163.02.
  const std::string json = bill_to_json(bill_of("M1", {{12, 100}, {23, 50}}));
  EXPECT_EQ(json,
            "{\"meter\":\"M1\",\"tariff\":\"domestic\",\"cycle\":\"2024-03\",\"currency\":\"INR\",\"kwh\":150.000,"
            "\"energy_charge\":882.60,\"fixed_charge\":120.00,\"tax\":160.42,\"total\":1163.02,\"lines\":["
            "{\"from_kwh\":0.000,\"to_kwh\":100.000,\"kwh\":100.000,\"rate\":4.71,\"amount\":471.00},"
            "{\"from_kwh\":100.000,\"to_kwh\":300.000,\"kwh\":50.000,\"rate\":8.232,\"amount\":411.60}]}\n");
  const auto parsed = nlohmann::json::parse(json);
  EXPECT_EQ(parsed.size(), 10u);
  EXPECT_EQ(parsed["lines"][0].size(), 5u);
}

TEST(BillingJson, TheLastSlabHasNoUpperBoundAndIdsAreEscaped) {
  const std::string json = bill_to_json(bill_of("M\"1\xff", {{12, 400}}));
  const auto parsed = nlohmann::json::parse(json);
  EXPECT_TRUE(parsed["lines"][2]["to_kwh"].is_null());
  EXPECT_EQ(parsed["lines"][2]["from_kwh"], 300);
  EXPECT_EQ(parsed["meter"].get<std::string>().substr(0, 3), "M\"1");
}

TEST(BillingTable, TheTableShowsTheLinesTheWindowAndTheTotal) {
  const std::string table = bill_to_table(bill_of("M1", {{12, 100}, {23, 50}}));
  EXPECT_NE(table.find("meter M1  cycle 2024-03 (2024-03-01 to 2024-03-31, +05:30)  tariff domestic"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("22:00-06:00 x0.8"), std::string::npos) << table;
  EXPECT_NE(table.find("1163.02 INR"), std::string::npos) << table;
  EXPECT_NE(table.find("running bill"), std::string::npos) << table;
}

}  // namespace
}  // namespace wattguard::billing
