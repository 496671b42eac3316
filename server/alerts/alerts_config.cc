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

std::string validate_alerts_config(const AlertsConfig& c) {
  if (c.max_attempts < 1 || c.max_attempts > 100) return "alerts.max_attempts must be 1..100";
  if (c.retry_base_s < 1) return "alerts.retry_base_s must be at least 1";
  if (c.retry_max_s < c.retry_base_s) return "alerts.retry_max_s must be at least alerts.retry_base_s";
  if (c.http_timeout_s < 1 || c.http_timeout_s > 300) return "alerts.http_timeout_s must be 1..300";
  if (c.disconnect_attempts < 1 || c.disconnect_attempts > 20) return "alerts.disconnect_attempts must be 1..20";
  if (c.disconnect_timeout_s < 1 || c.disconnect_timeout_s > 3600) return "alerts.disconnect_timeout_s must be 1..3600";
  std::string error;
  if (!c.sms.url.empty() && !notify::parse_url(c.sms.url, &error)) return "alerts.sms.url: " + error;
  if (c.sms.method != "POST" && c.sms.method != "PUT" && c.sms.method != "GET")
    return "alerts.sms.method = \"" + c.sms.method + "\": use POST, PUT or GET";
  if (c.sms.body != "form" && c.sms.body != "json" && c.sms.body != "query")
    return "alerts.sms.body = \"" + c.sms.body + "\": use form, json or query";
  if (!c.sms.auth_header.empty() && c.sms.auth_header.find(':') == std::string::npos)
    return "alerts.sms.auth_header must be \"Name: value\"";
  if (!c.webhook_auth_header.empty() && c.webhook_auth_header.find(':') == std::string::npos)
    return "alerts.webhook_auth_header must be \"Name: value\"";
  for (std::size_t i = 0; i < c.areas.size(); ++i) {
    const auto& a = c.areas[i];
    const std::string at = "alerts.areas[" + std::to_string(i) + "]";
    if (a.area.empty()) return at + ".name is required (use \"default\" for the fallback area)";
    if (!a.webhook_url.empty() && !notify::parse_url(a.webhook_url, &error)) return at + ".webhook_url: " + error;
    if (!a.phone.empty() && c.sms.url.empty()) return at + ".phone is set but alerts.sms.url is not";
  }
  return "";
}

}  // namespace wattguard::alerts
