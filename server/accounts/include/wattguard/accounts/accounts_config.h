// Settings of consumer accounts: which tariff bills which meter, consumer notices, and prepaid credit (the
// [[tariff]] tables and the [billing] and [prepaid] sections of the server config; docs/billing.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wattguard/base/expected.h"
#include "wattguard/billing/tariff.h"

namespace wattguard::accounts {

// [[billing.areas]]: the tariff of every meter of an area that has none of its own.
struct AreaTariff {
  std::string area;
  std::string tariff;
};

struct BillingConfig {
  billing::TariffBook tariffs;  // [[tariff]] tables of the config, or of billing.tariff_file
  std::string tariff_file;      // a separate tariff file (the `wattguard bill --tariff` schema)
  std::string default_tariff;   // for meters whose area has no tariff; "" = the only tariff, if there is one
  std::vector<AreaTariff> areas;
  int slab_warning_days = 3;  // warn when the forecast crosses the next slab within this many days
  // How often bills, prepaid charges and notices are brought up to date.
  int update_interval_s = 60;

  bool enabled() const { return !tariffs.versions.empty(); }
};

// When the server may disconnect a prepaid meter whose credit ran out. Every time is in the meter's tariff
// zone: disconnection happens only inside [allowed_from, allowed_to) on a working day that is not a holiday.
struct PrepaidConfig {
  std::string low_credit = "100";       // warn at or below this balance (major units, decimal text)
  std::string emergency_credit = "50";  // how far below zero the balance may go before disconnection
  int allowed_from_minute = 10 * 60;    // "10:00"
  int allowed_to_minute = 16 * 60;      // "16:00"
  bool weekends = false;                // may disconnect on Saturday and Sunday
  std::vector<std::string> holidays;    // "YYYY-MM-DD": no disconnection on these local dates
  std::string payment_secret;           // HMAC-SHA256 key of the payment provider's webhook; "" = webhook off
  std::string payment_secret_file;      // or read it from this file (first line)
  int payment_tolerance_s = 300;        // a webhook's timestamp may differ from the clock by this much
};

// Range and cross-field checks; the Error's field is the key ("billing.areas[1].tariff").
Expected<void> validate_billing_config(const BillingConfig& billing, const PrepaidConfig& prepaid);

}  // namespace wattguard::accounts
