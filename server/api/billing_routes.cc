// Tariffs, bills, notices and prepaid credit over HTTP.
#include "server/api/billing_routes.h"

#include <spdlog/spdlog.h>

#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "server/api/route_support.h"
#include "wattguard/accounts/consumer_notices.h"
#include "wattguard/accounts/payment_webhook.h"
#include "wattguard/billing/cycle.h"
#include "wattguard/billing/decimal.h"

namespace wattguard::api {
namespace {

using nlohmann::json;

// More meters than this in one summary call must be narrowed by area: each needs its cycle's rollups read.
constexpr size_t kMaxSummaryMeters = 5000;
// Longest text a consumer may store in a setting.
constexpr size_t kMaxSettingLength = 512;

HttpResponse meter_not_found(const std::string& id) {
  return error_response(404, "meter_not_found", "id", "no meter '" + id + "'");
}

HttpResponse billing_off() {
  return error_response(404, "billing_not_configured", "",
                        "no tariff is configured: add [[tariff]] tables to the server's config (docs/billing.md)");
}

json money_json(int64_t minor, const billing::Tariff& t) {
  return {{"minor", minor},
          {"currency", t.currency},
          {"text", billing::format_scaled_decimal(minor, t.minor_digits, t.minor_digits)}};
}

json kwh_json(int64_t uwh) { return static_cast<double>(uwh) / static_cast<double>(billing::kUwhPerKwh); }

std::string rate_text(int64_t rate, const billing::Tariff& t) {
  return billing::format_scaled_decimal(rate, t.minor_digits + billing::kRateDecimalsBeyondMinor, t.minor_digits);
}

json tariff_json(const billing::Tariff& t) {
  json slabs = json::array();
  for (const auto& s : t.slabs) {
    slabs.push_back({{"upto_kwh", s.upto_uwh ? kwh_json(*s.upto_uwh) : json(nullptr)}, {"rate", rate_text(s.rate, t)}});
  }
  json tod = json::array();
  for (const auto& w : t.tod) {
    tod.push_back(
        {{"window", w.label()}, {"factor", billing::format_scaled_decimal(w.factor, billing::kFactorDecimals, 1)}});
  }
  return {{"id", t.id},
          {"version", t.version_name()},
          {"effective_from", t.effective_from.empty() ? json(nullptr) : json(t.effective_from)},
          {"currency", t.currency},
          {"cycle", std::string(billing::cycle_kind_name(t.cycle))},
          {"time_zone", billing::format_utc_offset(t.utc_offset_s)},
          {"slab_mode", std::string(billing::slab_mode_name(t.slab_mode))},
          {"slabs", slabs},
          {"fixed_charge", money_json(t.fixed_charge_minor, t)},
          {"tax_percent", billing::format_scaled_decimal(t.tax_percent, billing::kTaxDecimals, 1)},
          {"tod", tod}};
}

json settings_json(const accounts::AccountSettings& s) {
  return {{"tariff", s.tariff.empty() ? json(nullptr) : json(s.tariff)},
          {"prepaid", s.prepaid},
          {"protected", s.protected_supply},
          {"budget_kwh", s.budget_kwh.empty() ? json(nullptr) : json(s.budget_kwh)},
          {"budget_money", s.budget_money.empty() ? json(nullptr) : json(s.budget_money)},
          {"phone", s.phone},
          {"webhook_url", s.webhook_url},
          {"opt_out", s.opt_out}};
}

json ledger_json(const accounts::LedgerEntry& e, const billing::Tariff& t) {
  return {{"id", e.id},
          {"time_ms", e.time_ms},
          {"kind", accounts::ledger_kind_name(e.kind)},
          {"amount", money_json(e.amount_minor, t)},
          {"cycle", e.cycle},
          {"reference", e.reference},
          {"actor", e.actor},
          {"note", e.note}};
}

json used_json(const std::vector<std::pair<int64_t, int64_t>>& used) {
  json out = json::array();
  for (const auto& [end_s, uwh] : used) out.push_back({{"t_ms", end_s * 1000}, {"kwh", kwh_json(uwh)}});
  return out;
}

json projection_json(const std::optional<accounts::CycleStatus::Projection>& p, const billing::Tariff& t) {
  if (!p) return nullptr;
  const auto kwh3 = [&p](const accounts::Quantiles& q) {
    return p->banded ? json{{"p10", kwh_json(q.p10)}, {"p50", kwh_json(q.p50)}, {"p90", kwh_json(q.p90)}}
                     : json{{"p10", nullptr}, {"p50", kwh_json(q.p50)}, {"p90", nullptr}};
  };
  json daily = json::array();
  for (const auto& [end_s, q] : p->daily) {
    json point = kwh3(q);
    point["t_ms"] = end_s * 1000;
    daily.push_back(point);
  }
  return {{"method", p->banded ? "forecast" : "recent_mean"},
          {"cycle_end_kwh", kwh3(p->end_uwh)},
          {"cycle_end_total",
           {{"p10", p->banded ? money_json(p->end_minor.p10, t) : json(nullptr)},
            {"p50", money_json(p->end_minor.p50, t)},
            {"p90", p->banded ? money_json(p->end_minor.p90, t) : json(nullptr)}}},
          {"daily", daily}};
}

}  // namespace

accounts::AccountService* BillingRoutes::service() const {
  accounts::AccountService* s = context_.deps().accounts;
  return s != nullptr && s->enabled() ? s : nullptr;
}

void BillingRoutes::add_to(ApiRouter& router) {
  router.add("GET", "/api/v1/tariffs", [this](const RouteRequest&) { return tariffs(); });
  router.add("GET", "/api/v1/meters/{id}/billing",
             [this](const RouteRequest& r) { return status(*r.caller, r.params[0]); });
  router.add("PUT", "/api/v1/meters/{id}/billing",
             [this](const RouteRequest& r) { return update_settings(r.http, *r.caller, r.params[0]); });
  router.add("GET", "/api/v1/meters/{id}/bills",
             [this](const RouteRequest& r) { return bills(*r.caller, r.params[0]); });
  router.add("GET", "/api/v1/meters/{id}/bills/{cycle}",
             [this](const RouteRequest& r) { return bill(*r.caller, r.params[0], r.params[1], r.target); });
  router.add("GET", "/api/v1/meters/{id}/notices",
             [this](const RouteRequest& r) { return notices(*r.caller, r.params[0]); });
  router.add("GET", "/api/v1/meters/{id}/ledger",
             [this](const RouteRequest& r) { return ledger(*r.caller, r.params[0]); });
  router.add("POST", "/api/v1/meters/{id}/topups",
             [this](const RouteRequest& r) { return top_up(r.http, *r.caller, r.params[0]); });
  router.add("GET", "/api/v1/billing/summary", [this](const RouteRequest& r) { return summary(*r.caller, r.target); });
  // The provider cannot sign in: its HMAC signature is the authentication.
  router.add_public("POST", "/api/v1/payments/webhook",
                    [this](const RouteRequest& r) { return payment_webhook(r.http); });
}

HttpResponse BillingRoutes::tariffs() {
  auto* s = service();
  if (s == nullptr) {
    return json_response(200, json{{"tariffs", json::array()}, {"default_tariff", nullptr}, {"areas", json::array()}});
  }
  json list = json::array();
  for (const auto& t : s->config().tariffs.versions) list.push_back(tariff_json(t));
  json areas = json::array();
  for (const auto& a : s->config().areas) areas.push_back({{"area", a.area}, {"tariff", a.tariff}});
  const auto& d = s->config().default_tariff;
  return json_response(
      200, json{{"tariffs", list}, {"default_tariff", d.empty() ? json(nullptr) : json(d)}, {"areas", areas}});
}

HttpResponse BillingRoutes::status(const Caller& caller, const std::string& id) {
  if (!context_.visible_meter(caller, id)) return meter_not_found(id);
  auto* s = service();
  if (s == nullptr) return billing_off();
  auto st = s->cycle_status(id);
  if (!st.ok()) return error_answer(st.error(), "billing");
  const billing::Tariff& t = st->running.tariff;
  const billing::Bill& b = st->running;
  json slab = {{"index", st->slab.index},
               {"from_kwh", kwh_json(st->slab.from_uwh)},
               {"to_kwh", st->slab.to_uwh ? kwh_json(*st->slab.to_uwh) : json(nullptr)},
               {"rate", rate_text(st->slab.rate, t)},
               {"next_rate", st->slab.next_rate ? json(rate_text(*st->slab.next_rate, t)) : json(nullptr)}};
  json out = {{"meter", id},
              {"tariff", tariff_json(t)},
              {"cycle",
               {{"label", b.cycle.label()}, {"start_ms", b.cycle.start_s * 1000}, {"end_ms", b.cycle.end_s * 1000}}},
              {"kwh", kwh_json(b.energy_uwh)},
              {"energy_charge", money_json(b.energy_charge_minor, t)},
              {"fixed_charge", money_json(b.fixed_charge_minor, t)},
              {"tax", money_json(b.tax_minor, t)},
              {"total", money_json(b.total_minor, t)},
              {"covered_to_ms", b.covered_to_s * 1000},
              {"slab", slab},
              {"used", used_json(st->used)},
              {"projection", projection_json(st->projection, t)},
              {"settings", settings_json(st->settings)},
              {"prepaid", nullptr}};
  if (st->prepaid) {
    const auto& p = *st->prepaid;
    out["prepaid"] = {{"balance", money_json(p.balance_minor, t)},
                      {"low_credit", money_json(p.low_credit_minor, t)},
                      {"emergency_credit", money_json(p.emergency_credit_minor, t)},
                      {"disconnected", p.disconnected},
                      {"disconnected_ms", p.disconnect ? json(p.disconnect->time_ms) : json(nullptr)}};
  }
  return json_response(200, out);
}

HttpResponse BillingRoutes::update_settings(const HttpRequest& req, const Caller& caller, const std::string& id) {
  if (!context_.visible_meter(caller, id)) return meter_not_found(id);
  auto* s = service();
  if (s == nullptr) return billing_off();
  if (caller.token && !caller.is_admin()) return forbidden("a read-only token cannot change settings");
  JsonBody body(req);
  if (!body.ok()) return body.refusal();
  auto current = context_.deps().accounts_store->settings(id);
  if (!current.ok()) return error_answer(current.error(), "billing");
  accounts::AccountSettings next = current.value();
  const json& o = body.object();
  static const char* const kAdminOnly[] = {"tariff", "prepaid", "protected"};
  for (const char* key : kAdminOnly) {
    if (o.contains(key) && !caller.is_admin()) return forbidden(std::string(key) + " is set by an admin");
  }
  // The budget, contacts and opt-outs are the consumer's own: an operator may read them, not change them.
  if (!caller.is_admin() && caller.access != Access::kConsumer) {
    return forbidden("the consumer's budget, contacts and notices are set by the meter's owner or an admin");
  }
  for (const auto& [key, value] : o.items()) {
    if (key == "prepaid" || key == "protected") {
      if (!value.is_boolean()) return bad_param(key, key + " must be true or false");
      (key == "prepaid" ? next.prepaid : next.protected_supply) = value.get<bool>();
    } else if (key == "opt_out") {
      if (!value.is_array()) return bad_param(key, "opt_out must be an array of notice kinds");
      next.opt_out.clear();
      for (const auto& kind : value) {
        if (!kind.is_string()) return bad_param(key, "opt_out must be an array of notice kinds");
        next.opt_out.insert(kind.get<std::string>());
      }
    } else if (key == "tariff" || key == "budget_kwh" || key == "budget_money" || key == "phone" ||
               key == "webhook_url") {
      std::string text;
      if (value.is_string()) {
        text = value.get<std::string>();
      } else if (value.is_number() && (key == "budget_kwh" || key == "budget_money")) {
        text = value.dump();
      } else if (!value.is_null()) {
        return bad_param(key, key + " must be a string (or null to clear it)");
      }
      if (text.size() > kMaxSettingLength) return bad_param(key, key + " is limited to 512 characters");
      std::string& field = key == "tariff"         ? next.tariff
                           : key == "budget_kwh"   ? next.budget_kwh
                           : key == "budget_money" ? next.budget_money
                           : key == "phone"        ? next.phone
                                                   : next.webhook_url;
      field = std::move(text);
    } else {
      return bad_param(key, "unknown setting " + key +
                                " (tariff, prepaid, protected, budget_kwh, budget_money, phone, webhook_url, opt_out)");
    }
  }
  auto saved = s->save_settings(next);
  if (!saved.ok()) return error_answer(saved.error(), "billing");
  context_.audit(caller, "billing.settings", id, body.object().dump());
  return json_response(200, json{{"meter", id}, {"settings", settings_json(saved.value())}});
}

HttpResponse BillingRoutes::bills(const Caller& caller, const std::string& id) {
  if (!context_.visible_meter(caller, id)) return meter_not_found(id);
  auto* s = service();
  if (s == nullptr) return billing_off();
  auto stored = s->bills(id);
  if (!stored.ok()) return error_answer(stored.error(), "billing");
  // Issued bills are embedded as issued, byte for byte: their numbers keep the currency's digits.
  std::string list = "[";
  for (size_t i = 0; i < stored->size(); ++i) {
    const auto& b = (*stored)[i];
    if (i > 0) list += ",";
    list += json{{"cycle", b.cycle}, {"tariff_version", b.tariff_version}, {"issued_ms", b.created_ms}}.dump();
    list.pop_back();
    list += ",\"bill\":" + b.json + "}";
  }
  list += "]";
  HttpResponse r = json_response(200, json::object());
  r.body = "{\"meter\":" + json(id).dump() + ",\"bills\":" + list + "}";
  return r;
}

HttpResponse BillingRoutes::bill(const Caller& caller, const std::string& id, const std::string& cycle,
                                 const RequestTarget& t) {
  if (!context_.visible_meter(caller, id)) return meter_not_found(id);
  auto* s = service();
  if (s == nullptr) return billing_off();
  const std::string* format = t.param("format");
  if (format != nullptr && *format != "json" && *format != "csv") {
    return bad_param("format", "format = '" + *format + "': expected json or csv");
  }
  auto doc = s->bill(id, cycle);
  if (!doc.ok()) return error_answer(doc.error(), "billing");
  if (format != nullptr && *format == "csv") {
    HttpResponse r;
    r.status = 200;
    r.body = doc->csv;
    r.set_header("Content-Type", "text/csv; charset=utf-8");
    r.set_header("Cache-Control", "no-store");
    r.set_header("Content-Disposition", "attachment; filename=\"bill-" + id + "-" + cycle + ".csv\"");
    return r;
  }
  std::string bill_json = doc->json;
  if (!bill_json.empty() && bill_json.back() == '\n') bill_json.pop_back();
  HttpResponse r = json_response(200, json::object());
  r.body = "{\"issued\":" + std::string(doc->issued ? "true" : "false") +
           ",\"tariff_version\":" + json(doc->tariff_version).dump() + ",\"bill\":" + bill_json + "}";
  return r;
}

HttpResponse BillingRoutes::notices(const Caller& caller, const std::string& id) {
  if (!context_.visible_meter(caller, id)) return meter_not_found(id);
  auto* store = context_.deps().accounts_store;
  if (store == nullptr) return billing_off();
  auto list = store->notices(id);
  if (!list.ok()) return error_answer(list.error(), "billing");
  json out = json::array();
  for (const auto& n : list.value()) {
    json deliveries = json::array();
    if (auto ds = store->deliveries_of(n.id); ds.ok()) {
      for (const auto& d : ds.value()) {
        deliveries.push_back({{"notifier", d.notifier}, {"state", d.state}, {"attempts", d.attempts}});
      }
    }
    out.push_back({{"id", n.id},
                   {"cycle", n.cycle},
                   {"kind", n.kind},
                   {"threshold", n.threshold},
                   {"text", n.text},
                   {"time_ms", n.created_ms},
                   {"deliveries", deliveries}});
  }
  return json_response(200, json{{"meter", id}, {"notices", out}});
}

HttpResponse BillingRoutes::ledger(const Caller& caller, const std::string& id) {
  if (!context_.visible_meter(caller, id)) return meter_not_found(id);
  auto* s = service();
  if (s == nullptr) return billing_off();
  auto acc = s->account(id);
  if (!acc.ok()) return error_answer(acc.error(), "billing");
  auto entries = context_.deps().accounts_store->ledger(id);
  if (!entries.ok()) return error_answer(entries.error(), "billing");
  auto balance = context_.deps().accounts_store->balance_minor(id);
  if (!balance.ok()) return error_answer(balance.error(), "billing");
  const billing::Tariff& t = *acc->tariff;
  json list = json::array();
  for (const auto& e : entries.value()) list.push_back(ledger_json(e, t));
  return json_response(200, json{{"meter", id},
                                 {"prepaid", acc->settings.prepaid},
                                 {"balance", money_json(balance.value(), t)},
                                 {"entries", list}});
}

HttpResponse BillingRoutes::top_up(const HttpRequest& req, const Caller& caller, const std::string& id) {
  if (!context_.visible_meter(caller, id)) return meter_not_found(id);
  if (!caller.can_command()) return forbidden("only operators and admins record top-ups");
  auto* s = service();
  if (s == nullptr) return billing_off();
  JsonBody body(req);
  if (!body.ok()) return body.refusal();
  std::string amount;
  if (const auto it = body.object().find("amount"); it != body.object().end()) {
    if (it->is_string()) amount = it->get<std::string>();
    if (it->is_number()) amount = it->dump();
  }
  if (amount.empty()) return bad_param("amount", "amount is required: a positive decimal (\"500.00\")");
  const auto reference = body.string("reference");
  if (!body.ok()) return body.refusal();
  if (reference && reference->size() > kMaxSettingLength) {
    return bad_param("reference", "reference is limited to 512 characters");
  }
  auto done = s->top_up(id, amount, reference.value_or(""), caller.name);
  if (!done.ok()) return error_answer(done.error(), "billing");
  context_.audit(caller, "billing.topup", id, amount + " " + done->entry.currency + " ref " + reference.value_or(""));
  auto acc = s->account(id);
  if (!acc.ok()) return error_answer(acc.error(), "billing");
  const billing::Tariff& t = *acc->tariff;
  return json_response(201,
                       json{{"entry", ledger_json(done->entry, t)}, {"balance", money_json(done->balance_minor, t)}});
}

HttpResponse BillingRoutes::payment_webhook(const HttpRequest& req) {
  auto* s = service();
  if (s == nullptr) return billing_off();
  const std::string* signature = req.header(accounts::kPaymentSignatureHeader);
  auto done = s->apply_payment(req.body, signature == nullptr ? "" : *signature);
  if (!done.ok()) {
    // Every refusal is logged: a provider's misconfiguration and an attacker's guess both need to be seen.
    spdlog::warn("payments: webhook from {} refused: {}", req.remote_address.empty() ? "?" : req.remote_address,
                 done.error().message);
    return error_answer(done.error(), "billing");
  }
  if (!done->duplicate) {
    storage::AuditEntry e;
    e.time_ms = context_.now_ms();
    e.actor = "provider";
    e.action = "billing.payment";
    e.target = done->entry.meter;
    e.details = done->entry.reference;
    if (auto a = context_.deps().store->append_audit(e); !a.ok())
      spdlog::error("payments: audit: {}", a.error().message);
  }
  return json_response(200, json{{"status", done->duplicate ? "duplicate" : "applied"},
                                 {"payment_id", done->entry.reference},
                                 {"meter", done->entry.meter},
                                 {"ledger_id", done->entry.id}});
}

HttpResponse BillingRoutes::summary(const Caller& caller, const RequestTarget& t) {
  if (!caller.can_read_all()) return forbidden("the billing summary is for operators");
  auto* s = service();
  if (s == nullptr) return billing_off();
  const std::string* area = t.param("area");
  auto meters = context_.deps().store->list_meters();
  if (!meters.ok()) return storage_error(meters.error(), "billing");
  struct Totals {
    int meters = 0, billed = 0, prepaid = 0, disconnected = 0, in_debt = 0;
    __int128 kwh_uwh = 0, total_minor = 0, balance_minor = 0;
    std::optional<billing::Tariff> tariff;  // the first billed meter's, for the currency
  };
  std::map<std::string, Totals> by_area;
  size_t considered = 0;
  for (const auto& m : meters.value()) {
    if (area != nullptr && m.area != *area) continue;
    if (++considered > kMaxSummaryMeters) {
      return bad_param("area", "more than 5000 meters: ask for one area at a time (?area=...)");
    }
    Totals& a = by_area[m.area];
    ++a.meters;
    auto st = s->cycle_status(m.id, false);
    if (!st.ok()) continue;  // no tariff, or no readings yet: counted as a meter, not billed
    ++a.billed;
    a.kwh_uwh += st->running.energy_uwh;
    a.total_minor += st->running.total_minor;
    if (!a.tariff) a.tariff = st->running.tariff;
    if (st->prepaid) {
      ++a.prepaid;
      a.balance_minor += st->prepaid->balance_minor;
      if (st->prepaid->disconnected) ++a.disconnected;
      if (st->prepaid->balance_minor < 0) ++a.in_debt;
    }
  }
  json out = json::array();
  for (const auto& [name, a] : by_area) {
    json row = {{"area", name},         {"meters", a.meters},
                {"billed", a.billed},   {"kwh", static_cast<double>(a.kwh_uwh) / 1e9},
                {"prepaid", a.prepaid}, {"disconnected", a.disconnected},
                {"in_debt", a.in_debt}};
    // Areas may mix currencies in principle; the summary adds minor units of the first tariff's currency, which
    // is right for every single-currency utility and says which currency it used. Null when nothing is billed.
    row["running_total"] = a.tariff ? money_json(static_cast<int64_t>(a.total_minor), *a.tariff) : json(nullptr);
    row["prepaid_balance"] = a.tariff ? money_json(static_cast<int64_t>(a.balance_minor), *a.tariff) : json(nullptr);
    out.push_back(row);
  }
  return json_response(200, json{{"areas", out}});
}

}  // namespace wattguard::api
