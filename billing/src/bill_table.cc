// Bill -> a readable table.
#include "wattguard/billing/bill_table.h"

#include <chrono>
#include <cstdio>

#include "wattguard/base/floor_division.h"
#include "wattguard/billing/decimal.h"

namespace wattguard::billing {
namespace {

constexpr int64_t kSecondsPerDay = 86'400;

// "2024-03-15" or, with the time, "2024-03-15 10:00", in the tariff's offset.
std::string local_text(int64_t instant_s, int32_t utc_offset_s, bool with_time) {
  const int64_t local = instant_s + utc_offset_s;
  const std::chrono::year_month_day date{std::chrono::sys_days{std::chrono::days{floor_div(local, kSecondsPerDay)}}};
  const int64_t second_of_day = floor_mod(local, kSecondsPerDay);
  char text[40];
  if (with_time) {
    std::snprintf(text, sizeof text, "%04d-%02u-%02u %02d:%02d", static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                  static_cast<int>(second_of_day / 3600), static_cast<int>(second_of_day / 60 % 60));
  } else {
    std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  }
  return text;
}

// The windows whose factor a line carries, e.g. "22:00-06:00 x0.8"; empty for factor one.
std::string tod_text(const Tariff& tariff, int64_t factor) {
  if (factor == kFactorOne) return "";
  std::string windows;
  for (const TodWindow& w : tariff.tod) {
    if (w.factor != factor) continue;
    windows += (windows.empty() ? "" : ",") + w.label();
  }
  return windows + " x" + format_scaled_decimal(factor, kFactorDecimals, 0);
}

std::string kwh(int64_t uwh) { return format_scaled_decimal(uwh, kEnergyDecimals, 3); }

std::string row(const std::string& label, const std::string& tod, const std::string& energy, const std::string& rate,
                const std::string& amount) {
  char text[256];
  std::snprintf(text, sizeof text, "  %-18s %-22s %12s %10s %12s\n", label.c_str(), tod.c_str(), energy.c_str(),
                rate.c_str(), amount.c_str());
  return text;
}

}  // namespace

std::string bill_to_table(const Bill& bill) {
  const Tariff& t = bill.tariff;
  const int digits = t.minor_digits;
  const auto money = [digits](int64_t minor) { return format_scaled_decimal(minor, digits, digits); };
  std::string out = "meter " + bill.meter + "  cycle " + bill.cycle.label() + " (" +
                    local_text(bill.cycle.start_s, t.utc_offset_s, false) + " to " +
                    local_text(bill.cycle.end_s - 1, t.utc_offset_s, false) + ", " + format_utc_offset(t.utc_offset_s) +
                    ")  tariff " + t.version_name() + " (" + std::string(slab_mode_name(t.slab_mode)) + ", " +
                    t.currency + ")\n";
  out += row("slab (kWh)", "ToD", "kWh", "rate", "amount");
  for (const BillLine& line : bill.lines) {
    const auto bound = [](int64_t uwh) { return format_scaled_decimal(uwh, kEnergyDecimals, 0); };
    const std::string slab = bound(line.from_uwh) + " - " + (line.to_uwh ? bound(*line.to_uwh) : std::string());
    out += row(slab, tod_text(t, line.factor), kwh(line.energy_uwh),
               format_scaled_decimal(line.rate_e8, digits + kRateDecimalsBeyondMinor + kFactorDecimals, digits),
               money(line.amount_minor));
  }
  out += row("energy charge", "", kwh(bill.energy_uwh), "", money(bill.energy_charge_minor));
  out += row("fixed charge", "", "", "", money(bill.fixed_charge_minor));
  out += row("tax " + format_scaled_decimal(t.tax_percent, kTaxDecimals, 0) + "%", "", "", "", money(bill.tax_minor));
  out += row("total", "", "", "", money(bill.total_minor) + " " + t.currency);
  if (bill.running() || bill.starts_late()) {
    out += "  partial cycle";
    out += bill.running() ? " (running bill)" : "";
    out += ": readings cover " + local_text(bill.covered_from_s, t.utc_offset_s, true) + " to " +
           local_text(bill.covered_to_s, t.utc_offset_s, true) + "\n";
  }
  if (bill.missing_intervals > 0 || bill.estimated_intervals > 0) {
    out += "  " + std::to_string(bill.missing_intervals) + " intervals missing (no energy known), " +
           std::to_string(bill.estimated_intervals) + " estimated from the register\n";
  }
  return out;
}

}  // namespace wattguard::billing
