// Tariff choice, running and closed bills, settings and the update thread. Prepaid credit is in
// prepaid_credit.cc.
#include "wattguard/accounts/account_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <exception>

#include "wattguard/accounts/consumer_notices.h"
#include "wattguard/accounts/stored_energy.h"
#include "wattguard/accounts/use_forecast.h"
#include "wattguard/billing/bill_csv.h"
#include "wattguard/billing/bill_json.h"
#include "wattguard/billing/decimal.h"

namespace wattguard::accounts {
namespace {

constexpr int64_t kDayS = 86'400;
// A cycle's bill is issued this long after its end, so readings a meter sends late (after an outage, from its
// journal) are still on it.
constexpr int64_t kCloseGraceS = 3600;
// The fallback projection's look-back: a week holds every weekday once.
constexpr int64_t kProjectionDays = 7;
// A meter's forecast is reused this long: it reads eight weeks of rollups, and five minutes change little.
constexpr int64_t kForecastReuseS = 300;

int64_t now_s(const Clock& clock) { return clock() / 1000; }

// The last bill line: the cycle's energy spread evenly over the intervals from `from_s` to the cycle's end,
// so a projected bill sees the ToD windows in proportion to their hours.
void add_projection(billing::MeterEnergy& energy, int64_t from_s, int64_t to_s, int64_t uwh) {
  const int64_t first_end = (from_s / kBillingIntervalS + 1) * kBillingIntervalS;
  const int64_t count = to_s > first_end ? (to_s - first_end) / kBillingIntervalS + 1 : 1;
  int64_t left = uwh;
  for (int64_t k = 0; k < count; ++k) {
    const int64_t share = left / (count - k);
    left -= share;
    energy.intervals.push_back({first_end + k * kBillingIntervalS, share, billing::IntervalQuality::kEstimated});
  }
}

bool wants_usage_notices(const AccountSettings& s) {
  return s.prepaid || !s.phone.empty() || !s.webhook_url.empty() || !s.budget_kwh.empty() || !s.budget_money.empty();
}

}  // namespace

AccountService::AccountService(AccountServiceDeps deps) : deps_(std::move(deps)) {
  if (!deps_.now_ms) deps_.now_ms = or_system_clock(nullptr);
}

AccountService::~AccountService() { stop(); }

void AccountService::start() {
  if (thread_.joinable() || !enabled()) return;
  thread_ = std::thread([this] { loop(); });
}

void AccountService::stop() {
  {
    std::lock_guard lock(thread_mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AccountService::loop() {
  std::unique_lock lock(thread_mutex_);
  while (!stopping_) {
    lock.unlock();
    try {
      update_all();
    } catch (const std::exception& e) {
      // A thread edge: a bug in one pass must not end billing for good.
      spdlog::error("billing: update pass failed: {}", e.what());
    }
    lock.lock();
    cv_.wait_for(lock, std::chrono::seconds(deps_.billing.update_interval_s), [this] { return stopping_; });
  }
}

Expected<std::string> AccountService::tariff_of(const storage::MeterInfo& meter,
                                                const AccountSettings& settings) const {
  const BillingConfig& c = deps_.billing;
  if (!settings.tariff.empty()) return settings.tariff;
  for (const AreaTariff& a : c.areas) {
    if (a.area == meter.area) return a.tariff;
  }
  if (!c.default_tariff.empty()) return c.default_tariff;
  const auto ids = c.tariffs.ids();
  if (ids.size() == 1) return ids.front();
  return Error::not_found("meter " + meter.id + " has no tariff: set one for it, its area (" +
                          (meter.area.empty() ? "none" : meter.area) + ") or billing.default_tariff");
}

Expected<const billing::Tariff*> AccountService::version_for(const storage::MeterInfo& meter,
                                                             const AccountSettings& settings, int64_t instant_s) const {
  auto id = tariff_of(meter, settings);
  if (!id.ok()) return std::move(id).error();
  const billing::Tariff* version = deps_.billing.tariffs.in_force(id.value(), instant_s);
  if (version == nullptr) {
    // The first version starts later: the cycle is billed by it (as `wattguard bill` can't, the server must
    // show something for a meter installed before its tariff was written down).
    for (const billing::Tariff& t : deps_.billing.tariffs.versions) {
      if (t.id == id.value()) return &t;
    }
    return Error::not_found("tariff '" + id.value() + "' of meter " + meter.id + " is not configured");
  }
  return version;
}

Expected<billing::Bill> AccountService::compute(const storage::MeterInfo& meter, const billing::Tariff& tariff,
                                                const billing::Cycle& cycle, int64_t until_s) {
  auto energy = stored_energy(*deps_.store, meter.id, cycle.start_s, std::min(until_s, cycle.end_s));
  if (!energy.ok()) return std::move(energy).error();
  return billing::compute_bill(tariff, cycle, energy.value());
}

std::optional<Quantiles> AccountService::mean_use(const std::string& meter, int64_t from_s, int64_t to_s) {
  const int64_t since = from_s - kProjectionDays * kDayS;
  auto energy = stored_energy(*deps_.store, meter, since, from_s);
  if (!energy.ok() || energy->intervals.empty()) return std::nullopt;
  const int64_t span = from_s - std::max(since, energy->intervals.front().end_s - kBillingIntervalS);
  if (span < kDayS) return std::nullopt;  // too little history to say what "usual" is
  __int128 total = 0;
  for (const auto& i : energy->intervals) total += i.energy_uwh;
  const auto mean = static_cast<int64_t>(total * (to_s - from_s) / span);
  return Quantiles{mean, mean, mean};
}

std::optional<AccountService::RestOfCycle> AccountService::rest_of_cycle(const std::string& meter,
                                                                         const billing::Tariff& tariff,
                                                                         const billing::Cycle& cycle, int64_t now) {
  {
    std::lock_guard lock(cache_mutex_);
    const auto it = rest_cache_.find(meter);
    if (it != rest_cache_.end() && it->second.cycle == cycle.label() && now >= it->second.computed_s &&
        now - it->second.computed_s < kForecastReuseS) {
      return it->second.rest;
    }
  }
  // Every local midnight still to come in the cycle; the cycle's end is the last.
  std::vector<int64_t> ends;
  const int64_t offset = tariff.utc_offset_s;
  for (int64_t day_end = ((now + offset) / kDayS + 1) * kDayS - offset; day_end <= cycle.end_s; day_end += kDayS) {
    ends.push_back(day_end);
  }
  if (ends.empty() || ends.back() != cycle.end_s) ends.push_back(cycle.end_s);
  RestOfCycle rest;
  if (deps_.projection) {
    for (int64_t end : ends) {
      const auto part = deps_.projection(meter, now, end);
      if (!part) return std::nullopt;
      rest.by_end.emplace_back(end, *part);
    }
    rest.banded = rest.by_end.back().second.p10 != rest.by_end.back().second.p90;
  } else if (auto forecast = forecast_use(*deps_.store, meter, now, ends, tariff.utc_offset_s); forecast.ok()) {
    const auto uwh = [](double kwh) { return static_cast<int64_t>(std::llround(kwh * 1e9)); };
    for (size_t i = 0; i < ends.size(); ++i) {
      const auto& q = forecast.value()[i];
      rest.by_end.emplace_back(ends[i], Quantiles{uwh(q.p10), uwh(q.p50), uwh(q.p90)});
    }
    rest.banded = true;
  } else {
    // Too little history for the forecast (it needs two weeks): the plain average of what there is.
    for (int64_t end : ends) {
      const auto part = mean_use(meter, now, end);
      if (!part) return std::nullopt;
      rest.by_end.emplace_back(end, *part);
    }
  }
  std::lock_guard lock(cache_mutex_);
  rest_cache_[meter] = {now, cycle.label(), rest};
  return rest;
}

std::optional<CycleStatus::Projection> AccountService::project(const std::string& meter, const billing::Tariff& tariff,
                                                               const billing::Cycle& cycle,
                                                               const billing::MeterEnergy& energy, int64_t used_uwh,
                                                               int64_t now) {
  const auto rest = rest_of_cycle(meter, tariff, cycle, now);
  if (!rest) return std::nullopt;
  const Quantiles& total = rest->by_end.back().second;
  CycleStatus::Projection p;
  p.banded = rest->banded;
  p.end_uwh = {used_uwh + total.p10, used_uwh + total.p50, used_uwh + total.p90};
  const auto bill_of = [&](int64_t more) -> int64_t {
    billing::MeterEnergy e = energy;
    add_projection(e, now, cycle.end_s, more);
    auto b = billing::compute_bill(tariff, cycle, e);
    return b.ok() ? b->total_minor : 0;
  };
  p.end_minor = {bill_of(total.p10), bill_of(total.p50), bill_of(total.p90)};
  for (const auto& [end, q] : rest->by_end) {
    p.daily.emplace_back(end, Quantiles{used_uwh + q.p10, used_uwh + q.p50, used_uwh + q.p90});
  }
  return p;
}

Expected<AccountService::Account> AccountService::account(const std::string& meter_id) {
  auto meter = deps_.store->get_meter(meter_id);
  if (!meter.ok()) return std::move(meter).error();
  auto settings = deps_.accounts->settings(meter_id);
  if (!settings.ok()) return std::move(settings).error();
  auto current = version_for(meter.value(), settings.value(), now_s(deps_.now_ms));
  if (!current.ok()) return std::move(current).error();
  return Account{std::move(meter).value(), std::move(settings).value(), current.value()};
}

Expected<CycleStatus> AccountService::cycle_status(const std::string& meter_id, bool with_projection) {
  auto acc = account(meter_id);
  if (!acc.ok()) return std::move(acc).error();
  const int64_t now = now_s(deps_.now_ms);
  const billing::Cycle cycle = billing::cycle_containing(now, acc->tariff->cycle, acc->tariff->utc_offset_s);
  auto at_start = version_for(acc->meter, acc->settings, cycle.start_s);
  if (!at_start.ok()) return std::move(at_start).error();
  const billing::Tariff& tariff = *at_start.value();

  auto energy = stored_energy(*deps_.store, meter_id, cycle.start_s, now);
  if (!energy.ok()) return std::move(energy).error();
  auto running = billing::compute_bill(tariff, cycle, energy.value());
  if (!running.ok()) return std::move(running).error();

  CycleStatus status;
  status.running = std::move(running).value();
  status.settings = acc->settings;
  const int64_t used = status.running.energy_uwh;
  const size_t i = current_slab(tariff, used);
  const auto& slab = tariff.slabs[i];
  status.slab = {i, i == 0 ? 0 : *tariff.slabs[i - 1].upto_uwh, slab.upto_uwh, slab.rate, std::nullopt};
  if (i + 1 < tariff.slabs.size()) status.slab.next_rate = tariff.slabs[i + 1].rate;
  {
    // Cumulative use at each local midnight of the cycle so far, then now.
    int64_t sum = 0;
    int64_t day_end = cycle.start_s + kDayS;
    for (const auto& interval : energy->intervals) {
      while (interval.end_s > day_end && day_end < now) {
        status.used.emplace_back(day_end, sum);
        day_end += kDayS;
      }
      sum += interval.energy_uwh;
    }
    while (day_end < now) {
      status.used.emplace_back(day_end, sum);
      day_end += kDayS;
    }
    status.used.emplace_back(now, sum);
  }
  if (with_projection) status.projection = project(meter_id, tariff, cycle, energy.value(), used, now);
  if (status.settings.prepaid) {
    auto prepaid = prepaid_status(meter_id);
    if (!prepaid.ok()) return std::move(prepaid).error();
    status.prepaid = std::move(prepaid).value();
  }
  return status;
}

Expected<BillDocument> AccountService::bill(const std::string& meter_id, const std::string& month) {
  auto acc = account(meter_id);
  if (!acc.ok()) return std::move(acc).error();
  const storage::MeterInfo& meter = acc->meter;
  const AccountSettings& settings = acc->settings;
  const int64_t now = now_s(deps_.now_ms);
  auto cycle = billing::cycle_of_month(month, acc->tariff->cycle, acc->tariff->utc_offset_s);
  if (!cycle.ok()) return Error::invalid("cycle", month, cycle.error().message);
  if (cycle->start_s > now) return Error::invalid("cycle", month, "the cycle has not started yet");
  if (now >= cycle->end_s + kCloseGraceS) {
    std::unique_lock lock(update_mutex_);
    if (auto closed = close_cycle(meter, settings, cycle.value()); !closed.ok()) {
      return std::move(closed).error();
    }
    lock.unlock();
    auto stored = deps_.accounts->bill(meter_id, cycle->label());
    if (!stored.ok()) return std::move(stored).error();
    if (!stored->has_value()) return Error::not_found("meter " + meter_id + " has no readings in " + month);
    return BillDocument{(*stored)->json, (*stored)->csv, true, (*stored)->tariff_version};
  }
  auto tariff = version_for(meter, settings, cycle->start_s);
  if (!tariff.ok()) return std::move(tariff).error();
  auto running = compute(meter, *tariff.value(), cycle.value(), now);
  if (!running.ok()) return std::move(running).error();
  return BillDocument{billing::bill_to_json(running.value()), billing::bill_to_csv(running.value()), false,
                      running->tariff.version_name()};
}

Expected<std::vector<StoredBill>> AccountService::bills(const std::string& meter_id) {
  if (!deps_.store->has_meter(meter_id)) return Error::not_found("no meter '" + meter_id + "'");
  return deps_.accounts->bills(meter_id);
}

Expected<void> AccountService::close_cycle(const storage::MeterInfo& meter, const AccountSettings& settings,
                                           const billing::Cycle& cycle) {
  auto stored = deps_.accounts->bill(meter.id, cycle.label());
  if (!stored.ok()) return std::move(stored).error();
  if (stored->has_value()) return {};
  auto tariff = version_for(meter, settings, cycle.start_s);
  if (!tariff.ok()) return std::move(tariff).error();
  auto bill = compute(meter, *tariff.value(), cycle, cycle.end_s);
  if (!bill.ok()) return std::move(bill).error();
  if (bill->measured_intervals + bill->estimated_intervals == 0) return {};  // the meter had no readings then
  std::string json = billing::bill_to_json(bill.value());
  if (!json.empty() && json.back() == '\n') json.pop_back();
  StoredBill record{meter.id,          cycle.label(),   bill->tariff.version_name(),        bill->tariff.currency,
                    bill->total_minor, std::move(json), billing::bill_to_csv(bill.value()), deps_.now_ms()};
  if (auto added = deps_.accounts->add_bill(record); !added.ok()) {
    // Another pass (an API call and the update thread) stored it first: the first bill stays.
    if (added.error().code == ErrorCode::kAlreadyExists) return {};
    return std::move(added).error();
  }
  spdlog::info("billing: issued {} {} ({}): {}", meter.id, cycle.label(), record.tariff_version,
               money_text(bill->total_minor, bill->tariff));
  if (settings.prepaid) {
    if (auto charged = charge_prepaid(meter, bill.value(), true); !charged.ok()) return charged;
  }
  add_notice(meter, settings,
             {0, meter.id, cycle.label(), "bill_ready", "",
              "Meter " + meter.id + ": your bill for " + cycle.label() + " is ready: " + kwh_text(bill->energy_uwh) +
                  " kWh, " + money_text(bill->total_minor, bill->tariff) + ". See it on your wattguard page.",
              deps_.now_ms()});
  return {};
}

Expected<AccountSettings> AccountService::save_settings(AccountSettings s) {
  auto meter = deps_.store->get_meter(s.meter);
  if (!meter.ok()) return std::move(meter).error();
  if (!s.tariff.empty() && !deps_.billing.tariffs.has(s.tariff)) {
    return Error::invalid("tariff", s.tariff, "no such tariff (see GET /api/v1/tariffs)");
  }
  for (const auto& kind : s.opt_out) {
    if (!is_notice_kind(kind)) {
      return Error::invalid("opt_out", kind,
                            "not a notice kind one may opt out of (slab_soon, slab_crossed, "
                            "budget, bill_ready)");
    }
  }
  if (!s.budget_kwh.empty()) {
    auto kwh = billing::parse_scaled_decimal(s.budget_kwh, billing::kEnergyDecimals);
    if (!kwh.ok() || kwh.value() <= 0) return Error::invalid("budget_kwh", s.budget_kwh, "must be a positive number");
  }
  const bool has_money_budget = !s.budget_money.empty();
  if (has_money_budget) {
    auto tariff = version_for(meter.value(), s, now_s(deps_.now_ms));
    if (!tariff.ok()) return std::move(tariff).error();
    auto money = money_minor(s.budget_money, *tariff.value(), "budget_money");
    if (!money.ok()) return std::move(money).error();
  }
  if (!s.webhook_url.empty() && s.webhook_url.rfind("https://", 0) != 0 && s.webhook_url.rfind("http://", 0) != 0) {
    return Error::invalid("webhook_url", s.webhook_url, "must be an http:// or https:// URL");
  }
  for (char ch : s.phone) {
    if (!(ch == '+' || (ch >= '0' && ch <= '9')) || s.phone.size() > 20) {
      return Error::invalid("phone", s.phone, "must be digits with an optional leading + (E.164)");
    }
  }
  s.updated_ms = deps_.now_ms();
  if (auto saved = deps_.accounts->save_settings(s); !saved.ok()) return std::move(saved).error();
  return s;
}

Expected<int64_t> AccountService::money_minor(const std::string& text, const billing::Tariff& tariff,
                                              const char* field) const {
  auto minor = billing::parse_scaled_decimal(text, tariff.minor_digits);
  if (!minor.ok()) return Error::invalid(field, text, minor.error().message);
  if (minor.value() < 0) return Error::invalid(field, text, "must not be negative");
  return minor.value();
}

void AccountService::add_notice(const storage::MeterInfo& meter, const AccountSettings& settings, Notice notice) {
  if (settings.opt_out.count(notice.kind) != 0) return;
  std::vector<std::pair<std::string, std::string>> deliveries;
  if (!settings.phone.empty()) deliveries.emplace_back("sms", settings.phone);
  if (!settings.webhook_url.empty()) deliveries.emplace_back("webhook", settings.webhook_url);
  auto added = deps_.accounts->add_notice(notice, deliveries, deps_.now_ms());
  if (!added.ok()) {
    spdlog::error("billing: notice {} for {}: {}", notice.kind, meter.id, added.error().message);
    return;
  }
  if (added->has_value()) {
    spdlog::info("billing: notice {} {} {} for {}", notice.kind, notice.cycle, notice.threshold, meter.id);
    if (deps_.notice) deps_.notice();
  }
}

void AccountService::update_all() {
  auto meters = deps_.store->list_meters();
  if (!meters.ok()) {
    spdlog::warn("billing: cannot list meters: {}", meters.error().message);
    return;
  }
  // One query for every meter's settings, not one per meter: a pass over 20,000 meters stays cheap.
  auto stored = deps_.accounts->all_settings();
  if (!stored.ok()) {
    spdlog::warn("billing: cannot read the account settings: {}", stored.error().message);
    return;
  }
  std::map<std::string, AccountSettings> settings;
  for (AccountSettings& a : stored.value()) settings[a.meter] = std::move(a);
  for (const storage::MeterInfo& meter : meters.value()) {
    {
      std::lock_guard lock(thread_mutex_);
      if (stopping_) return;
    }
    AccountSettings defaults;
    defaults.meter = meter.id;
    const auto it = settings.find(meter.id);
    std::lock_guard lock(update_mutex_);
    if (auto updated = update_locked(meter, it == settings.end() ? defaults : it->second);
        !updated.ok() && updated.error().code != ErrorCode::kNotFound) {
      spdlog::warn("billing: meter {}: {}", meter.id, updated.error().message);
    }
  }
}

Expected<void> AccountService::update_meter(const storage::MeterInfo& meter) {
  std::lock_guard lock(update_mutex_);
  auto settings = deps_.accounts->settings(meter.id);
  if (!settings.ok()) return std::move(settings).error();
  return update_locked(meter, settings.value());
}

Expected<void> AccountService::update_locked(const storage::MeterInfo& meter, const AccountSettings& settings) {
  const int64_t now = now_s(deps_.now_ms);
  auto current = version_for(meter, settings, now);
  if (!current.ok()) return std::move(current).error();
  const billing::Cycle cycle = billing::cycle_containing(now, (*current)->cycle, (*current)->utc_offset_s);
  const billing::Cycle previous =
      billing::cycle_containing(cycle.start_s - 1, (*current)->cycle, (*current)->utc_offset_s);
  if (now >= previous.end_s + kCloseGraceS && settled_cycle_[meter.id] != previous.label()) {
    if (auto closed = close_cycle(meter, settings, previous); !closed.ok()) return closed;
    settled_cycle_[meter.id] = previous.label();
  }
  if (!wants_usage_notices(settings)) return {};

  auto at_start = version_for(meter, settings, cycle.start_s);
  if (!at_start.ok()) return std::move(at_start).error();
  auto running = compute(meter, *at_start.value(), cycle, now);
  if (!running.ok()) return std::move(running).error();
  if (settings.prepaid) {
    if (auto charged = charge_prepaid(meter, running.value(), false); !charged.ok()) return charged;
    if (auto enforced = enforce_credit(meter, settings, *at_start.value()); !enforced.ok()) return enforced;
  }

  UsageNoticeInput input;
  input.running = &running.value();
  input.warning_days = deps_.billing.slab_warning_days;
  if (const auto rest = rest_of_cycle(meter.id, *at_start.value(), cycle, now)) {
    // The use expected by the first local midnight at least warning_days ahead (or the cycle's end).
    const int64_t horizon = now + input.warning_days * kDayS;
    for (const auto& [end, q] : rest->by_end) {
      input.projected_uwh = q.p50;
      if (end >= horizon) break;
    }
  }
  if (!settings.budget_kwh.empty()) {
    if (auto kwh = billing::parse_scaled_decimal(settings.budget_kwh, billing::kEnergyDecimals); kwh.ok()) {
      input.budget_uwh = kwh.value();
    }
  }
  if (!settings.budget_money.empty()) {
    if (auto money = money_minor(settings.budget_money, *at_start.value(), "budget_money"); money.ok()) {
      input.budget_minor = money.value();
    }
  }
  for (Notice& n : usage_notices(input, deps_.now_ms())) add_notice(meter, settings, std::move(n));
  return {};
}

}  // namespace wattguard::accounts
