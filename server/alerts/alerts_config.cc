// Recipient and policy lookups over the configured areas.
#include "wattguard/alerts/alerts_config.h"

#include "wattguard/notify/http_client.h"

namespace wattguard::alerts {

std::vector<const AreaReader*> AlertsConfig::readers_of(const std::string& area) const {
  std::vector<const AreaReader*> out;
  for (const auto& r : areas)
    if (r.area == area) out.push_back(&r);
  if (out.empty()) {
    for (const auto& r : areas)
      if (r.area == "default") out.push_back(&r);
  }
  return out;
}

std::vector<Recipient> AlertsConfig::recipients(const std::string& area) const {
  std::vector<Recipient> out;
  for (const AreaReader* r : readers_of(area)) {
    if (!r->webhook_url.empty()) out.push_back({"webhook", r->reader, r->webhook_url});
    if (!r->phone.empty() && !sms.url.empty()) out.push_back({"sms", r->reader, r->phone});
  }
  return out;
}

std::set<std::string> AlertsConfig::disconnect_kinds(const std::string& area) const {
  std::set<std::string> out;
  for (const AreaReader* r : readers_of(area)) out.insert(r->disconnect_on.begin(), r->disconnect_on.end());
  return out;
}

bool AlertsConfig::has_notifiers() const {
  for (const auto& r : areas)
    if (!r.webhook_url.empty() || (!r.phone.empty() && !sms.url.empty())) return true;
  return false;
}

Expected<void> validate_alerts_config(const AlertsConfig& c) {
  // The message names the key itself, as the config loader shows it as is.
  auto bad = [](std::string key, std::string value, std::string message) {
    return Error::invalid(std::move(key), std::move(value), std::move(message));
  };
  auto number = [](int v) { return std::to_string(v); };
  if (c.max_attempts < 1 || c.max_attempts > 100) {
    return bad("alerts.max_attempts", number(c.max_attempts), "alerts.max_attempts must be 1..100");
  }
  if (c.retry_base_s < 1)
    return bad("alerts.retry_base_s", number(c.retry_base_s), "alerts.retry_base_s must be at least 1");
  if (c.retry_max_s < c.retry_base_s) {
    return bad("alerts.retry_max_s", number(c.retry_max_s), "alerts.retry_max_s must be at least alerts.retry_base_s");
  }
  if (c.http_timeout_s < 1 || c.http_timeout_s > 300) {
    return bad("alerts.http_timeout_s", number(c.http_timeout_s), "alerts.http_timeout_s must be 1..300");
  }
  if (c.disconnect_attempts < 1 || c.disconnect_attempts > 20) {
    return bad("alerts.disconnect_attempts", number(c.disconnect_attempts), "alerts.disconnect_attempts must be 1..20");
  }
  if (c.disconnect_timeout_s < 1 || c.disconnect_timeout_s > 3600) {
    return bad("alerts.disconnect_timeout_s", number(c.disconnect_timeout_s),
               "alerts.disconnect_timeout_s must be 1..3600");
  }
  if (!c.sms.url.empty()) {
    if (auto u = notify::parse_url(c.sms.url); !u.ok()) {
      return bad("alerts.sms.url", c.sms.url, "alerts.sms.url: " + u.error().message);
    }
  }
  if (c.sms.method != "POST" && c.sms.method != "PUT" && c.sms.method != "GET") {
    return bad("alerts.sms.method", c.sms.method, "alerts.sms.method = \"" + c.sms.method + "\": use POST, PUT or GET");
  }
  if (c.sms.body != "form" && c.sms.body != "json" && c.sms.body != "query") {
    return bad("alerts.sms.body", c.sms.body, "alerts.sms.body = \"" + c.sms.body + "\": use form, json or query");
  }
  if (!c.sms.auth_header.empty() && c.sms.auth_header.find(':') == std::string::npos) {
    return bad("alerts.sms.auth_header", "", "alerts.sms.auth_header must be \"Name: value\"");
  }
  if (!c.webhook_auth_header.empty() && c.webhook_auth_header.find(':') == std::string::npos) {
    return bad("alerts.webhook_auth_header", "", "alerts.webhook_auth_header must be \"Name: value\"");
  }
  for (std::size_t i = 0; i < c.areas.size(); ++i) {
    const auto& a = c.areas[i];
    const std::string at = "alerts.areas[" + std::to_string(i) + "]";
    if (a.area.empty()) return bad(at + ".name", "", at + ".name is required (use \"default\" for the fallback area)");
    if (!a.webhook_url.empty()) {
      if (auto u = notify::parse_url(a.webhook_url); !u.ok()) {
        return bad(at + ".webhook_url", a.webhook_url, at + ".webhook_url: " + u.error().message);
      }
    }
    if (!a.phone.empty() && c.sms.url.empty())
      return bad(at + ".phone", a.phone, at + ".phone is set but alerts.sms.url is not");
  }
  return {};
}

}  // namespace wattguard::alerts
