// Settings of alerts, notification and prevention (the [alerts] section of the server config).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "wattguard/alerts/alert_service.h"
#include "wattguard/base/expected.h"

namespace wattguard::alerts {

// One meter reader of an area ([[alerts.areas]]). Several entries may share an area name (several
// readers); the area named "default" serves alerts whose area has no entry of its own.
struct AreaReader {
  std::string area;                        // key "name"
  std::string reader;                      // the reader's name
  std::string phone;                       // SMS recipient (needs alerts.sms.url)
  std::string webhook_url;                 // webhook recipient
  std::vector<std::string> disconnect_on;  // alert kinds that disconnect the meter (prevention)
};

struct SmsGatewayConfig {
  std::string url;              // empty = no SMS notifier
  std::string method = "POST";  // POST, PUT, GET
  std::string body = "form";    // form, json, query
  std::string to_param = "to";
  std::string text_param = "text";
  std::string auth_header;  // "Name: value"
  std::string username;     // basic auth
  std::string password;
  std::string message_template = "wattguard alert {id}: {kind} meter {meter} area {area} score {score} at {time} {url}";
};

struct AlertsConfig {
  bool offline_alerts = true;              // raise "offline" alerts when a meter goes offline
  std::string public_url;                  // base of {url} in messages, e.g. "https://wattguard.example"
  int max_attempts = 8;                    // per delivery; then it is "undelivered"
  int retry_base_s = 30;                   // first retry delay; doubles per attempt
  int retry_max_s = 3600;                  // longest retry delay
  int http_timeout_s = 10;                 // per notifier call
  std::string webhook_auth_header;         // "Name: value" sent with every webhook call
  std::string ca_file;                     // PEM certificates trusted for https notifier URLs besides the system's
  int disconnect_attempts = 3;             // relay_off sends per alert when acks time out
  int disconnect_timeout_s = 30;           // wait for the meter's ack per attempt
  int max_notified_per_meter_per_day = 6;  // new alerts of one meter that notify per 24 h; 0 = no limit
  SmsGatewayConfig sms;
  std::vector<AreaReader> areas;

  // The entries of `area`, or of "default" when it has none.
  std::vector<const AreaReader*> readers_of(const std::string& area) const;
  // Webhook and SMS recipients of an area (SMS only when sms.url is set).
  std::vector<Recipient> recipients(const std::string& area) const;
  // Kinds that disconnect a meter of this area.
  std::set<std::string> disconnect_kinds(const std::string& area) const;
  bool has_notifiers() const;
};

// Range and cross-field checks: an Error whose field is the key ("alerts.areas[0].phone") and whose
// message names it too, ready to show as is.
Expected<void> validate_alerts_config(const AlertsConfig& config);

}  // namespace wattguard::alerts
