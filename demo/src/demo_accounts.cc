// The demo's tariff and prepaid meter.
#include "wattguard/demo/demo_accounts.h"

#include "wattguard/billing/tariff_toml.h"

namespace wattguard::demo {
namespace {

constexpr const char* kDemoTariff = R"toml(
[[tariff]]
id = "domestic"
currency = "INR"
cycle = "monthly"
time_zone = "+05:30"
slab_mode = "telescopic"
slabs = [ { upto_kwh = 100, rate = 4.71 }, { upto_kwh = 300, rate = 10.29 },
          { upto_kwh = 500, rate = 14.55 }, { rate = 16.64 } ]
fixed_charge = 120.0
tax_percent = 16.0
tod = [ { from = "22:00", to = "06:00", factor = 0.8 } ]
)toml";

// Enough for the fixed charge and a few days of a virtual meter's use.
constexpr const char* kOpeningCredit = "1000.00";

}  // namespace

Expected<void> add_demo_tariff(serve::ServerConfig& config) {
  if (config.billing.enabled()) return {};
  auto book = billing::parse_tariffs(kDemoTariff, "demo tariff");
  if (!book.ok()) return std::move(book).error();
  config.billing.tariffs = std::move(book).value();
  // A demo is watched, not left running for a month: bills and notices follow within seconds.
  config.billing.update_interval_s = 10;
  return {};
}

Expected<void> open_demo_accounts(serve::Server& server, const std::vector<std::string>& meters) {
  if (meters.empty() || !server.accounts().enabled()) return {};
  const std::string& id = meters.back();
  auto& service = server.accounts();
  auto status = service.prepaid_status(id);
  if (!status.ok()) return std::move(status).error();
  accounts::AccountSettings settings;
  settings.meter = id;
  settings.prepaid = true;
  auto saved = service.save_settings(settings);
  if (!saved.ok()) return std::move(saved).error();
  if (status->balance_minor != 0) return {};
  auto topped = service.top_up(id, kOpeningCredit, "demo opening credit", "demo");
  if (!topped.ok()) return std::move(topped).error();
  return {};
}

}  // namespace wattguard::demo
