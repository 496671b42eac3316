// Checking a built ServerConfig: ranges and the rules between fields (validate_config), and the "host:port"
// form of listen addresses. Separate from the reading of the TOML file, which only fills the fields.
#include <arpa/inet.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "wattguard/blynk/pin_map.h"
#include "wattguard/serve/server_config.h"

namespace wattguard::serve {
namespace {

bool is_ip_literal_or_name(const std::string& s) {
  if (s.empty()) return false;
  for (char ch : s) {
    const bool ok = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '.' ||
                    ch == ':' || ch == '-';
    if (!ok) return false;
  }
  return true;
}

// A topic prefix we publish under: levels of printable characters, no wildcards, no empty level at either end.
bool is_topic_prefix(const std::string& s) {
  if (s.empty() || s.front() == '/' || s.back() == '/') return false;
  return std::all_of(s.begin(), s.end(), [](char ch) { return ch > ' ' && ch != '+' && ch != '#' && ch != 0x7f; });
}

}  // namespace

std::optional<std::pair<std::string, uint16_t>> split_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) return std::nullopt;
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (!is_ip_literal_or_name(host)) return std::nullopt;
  const std::string port_text = listen.substr(colon + 1);
  if (port_text.size() > 5 ||
      !std::all_of(port_text.begin(), port_text.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
    return std::nullopt;
  }
  const int port = std::stoi(port_text);
  if (port > 65535) return std::nullopt;
  return std::make_pair(host, static_cast<uint16_t>(port));
}

std::vector<std::string> split_proxy_list(const std::string& list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    const auto comma = std::min(list.find(',', start), list.size());
    std::string item = list.substr(start, comma - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
    start = comma + 1;
  }
  return out;
}

namespace {

// The [blynk] rules that span keys.
Expected<void> validate_blynk_config(const blynk::BlynkConfig& b) {
  if (!b.enabled) return {};
  if (!is_ip_literal_or_name(b.bind)) return Error::invalid("blynk.bind", "\"" + b.bind + "\"", "not an address");
  if (b.port == 0 && b.tls_port == 0) {
    return Error::invalid("blynk.port", "0", "blynk.enabled is true but blynk.port and blynk.tls_port are both 0");
  }
  if (b.tls_port != 0 && (b.tls_cert_file.empty() || b.tls_key_file.empty())) {
    return Error::invalid("blynk.tls_port", std::to_string(b.tls_port),
                          "needs blynk.tls_cert_file and blynk.tls_key_file");
  }
  if (b.tls_port != 0 && b.tls_port == b.port) {
    return Error::invalid("blynk.tls_port", std::to_string(b.tls_port), "must differ from blynk.port");
  }
  if (b.token_delay_max_ms < b.token_delay_base_ms) {
    return Error::invalid("blynk.token_delay_max_ms", std::to_string(b.token_delay_max_ms),
                          "must not be below blynk.token_delay_base_ms");
  }
  if (!b.pin_map.empty()) {
    if (auto map = blynk::PinMap::parse(b.pin_map); !map.ok()) return std::move(map).error();
  }
  return {};
}

}  // namespace

