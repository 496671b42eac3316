// Prepaid credit: the ledger's charges as energy is used, top-ups and provider payments, warnings, and the
// relay switched off at the end of the emergency credit (only when the rules allow) and on again once a
// payment clears the debt. Every movement of money is one ledger row; the balance is always their sum.
#include <spdlog/spdlog.h>

#include <fstream>

#include "wattguard/accounts/account_service.h"
#include "wattguard/accounts/consumer_notices.h"
#include "wattguard/accounts/disconnect_window.h"
#include "wattguard/accounts/payment_webhook.h"
#include "wattguard/billing/decimal.h"

namespace wattguard::accounts {
namespace {

constexpr const char* kSystemActor = "system";
constexpr int64_t kChargeStepMs = 3'600'000;

}  // namespace

Expected<PrepaidStatus> AccountService::prepaid_status(const std::string& meter_id) {
  auto acc = account(meter_id);
  if (!acc.ok()) return std::move(acc).error();
  const billing::Tariff* tariff = acc->tariff;
  PrepaidStatus status;
  auto balance = deps_.accounts->balance_minor(meter_id);
  if (!balance.ok()) return std::move(balance).error();
  status.balance_minor = balance.value();
  auto low = money_minor(deps_.prepaid.low_credit, *tariff, "prepaid.low_credit");
  if (!low.ok()) return std::move(low).error();
  auto emergency = money_minor(deps_.prepaid.emergency_credit, *tariff, "prepaid.emergency_credit");
  if (!emergency.ok()) return std::move(emergency).error();
  status.low_credit_minor = low.value();
  status.emergency_credit_minor = emergency.value();
  auto disconnect = deps_.accounts->credit_disconnect(meter_id);
  if (!disconnect.ok()) return std::move(disconnect).error();
  status.disconnect = disconnect.value();
  status.disconnected = status.disconnect.has_value();
  return status;
}

Expected<void> AccountService::charge_prepaid(const storage::MeterInfo& meter, const billing::Bill& bill, bool settle) {
  auto charged = deps_.accounts->charged_minor(meter.id, bill.cycle.label());
  if (!charged.ok()) return std::move(charged).error();
  const int64_t due = bill.total_minor - charged.value();
  if (due == 0) return {};
  if (!settle && due > 0) {
    // Charges are written in steps, so a month is tens of ledger rows, not one per pass: at least one currency
    // unit, and at most hourly while the balance is far from the low-credit mark (near it, every pass, so the
    // warning and the disconnection come on time). The cycle's last charge settles it to the paisa.
    if (due < billing::power_of_ten(bill.tariff.minor_digits)) return {};
    auto balance = deps_.accounts->balance_minor(meter.id);
    if (!balance.ok()) return std::move(balance).error();
    auto low = money_minor(deps_.prepaid.low_credit, bill.tariff, "prepaid.low_credit");
    if (!low.ok()) return std::move(low).error();
    const int64_t last = last_charge_ms_[meter.id];
    if (balance.value() - due > low.value() && deps_.now_ms() - last < kChargeStepMs) return {};
  }
  LedgerEntry e;
  e.meter = meter.id;
  e.time_ms = deps_.now_ms();
  // A correction downwards (late readings moved energy to another cycle) is refunded, never hidden.
  e.kind = due > 0 ? LedgerKind::kCharge : LedgerKind::kAdjustment;
  e.amount_minor = -due;
  e.currency = bill.tariff.currency;
  e.cycle = bill.cycle.label();
  e.actor = kSystemActor;
  e.note =
      "use to " + kwh_text(bill.energy_uwh) + " kWh in " + bill.cycle.label() + " (" + bill.tariff.version_name() + ")";
  if (auto appended = deps_.accounts->append_ledger(e); !appended.ok()) return std::move(appended).error();
  last_charge_ms_[meter.id] = e.time_ms;
  return {};
}

Expected<void> AccountService::enforce_credit(const storage::MeterInfo& meter, const AccountSettings& settings,
                                              const billing::Tariff& tariff) {
  auto status = prepaid_status(meter.id);
  if (!status.ok()) return std::move(status).error();
  const int64_t balance = status->balance_minor;
  // Warnings are once per credit episode: the newest top-up or payment names it.
  auto credit_id = deps_.accounts->last_credit_id(meter.id);
  if (!credit_id.ok()) return std::move(credit_id).error();
  const std::string episode = "after:" + std::to_string(credit_id.value());
  const std::string cycle = billing::cycle_containing(deps_.now_ms() / 1000, tariff.cycle, tariff.utc_offset_s).label();
  const auto notice = [&](const char* kind, std::string text) {
    add_notice(meter, settings, {0, meter.id, cycle, kind, episode, std::move(text), deps_.now_ms()});
  };
  const std::string left = money_text(balance, tariff);

  if (status->disconnected) {
    if (balance < 0) return {};
    // The debt is cleared: switch the supply back on.
    if (deps_.relay) {
      auto sent = deps_.relay(meter.id, protocol::CommandKind::kRelayOn, "prepaid: credit restored (" + left + ")");
      if (!sent.ok()) return std::move(sent).error();
    }
    if (auto cleared = deps_.accounts->clear_credit_disconnect(meter.id); !cleared.ok()) return cleared;
    spdlog::info("prepaid: {} reconnected, balance {}", meter.id, left);
    notice("reconnected", "Meter " + meter.id + ": thank you, your supply is back on. Balance " + left + ".");
    return {};
  }
  if (balance >= 0 && balance <= status->low_credit_minor) {
    notice("low_credit", "Meter " + meter.id + ": low credit, " + left + " left. Top up soon to keep your supply on.");
  }
  if (balance < 0) {
    notice("emergency_credit", "Meter " + meter.id + ": your credit ran out; you are on emergency credit of " +
                                   money_text(status->emergency_credit_minor, tariff) +
                                   ". Top up now: supply is cut when it is used up.");
  }
  if (balance >= -status->emergency_credit_minor) return {};
  const DisconnectVerdict verdict =
      may_disconnect(deps_.prepaid, tariff.utc_offset_s, deps_.now_ms() / 1000, settings.protected_supply);
  if (!verdict.allowed) {
    spdlog::debug("prepaid: {} out of credit ({}), not disconnected: {}", meter.id, left, verdict.why_not);
    return {};
  }
  if (!deps_.relay) return {};
  auto sent = deps_.relay(meter.id, protocol::CommandKind::kRelayOff,
                          "prepaid: credit exhausted (balance " + left + ", emergency credit used)");
  if (!sent.ok()) return std::move(sent).error();
  if (auto recorded = deps_.accounts->set_credit_disconnect({meter.id, deps_.now_ms(), sent.value()}); !recorded.ok()) {
    return recorded;
  }
  spdlog::warn("prepaid: {} disconnected for lack of credit (balance {})", meter.id, left);
  notice("disconnected", "Meter " + meter.id + ": supply disconnected, credit exhausted (balance " + left +
                             "). It comes back on automatically when you top up.");
  return {};
}

Expected<CreditOutcome> AccountService::top_up(const std::string& meter_id, const std::string& amount,
                                               const std::string& reference, const std::string& actor) {
  auto acc = account(meter_id);
  if (!acc.ok()) return std::move(acc).error();
  if (!acc->settings.prepaid) return Error::invalid("meter", meter_id, "the meter is not prepaid");
  const billing::Tariff& tariff = *acc->tariff;
  auto minor = money_minor(amount, tariff, "amount");
  if (!minor.ok()) return std::move(minor).error();
  if (minor.value() == 0) return Error::invalid("amount", amount, "must be more than zero");
  LedgerEntry e;
  e.meter = meter_id;
  e.time_ms = deps_.now_ms();
  e.kind = LedgerKind::kTopup;
  e.amount_minor = minor.value();
  e.currency = tariff.currency;
  e.reference = reference;
  e.actor = actor;
  std::lock_guard lock(update_mutex_);
  auto id = deps_.accounts->append_ledger(e);
  if (!id.ok()) return std::move(id).error();
  e.id = id.value();
  if (auto enforced = enforce_credit(acc->meter, acc->settings, tariff); !enforced.ok()) {
    spdlog::warn("prepaid: {} after top-up: {}", meter_id, enforced.error().message);
  }
  auto balance = deps_.accounts->balance_minor(meter_id);
  if (!balance.ok()) return std::move(balance).error();
  return CreditOutcome{e, false, balance.value()};
}

Expected<CreditOutcome> AccountService::apply_payment(const std::string& body, const std::string& signature_header) {
  std::string secret = deps_.prepaid.payment_secret;
  if (secret.empty() && !deps_.prepaid.payment_secret_file.empty()) {
    std::ifstream in(deps_.prepaid.payment_secret_file);
    std::getline(in, secret);
  }
  if (secret.empty()) return Error::unavailable("the payment webhook is off (no prepaid.payment_secret)");
  auto payment =
      verify_payment(body, signature_header, secret, deps_.now_ms() / 1000, deps_.prepaid.payment_tolerance_s);
  if (!payment.ok()) return std::move(payment).error();
  if (!deps_.store->has_meter(payment->meter)) {
    return Error::not_found("no meter '" + payment->meter + "'").because("unknown_meter");
  }
  auto acc = account(payment->meter);
  if (!acc.ok()) return std::move(acc).error();
  const billing::Tariff& tariff = *acc->tariff;
  const AccountSettings& settings = acc->settings;
  if (payment->currency != tariff.currency) {
    return Error::invalid("currency", payment->currency, "the meter is billed in " + tariff.currency);
  }
  auto minor = money_minor(payment->amount, tariff, "amount");
  if (!minor.ok()) return std::move(minor).error();
  if (minor.value() == 0) return Error::invalid("amount", payment->amount, "must be more than zero");

  std::lock_guard lock(update_mutex_);
  // A repeat of a payment id is acknowledged with the first entry and changes nothing.
  auto earlier = deps_.accounts->payment(payment->payment_id);
  if (!earlier.ok()) return std::move(earlier).error();
  if (earlier->has_value()) {
    const LedgerEntry& first = **earlier;
    if (first.meter != payment->meter || first.amount_minor != minor.value()) {
      return Error::already_exists("payment " + payment->payment_id + " was already applied to meter " + first.meter +
                                   " with another amount")
          .because("conflicting_payment");
    }
    auto balance = deps_.accounts->balance_minor(first.meter);
    if (!balance.ok()) return std::move(balance).error();
    return CreditOutcome{first, true, balance.value()};
  }
  LedgerEntry e;
  e.meter = payment->meter;
  e.time_ms = deps_.now_ms();
  e.kind = LedgerKind::kPayment;
  e.amount_minor = minor.value();
  e.currency = payment->currency;
  e.reference = payment->payment_id;
  e.actor = "provider";
  e.note = settings.prepaid ? "" : "paid towards a postpaid account";
  auto id = deps_.accounts->append_ledger(e);
  if (!id.ok()) return std::move(id).error();
  e.id = id.value();
  spdlog::info("prepaid: payment {} of {} for {}", e.reference, money_text(e.amount_minor, tariff), e.meter);
  if (settings.prepaid) {
    if (auto enforced = enforce_credit(acc->meter, settings, tariff); !enforced.ok()) {
      spdlog::warn("prepaid: {} after payment: {}", e.meter, enforced.error().message);
    }
  }
  auto balance = deps_.accounts->balance_minor(e.meter);
  if (!balance.ok()) return std::move(balance).error();
  return CreditOutcome{e, false, balance.value()};
}

}  // namespace wattguard::accounts
