// Checks of the billing and prepaid settings.
#include "wattguard/accounts/accounts_config.h"

#include "wattguard/billing/decimal.h"

namespace wattguard::accounts {

Expected<void> validate_billing_config(const BillingConfig& b, const PrepaidConfig& p) {
  const auto tariff_known = [&b](const std::string& id) { return b.tariffs.has(id); };
  if (!b.default_tariff.empty() && !tariff_known(b.default_tariff)) {
    return Error::invalid("billing.default_tariff", "\"" + b.default_tariff + "\"",
                          "billing.default_tariff names no [[tariff]]");
  }
  for (size_t i = 0; i < b.areas.size(); ++i) {
    const std::string key = "billing.areas[" + std::to_string(i) + "]";
    if (b.areas[i].area.empty()) return Error::invalid(key + ".area", "\"\"", key + ".area must not be empty");
    if (!tariff_known(b.areas[i].tariff)) {
      return Error::invalid(key + ".tariff", "\"" + b.areas[i].tariff + "\"", key + ".tariff names no [[tariff]]");
    }
  }
  if (b.slab_warning_days < 1 || b.slab_warning_days > 31) {
    return Error::invalid("billing.slab_warning_days", std::to_string(b.slab_warning_days),
                          "billing.slab_warning_days must be between 1 and 31");
  }
  if (b.update_interval_s < 1 || b.update_interval_s > 86'400) {
    return Error::invalid("billing.update_interval_s", std::to_string(b.update_interval_s),
                          "billing.update_interval_s must be between 1 and 86400");
  }
  for (const auto& [key, text] :
       {std::pair{"prepaid.low_credit", &p.low_credit}, std::pair{"prepaid.emergency_credit", &p.emergency_credit}}) {
    // The currency's digits are checked per meter; here only that it is a non-negative decimal.
    auto value = billing::parse_scaled_decimal(*text, 6);
    if (!value.ok() || value.value() < 0) {
      return Error::invalid(key, "\"" + *text + "\"", std::string(key) + " must be a non-negative decimal");
    }
  }
  if (p.allowed_from_minute < 0 || p.allowed_to_minute > 1440 || p.allowed_from_minute >= p.allowed_to_minute) {
    return Error::invalid("prepaid.disconnect_hours", "",
                          "prepaid.disconnect_hours must be \"HH:MM-HH:MM\" within one day, start before end");
  }
  if (p.payment_tolerance_s < 1 || p.payment_tolerance_s > 3600) {
    return Error::invalid("prepaid.payment_tolerance_s", std::to_string(p.payment_tolerance_s),
                          "prepaid.payment_tolerance_s must be between 1 and 3600");
  }
  if (!p.payment_secret.empty() && !p.payment_secret_file.empty()) {
    return Error::invalid("prepaid.payment_secret_file", "",
                          "prepaid.payment_secret and prepaid.payment_secret_file are both set; keep one");
  }
  if (!p.payment_secret.empty() && p.payment_secret.size() < 16) {
    return Error::invalid("prepaid.payment_secret", "(hidden)",
                          "prepaid.payment_secret must be at least 16 characters");
  }
  return {};
}

}  // namespace wattguard::accounts
