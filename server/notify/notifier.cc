// The webhook and SMS-gateway notifiers and the message template.
#include "wattguard/notify/notifier.h"

namespace wattguard::notify {

std::string fill_template(std::string_view text, const std::map<std::string, std::string>& fields) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '{') {
      const auto close = text.find('}', i + 1);
      if (close != std::string_view::npos) {
        const auto it = fields.find(std::string(text.substr(i + 1, close - i - 1)));
        if (it != fields.end()) {
          out += it->second;
          i = close + 1;
          continue;
        }
      }
    }
    out += text[i++];
  }
  return out;
}

bool split_header(const std::string& line, std::string* name, std::string* value) {
  const auto colon = line.find(':');
  if (colon == std::string::npos || colon == 0) return false;
  *name = line.substr(0, colon);
  std::size_t start = colon + 1;
  while (start < line.size() && line[start] == ' ') ++start;
  *value = line.substr(start);
  return true;
}

bool may_carry_credentials(const std::string& url) {
  const auto parsed = parse_url(url);
  if (!parsed.ok()) return true;  // http_call refuses it anyway, with the better message
  if (parsed->scheme == "https") return true;
  const std::string& host = parsed->host;
  // Plain http stays on this machine only for loopback: a gateway on the same host, or a local TLS proxy.
  const bool numeric = host.find_first_not_of("0123456789.") == std::string::npos;
  return host == "localhost" || host == "::1" || (numeric && host.rfind("127.", 0) == 0);
}

namespace {

// The refusal when credentials would go out in clear text.
HttpOutcome cleartext_refused(const std::string& what) {
  HttpOutcome refused;
  refused.error = "not sent: " + what + " goes only to https:// URLs (or loopback http://)";
  return refused;
}

void add_auth(HttpCall& call, const std::string& header_line, const std::string& user, const std::string& password) {
  std::string name, value;
  if (!header_line.empty() && split_header(header_line, &name, &value)) call.headers.emplace_back(name, value);
  if (!user.empty()) call.headers.emplace_back("Authorization", basic_auth(user, password));
}

class WebhookNotifier final : public Notifier {
 public:
  explicit WebhookNotifier(WebhookOptions o) : options_(std::move(o)) {}
  std::string name() const override { return "webhook"; }
  HttpOutcome send(const std::string& address, const Message& message) override {
    HttpCall call;
    call.method = "POST";
    call.url = address;
    call.content_type = "application/json";
    call.body = message.alert.dump();
    call.timeout_ms = options_.timeout_ms;
    call.ca_file = options_.ca_file;
    if (!options_.auth_header.empty() && !may_carry_credentials(address)) {
      return cleartext_refused("the webhook auth header");
    }
    call.headers.emplace_back("Idempotency-Key", "wattguard-delivery-" + std::to_string(message.delivery_id));
    add_auth(call, options_.auth_header, "", "");
    return http_call(call);
  }

 private:
  WebhookOptions options_;
};

class SmsNotifier final : public Notifier {
 public:
  explicit SmsNotifier(SmsGatewayOptions o) : options_(std::move(o)) {}
  std::string name() const override { return "sms"; }
  HttpOutcome send(const std::string& address, const Message& message) override {
    std::map<std::string, std::string> params = options_.extra_params;
    params[options_.to_param] = address;
    params[options_.text_param] = fill_template(options_.message_template, message.fields);
    HttpCall call;
    call.method = options_.method;
    call.url = options_.url;
    call.timeout_ms = options_.timeout_ms;
    call.ca_file = options_.ca_file;
    if ((!options_.auth_header.empty() || !options_.username.empty()) && !may_carry_credentials(options_.url)) {
      return cleartext_refused("the SMS gateway's credentials");
    }
    call.headers.emplace_back("Idempotency-Key", "wattguard-delivery-" + std::to_string(message.delivery_id));
    add_auth(call, options_.auth_header, options_.username, options_.password);
    if (options_.body == "json" && options_.method != "GET") {
      nlohmann::json body = nlohmann::json::object();
      for (const auto& [k, v] : params) body[k] = v;
      call.content_type = "application/json";
      call.body = body.dump();
    } else {
      std::string encoded;
      for (const auto& [k, v] : params) {
        if (!encoded.empty()) encoded += '&';
        encoded += url_encode(k) + "=" + url_encode(v);
      }
      if (options_.body == "query" || options_.method == "GET") {
        call.url += (call.url.find('?') == std::string::npos ? "?" : "&") + encoded;
      } else {
        call.content_type = "application/x-www-form-urlencoded";
        call.body = encoded;
      }
    }
    return http_call(call);
  }

 private:
  SmsGatewayOptions options_;
};

}  // namespace

std::unique_ptr<Notifier> make_webhook_notifier(WebhookOptions options) {
  return std::make_unique<WebhookNotifier>(std::move(options));
}

std::unique_ptr<Notifier> make_sms_notifier(SmsGatewayOptions options) {
  return std::make_unique<SmsNotifier>(std::move(options));
}

}  // namespace wattguard::notify
