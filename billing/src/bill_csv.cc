// Bill -> CSV rows.
#include "wattguard/billing/bill_csv.h"

#include "wattguard/billing/decimal.h"

namespace wattguard::billing {
namespace {

std::string field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char ch : text) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}

std::string kwh(int64_t uwh) { return format_scaled_decimal(uwh, kEnergyDecimals, 3); }

}  // namespace

std::string bill_to_csv(const Bill& bill) {
  const int digits = bill.tariff.minor_digits;
  const auto money = [digits](int64_t minor) { return format_scaled_decimal(minor, digits, digits); };
  const std::string head =
      field(bill.meter) + "," + bill.cycle.label() + "," + field(bill.tariff.id) + "," + bill.tariff.currency + ",";
  std::string out = "meter,cycle,tariff,currency,item,from_kwh,to_kwh,kwh,rate,amount\r\n";
  for (const BillLine& line : bill.lines) {
    out += head + "energy," + kwh(line.from_uwh) + "," + (line.to_uwh ? kwh(*line.to_uwh) : "") + "," +
           kwh(line.energy_uwh) + "," +
           format_scaled_decimal(line.rate_e8, digits + kRateDecimalsBeyondMinor + kFactorDecimals, digits) + "," +
           money(line.amount_minor) + "\r\n";
  }
  out += head + "fixed_charge,,,,," + money(bill.fixed_charge_minor) + "\r\n";
  out += head + "tax,,,,," + money(bill.tax_minor) + "\r\n";
  out += head + "total,,," + kwh(bill.energy_uwh) + ",," + money(bill.total_minor) + "\r\n";
  return out;
}

}  // namespace wattguard::billing
