// Bill -> one JSON line, numbers written as exact decimal text.
#include "wattguard/billing/bill_json.h"

#include <nlohmann/json.hpp>

#include "wattguard/billing/decimal.h"

namespace wattguard::billing {
namespace {

// A JSON string; invalid UTF-8 (a meter id is whatever the file held) is replaced rather than thrown on.
std::string quoted(const std::string& text) {
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string kwh(int64_t uwh) { return format_scaled_decimal(uwh, kEnergyDecimals, 3); }

}  // namespace

std::string bill_to_json(const Bill& bill) {
  const int digits = bill.tariff.minor_digits;
  const auto money = [digits](int64_t minor) { return format_scaled_decimal(minor, digits, digits); };
  std::string out = "{\"meter\":" + quoted(bill.meter) + ",\"tariff\":" + quoted(bill.tariff.id) +
                    ",\"cycle\":" + quoted(bill.cycle.label()) + ",\"currency\":" + quoted(bill.tariff.currency) +
                    ",\"kwh\":" + kwh(bill.energy_uwh) + ",\"energy_charge\":" + money(bill.energy_charge_minor) +
                    ",\"fixed_charge\":" + money(bill.fixed_charge_minor) + ",\"tax\":" + money(bill.tax_minor) +
                    ",\"total\":" + money(bill.total_minor) + ",\"lines\":[";
  for (size_t i = 0; i < bill.lines.size(); ++i) {
    const BillLine& line = bill.lines[i];
    if (i > 0) out += ",";
    out += "{\"from_kwh\":" + kwh(line.from_uwh) + ",\"to_kwh\":" + (line.to_uwh ? kwh(*line.to_uwh) : "null") +
           ",\"kwh\":" + kwh(line.energy_uwh) + ",\"rate\":" +
           format_scaled_decimal(line.rate_e8, digits + kRateDecimalsBeyondMinor + kFactorDecimals, digits) +
           ",\"amount\":" + money(line.amount_minor) + "}";
  }
  return out + "]}\n";
}

}  // namespace wattguard::billing