Expected<void> validate_config(const ServerConfig& c) {
  // Values are shown as they would be written in the file (strings quoted), as in parse errors.
  const auto quoted = [](const std::string& v) { return "\"" + v + "\""; };
  if (!is_ip_literal_or_name(c.http.bind)) return Error::invalid("http.bind", quoted(c.http.bind), "not an address");
  if (c.http.threads < 1 || c.http.threads > 64) {
    return Error::invalid("http.threads", std::to_string(c.http.threads), "must be between 1 and 64");
  }
  if (c.http.tls_cert_file.empty() != c.http.tls_key_file.empty()) {
    return Error::invalid(c.http.tls_cert_file.empty() ? "http.tls_cert_file" : "http.tls_key_file", "",
                          "http.tls_cert_file and http.tls_key_file go together: set both for HTTPS, or neither");
  }
  if (c.storage.data_dir.empty()) return Error::invalid("storage.data_dir", "", "storage.data_dir must not be empty");
  if (c.storage.backend == "postgresql" && c.storage.postgresql.empty()) {
    return Error::invalid("storage.postgresql", "",
                          "storage.backend is \"postgresql\" but storage.postgresql (the connection string) is empty");
  }
  if (c.mqtt.host.empty()) return Error::invalid("mqtt.host", "", "mqtt.host must not be empty");
  if (c.mqtt.port == 0) return Error::invalid("mqtt.port", "0", "must be between 1 and 65535");
  if (c.auth.login_delay_max_ms < c.auth.login_delay_base_ms) {
    return Error::invalid("auth.login_delay_max_ms", std::to_string(c.auth.login_delay_max_ms),
                          "must not be below auth.login_delay_base_ms (" + std::to_string(c.auth.login_delay_base_ms) +
                              ")");
  }
  if ((!c.mqtt.password.empty() || !c.mqtt.password_file.empty()) && c.mqtt.username.empty()) {
    return Error::invalid("mqtt.username", "", "mqtt.password is set but mqtt.username is empty");
  }
  if (c.mqtt.broker_password_file.empty() != c.mqtt.broker_acl_file.empty()) {
    return Error::invalid(c.mqtt.broker_password_file.empty() ? "mqtt.broker_password_file" : "mqtt.broker_acl_file",
                          "", "mqtt.broker_password_file and mqtt.broker_acl_file go together; set both or neither");
  }
  if (!c.mqtt.password.empty() && !c.mqtt.password_file.empty()) {
    return Error::invalid("mqtt.password_file", "", "mqtt.password and mqtt.password_file are both set; keep one");
  }
  // A CA file without tls would read as encrypted while every password still travels in the clear.
  if (!c.mqtt.tls && (!c.mqtt.ca_file.empty() || c.mqtt.tls_insecure)) {
    return Error::invalid(c.mqtt.ca_file.empty() ? "mqtt.tls_insecure" : "mqtt.ca_file", "",
                          "is set but mqtt.tls is false; set mqtt.tls = true for MQTT over TLS");
  }
  if (c.mqtt.tls && c.mqtt.ca_file.empty()) {
    return Error::invalid("mqtt.ca_file", "",
                          "mqtt.tls is true but mqtt.ca_file is empty: name the CA file that "
                          "signed the broker's certificate");
  }
  for (char ch : c.mqtt.shared_group) {
    if (ch == '/' || ch == '+' || ch == '#') {
      return Error::invalid("mqtt.shared_group", quoted(c.mqtt.shared_group), "must not contain / + #");
    }
  }
  // The alerts part names its own key (field) in the error.
  if (auto alerts = alerts::validate_alerts_config(c.alerts); !alerts.ok()) return std::move(alerts).error();
  // The accounts part names its own key (field) in the error.
  if (auto billing = accounts::validate_billing_config(c.billing, c.prepaid); !billing.ok()) {
    return std::move(billing).error();
  }
  for (const auto& proxy : split_proxy_list(c.http.trusted_proxies)) {
    // Compared with the peer's address as text: only literal addresses (no names, no ranges) can match.
    in6_addr six{};
    in_addr four{};
    if (inet_pton(AF_INET, proxy.c_str(), &four) != 1 && inet_pton(AF_INET6, proxy.c_str(), &six) != 1) {
      return Error::invalid("http.trusted_proxies", quoted(c.http.trusted_proxies),
                            "\"" + proxy + "\" is not an IP address (a comma-separated list of addresses)");
    }
  }
  if (!c.metrics.listen.empty() && !split_listen(c.metrics.listen)) {
    return Error::invalid("metrics.listen", quoted(c.metrics.listen), "must be \"host:port\" (\"127.0.0.1:9464\")");
  }
  const auto bad_prefix = [&](const char* key, const std::string& prefix) -> std::optional<Error> {
    if (is_topic_prefix(prefix)) return std::nullopt;
    return Error::invalid(key, quoted(prefix), "must be MQTT topic levels without + # or a leading/trailing /");
  };
  if (auto e = bad_prefix("homeassistant.discovery_prefix", c.homeassistant.discovery_prefix)) return *e;
  if (auto e = bad_prefix("homeassistant.state_prefix", c.homeassistant.state_prefix)) return *e;
  if (auto blynk = validate_blynk_config(c.blynk); !blynk.ok()) return std::move(blynk).error();
  if (c.theft.history_days <= c.theft.calibration_days) {
    return Error::invalid("theft.history_days", std::to_string(c.theft.history_days),
                          "must be more than theft.calibration_days (" + std::to_string(c.theft.calibration_days) +
                              ")");
  }
  return {};
}

}  // namespace wattguard::serve
