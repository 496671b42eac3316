// Alert -> JSON.
#include "wattguard/alerts/alert_json.h"

#include <ctime>

namespace wattguard::alerts {

nlohmann::json alert_to_json(const Alert& a) {
  nlohmann::json deliveries = nlohmann::json::array();
  for (const Delivery& d : a.deliveries) {
    deliveries.push_back({{"notifier", d.notifier},
                          {"recipient", d.recipient},
                          {"state", delivery_state_name(d.state)},
                          {"attempts", d.attempts},
                          {"last_error", d.last_error},
                          {"delivered_ms", d.delivered_ms}});
  }
  nlohmann::json actions = nlohmann::json::array();
  for (const AlertAction& x : a.actions) {
    actions.push_back({{"time_ms", x.time_ms}, {"actor", x.actor}, {"action", x.action}, {"detail", x.detail}});
  }
  return {{"id", a.id},
          {"kind", a.kind},
          {"meter", a.meter_id},
          {"transformer", a.transformer_id},
          {"area", a.area},
          {"score", a.score},
          {"evidence", a.evidence},
          {"raised_ms", a.raised_ms},
          {"updated_ms", a.updated_ms},
          {"cleared_ms", a.cleared_ms},
          {"state", alert_state_name(a.state)},
          {"deliveries", std::move(deliveries)},
          {"actions", std::move(actions)}};
}

nlohmann::json alert_to_consumer_json(const Alert& a) {
  // The same keys as the operators' form, so a client reads both alike.
  nlohmann::json j = alert_to_json(a);
  j["evidence"] = nlohmann::json::array();
  j["deliveries"] = nlohmann::json::array();
  j["actions"] = nlohmann::json::array();
  return j;
}

std::string iso8601_utc(int64_t t_ms) {
  const std::time_t t = static_cast<std::time_t>(t_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace wattguard::alerts
