// Usage notices. The messages are short enough for one SMS and say the kWh, the money and what to do.
#include "wattguard/accounts/consumer_notices.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string_view>

#include "wattguard/billing/decimal.h"

namespace wattguard::accounts {
namespace {

constexpr int kBudgetSteps[] = {50, 80, 100};

// A slab's rate per kWh in major units, with the digits it needs ("10.29").
std::string rate_text(int64_t rate, const billing::Tariff& tariff) {
  return tariff.currency + " " +
         billing::format_scaled_decimal(rate, tariff.minor_digits + billing::kRateDecimalsBeyondMinor,
                                        tariff.minor_digits);
}

std::string bound_text(int64_t uwh) { return billing::format_scaled_decimal(uwh, billing::kEnergyDecimals, 0); }

}  // namespace

size_t current_slab(const billing::Tariff& tariff, int64_t energy_uwh) {
  for (size_t i = 0; i < tariff.slabs.size(); ++i) {
    if (!tariff.slabs[i].upto_uwh || energy_uwh < *tariff.slabs[i].upto_uwh) return i;
  }
  return tariff.slabs.size() - 1;
}

bool is_notice_kind(const std::string& kind) {
  return std::any_of(std::begin(kOptionalNoticeKinds), std::end(kOptionalNoticeKinds),
                     [&](const char* k) { return kind == k; });
}

std::string money_text(int64_t minor, const billing::Tariff& tariff) {
  const std::string plain = billing::format_scaled_decimal(minor, tariff.minor_digits, tariff.minor_digits);
  // Thousands grouped ("1,212.40"): a consumer reads a bill's figure at a glance.
  const size_t sign = plain[0] == '-' ? 1 : 0;
  const size_t point = std::min(plain.find('.'), plain.size());
  std::string grouped = plain.substr(0, sign);
  for (size_t i = sign; i < point; ++i) {
    if (i > sign && (point - i) % 3 == 0) grouped += ',';
    grouped += plain[i];
  }
  return tariff.currency + " " + grouped + plain.substr(point);
}

std::string kwh_text(int64_t uwh) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", static_cast<double>(uwh) / static_cast<double>(billing::kUwhPerKwh));
  return text;
}

std::vector<Notice> usage_notices(const UsageNoticeInput& in, int64_t now_ms) {
  std::vector<Notice> out;
  const billing::Bill& bill = *in.running;
  const billing::Tariff& tariff = bill.tariff;
  const auto notice = [&](std::string kind, std::string threshold, std::string text) {
    out.push_back({0, bill.meter, bill.cycle.label(), std::move(kind), std::move(threshold), std::move(text), now_ms});
  };
  const std::string used = kwh_text(bill.energy_uwh) + " kWh";
  const std::string so_far = money_text(bill.total_minor, tariff);

  const size_t slab = current_slab(tariff, bill.energy_uwh);
  if (slab > 0) {
    const int64_t bound = *tariff.slabs[slab - 1].upto_uwh;
    notice("slab_crossed", bound_text(bound),
           "Meter " + bill.meter + ": this cycle's use passed " + bound_text(bound) + " kWh (now " + used +
               ", bill so far " + so_far + "). Each further kWh costs " + rate_text(tariff.slabs[slab].rate, tariff) +
               ". Shift or cut heavy loads to save.");
  }
  const auto& here = tariff.slabs[slab];
  if (here.upto_uwh && in.projected_uwh && *in.projected_uwh > 0) {
    const int64_t remaining = *here.upto_uwh - bill.energy_uwh;
    if (*in.projected_uwh >= remaining) {
      const double per_day = static_cast<double>(*in.projected_uwh) / std::max(1, in.warning_days);
      const int days = std::max(1, static_cast<int>(std::ceil(static_cast<double>(remaining) / per_day)));
      notice("slab_soon", bound_text(*here.upto_uwh),
             "Meter " + bill.meter + ": " + used + " of " + bound_text(*here.upto_uwh) +
                 " kWh used. At your usual pace you pass it in about " + std::to_string(days) +
                 (days == 1 ? " day" : " days") + "; then each kWh costs " +
                 rate_text(tariff.slabs[slab + 1].rate, tariff) + " instead of " + rate_text(here.rate, tariff) +
                 ". Cut use to stay below.");
    }
  }
  const auto budget = [&](const char* unit, int64_t spent, int64_t limit, const std::string& limit_text) {
    if (limit <= 0) return;
    int reached = 0;
    for (int step : kBudgetSteps) {
      if (static_cast<__int128>(spent) * 100 >= static_cast<__int128>(limit) * step) reached = step;
    }
    if (reached == 0) return;
    notice("budget", std::string(unit) + ":" + std::to_string(reached),
           "Meter " + bill.meter + ": " + std::to_string(reached) + " % of your budget of " + limit_text +
               " reached (" + used + ", " + so_far + " so far this cycle)." +
               (reached >= 100 ? " You are over budget." : " Ease off to stay within it."));
  };
  if (in.budget_uwh) budget("kwh", bill.energy_uwh, *in.budget_uwh, bound_text(*in.budget_uwh) + " kWh");
  if (in.budget_minor) budget("money", bill.total_minor, *in.budget_minor, money_text(*in.budget_minor, tariff));
  return out;
}

}  // namespace wattguard::accounts
