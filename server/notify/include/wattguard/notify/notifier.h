// Notifiers: tell a recipient about an alert over HTTP (a webhook, or an SMS gateway's HTTP API).
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "wattguard/notify/http_client.h"

namespace wattguard::notify {

// What is sent: the alert as JSON (webhook body) and the flat fields an SMS template may use:
// {id} {kind} {meter} {transformer} {area} {score} {time} {url} {reader}.
// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's noexcept move calls a may-throw assertion helper.
struct Message {
  int64_t delivery_id = 0;  // sent as Idempotency-Key so a receiver can drop a repeat after a crash
  nlohmann::json alert;
  std::map<std::string, std::string> fields;
};

// Replaces every {name} with fields[name]; unknown placeholders are kept as written.
std::string fill_template(std::string_view text, const std::map<std::string, std::string>& fields);

class Notifier {
 public:
  virtual ~Notifier() = default;
  virtual std::string name() const = 0;  // "webhook", "sms"
  // One attempt to `address` (URL or phone number). ok() = the receiver accepted it (2xx).
  virtual HttpOutcome send(const std::string& address, const Message& message) = 0;
};

// Whether credentials (an auth header, basic auth) may go to `url`: https, or http to a loopback host
// (localhost, 127.x.x.x, ::1). The notifiers refuse to send them anywhere else, in clear text.
bool may_carry_credentials(const std::string& url);

// POSTs the alert JSON to the recipient's URL.
struct WebhookOptions {
  int timeout_ms = 10'000;
  // Optional "Name: value" added to every call; only over https or to loopback (may_carry_credentials): a call
  // that would send it over plain http elsewhere is not made, and fails with an error saying so.
  std::string auth_header;
  std::string ca_file;  // https: further trusted certificates (HttpCall::ca_file)
};
std::unique_ptr<Notifier> make_webhook_notifier(WebhookOptions options);

// An SMS gateway's HTTP API: the recipient's phone number and the filled template are sent as
// two parameters (to_param, text_param) in a form body, a JSON body or the query string.
struct SmsGatewayOptions {
  std::string url;              // http:// or https://
  std::string method = "POST";  // POST, PUT or GET
  std::string body = "form";    // "form", "json" or "query" (GET uses the query always)
  std::string to_param = "to";
  std::string text_param = "text";
  std::map<std::string, std::string> extra_params;  // fixed parameters, e.g. sender id
  std::string auth_header;                          // "Authorization: Bearer ..." (name: value); https only
  std::string username;                             // basic auth when set; https only (as auth_header)
  std::string password;
  std::string message_template = "wattguard alert {id}: {kind} meter {meter} area {area} score {score} at {time} {url}";
  int timeout_ms = 10'000;
  std::string ca_file;  // https: further trusted certificates (HttpCall::ca_file)
};
std::unique_ptr<Notifier> make_sms_notifier(SmsGatewayOptions options);

// Splits "Name: value"; false when there is no colon or no name.
bool split_header(const std::string& line, std::string* name, std::string* value);

}  // namespace wattguard::notify
