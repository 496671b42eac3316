// Loads ServerConfig from TOML: a table of known keys, each with its type and range.
#include "wattguard/serve/server_config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <sstream>

#include "wattguard/billing/tariff_toml.h"
#include "wattguard/blynk/pin_map.h"
#include "wattguard/emoncms/input_map.h"

namespace wattguard::serve {
using api::CookieSecure;
namespace {

// One settable key. `apply` sets it from its node, or says which rule the value breaks (the caller adds the key,
// the value and the line).
struct KeySpec {
  std::string name;  // "http.port"
  std::function<Expected<void>(const toml::node&, ServerConfig&)> apply;
};

// A broken rule; apply_table fills in where.
Error rule(std::string message) { return Error::invalid("", "", std::move(message)); }

std::string describe(const toml::node& node) {
  std::ostringstream out;
  if (node.is_string()) {
    out << '"' << node.as_string()->get() << '"';
  } else if (node.is_table()) {
    out << "a table";
  } else if (node.is_array()) {
    out << "an array";
  } else if (const auto* i = node.as_integer()) {
    out << i->get();
  } else if (const auto* f = node.as_floating_point()) {
    out << f->get();
  } else if (const auto* b = node.as_boolean()) {
    out << (b->get() ? "true" : "false");
  } else {
    out << "a date/time";
  }
  return out.str();
}

// Integer key within [lo, hi], stored through `field`.
template <typename T, typename Field>
KeySpec integer_key(std::string name, int64_t lo, int64_t hi, Field field) {
  return {name, [lo, hi, field](const toml::node& node, ServerConfig& c) -> Expected<void> {
            const auto* v = node.as_integer();
            if (v == nullptr) return rule("must be an integer");
            const int64_t x = v->get();
            if (x < lo || x > hi) {
              return rule("must be between " + std::to_string(lo) + " and " + std::to_string(hi));
            }
            field(c) = static_cast<T>(x);
            return {};
          }};
}

template <typename Field>
KeySpec string_key(std::string name, bool allow_empty, Field field) {
  return {name, [allow_empty, field](const toml::node& node, ServerConfig& c) -> Expected<void> {
            const auto* v = node.as_string();
            if (v == nullptr) return rule("must be a string");
            if (!allow_empty && v->get().empty()) return rule("must not be empty");
            field(c) = v->get();
            return {};
          }};
}

template <typename Field>
KeySpec choice_key(std::string name, std::vector<std::string> choices, Field field) {
  return {name, [choices, field](const toml::node& node, ServerConfig& c) -> Expected<void> {
            const auto* v = node.as_string();
            std::string list;
            for (const auto& ch : choices) list += (list.empty() ? "" : ", ") + ch;
            if (v == nullptr) return rule("must be one of " + list);
            for (const auto& ch : choices) {
              if (v->get() == ch) {
                field(c) = ch;
                return {};
              }
            }
            return rule("must be one of " + list);
          }};
}

template <typename Field>
KeySpec bool_key(std::string name, Field field) {
  return {name, [field](const toml::node& node, ServerConfig& c) -> Expected<void> {
            const auto* v = node.as_boolean();
            if (v == nullptr) return rule("must be true or false");
            field(c) = v->get();
            return {};
          }};
}

// Number key (integer or decimal) within [lo, hi], stored through `field`.
template <typename Field>
KeySpec number_key(std::string name, double lo, double hi, Field field) {
  return {name, [lo, hi, field](const toml::node& node, ServerConfig& c) -> Expected<void> {
            double x = 0;
            if (const auto* i = node.as_integer()) {
              x = static_cast<double>(i->get());
            } else if (const auto* f = node.as_floating_point()) {
              x = f->get();
            } else {
              return rule("must be a number");
            }
            if (!(x >= lo && x <= hi)) {
              std::ostringstream range;
              range << "must be between " << lo << " and " << hi;
              return rule(range.str());
            }
            field(c) = x;
            return {};
          }};
}

// [[alerts.areas]]: one table per meter reader of an area.
Expected<void> apply_alert_areas(const toml::node& node, ServerConfig& c) {
  const auto* list = node.as_array();
  if (list == nullptr) return rule("must be an array of tables ([[alerts.areas]])");
  std::vector<alerts::AreaReader> areas;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string at = "entry " + std::to_string(i + 1);
    const auto* t = list->get(i)->as_table();
    if (t == nullptr) return rule(at + " is not a table");
    alerts::AreaReader a;
    for (const auto& [key, value] : *t) {
      const std::string k(key.str());
      std::string* text = k == "name"          ? &a.area
                          : k == "reader"      ? &a.reader
                          : k == "phone"       ? &a.phone
                          : k == "webhook_url" ? &a.webhook_url
                                               : nullptr;
      if (text != nullptr) {
        if (!value.is_string()) return rule(at + ": " + k + " must be a string");
        *text = value.as_string()->get();
      } else if (k == "disconnect_on") {
        const auto* kinds = value.as_array();
        if (kinds == nullptr) return rule(at + ": disconnect_on must be an array of alert kinds");
        for (const auto& kind : *kinds) {
          if (!kind.is_string()) return rule(at + ": disconnect_on must be an array of alert kinds");
          a.disconnect_on.push_back(kind.as_string()->get());
        }
      } else {
        return rule(at + ": unknown key " + k + " (name, reader, phone, webhook_url, disconnect_on)");
      }
    }
    if (a.area.empty()) return rule(at + ": name is required (\"default\" for the fallback area)");
    areas.push_back(std::move(a));
  }
  c.alerts.areas = std::move(areas);
  return {};
}

// An array of tables whose values are all strings, keys among `keys` (e.g. [[billing.areas]]).
Expected<std::vector<std::map<std::string, std::string>>> string_tables(const toml::node& node, const char* name,
                                                                        const std::vector<std::string>& keys) {
  const auto* list = node.as_array();
  if (list == nullptr) return rule(std::string("must be an array of tables ([[") + name + "]])");
  std::string known;
  for (const auto& k : keys) known += (known.empty() ? "" : ", ") + k;
  std::vector<std::map<std::string, std::string>> out;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string at = "entry " + std::to_string(i + 1);
    const auto* t = list->get(i)->as_table();
    if (t == nullptr) return rule(at + " is not a table");
    std::map<std::string, std::string> entry;
    for (const auto& [key, value] : *t) {
      const std::string k(key.str());
      if (std::find(keys.begin(), keys.end(), k) == keys.end())
        return rule(at + ": unknown key " + k + " (" + known + ")");
      if (!value.is_string()) return rule(at + ": " + k + " must be a string");
      entry[k] = value.as_string()->get();
    }
    out.push_back(std::move(entry));
  }
  return out;
}

// [[billing.areas]]: the tariff of an area's meters.
Expected<void> apply_billing_areas(const toml::node& node, ServerConfig& c) {
  auto tables = string_tables(node, "billing.areas", {"area", "tariff"});
  if (!tables.ok()) return std::move(tables).error();
  std::vector<accounts::AreaTariff> areas;
  for (auto& t : tables.value()) areas.push_back(accounts::AreaTariff{t["area"], t["tariff"]});
  c.billing.areas = std::move(areas);
  return {};
}

// [[emoncms.inputs]]: an uploader's input name as a reading field, for one meter or all.
Expected<void> apply_emoncms_inputs(const toml::node& node, ServerConfig& c) {
  auto tables = string_tables(node, "emoncms.inputs", {"meter", "input", "field"});
  if (!tables.ok()) return std::move(tables).error();
  std::vector<api::EmoncmsInput> inputs;
  for (std::size_t i = 0; i < tables->size(); ++i) {
    auto& t = (*tables)[i];
    const std::string at = "entry " + std::to_string(i + 1);
    if (t["input"].empty()) return rule(at + ": input is required");
    if (!emoncms::reading_field_from_name(t["field"])) {
      return rule(at + ": field '" + t["field"] +
                  "' is not one of voltage, current, power, apparent_power, power_factor, energy_kwh, energy_wh, "
                  "frequency");
    }
    inputs.push_back(api::EmoncmsInput{t["meter"], t["input"], t["field"]});
  }
  c.emoncms.inputs = std::move(inputs);
  return {};
}

// [[blynk.pin_maps]]: one meter's own virtual pins.
Expected<void> apply_blynk_pin_maps(const toml::node& node, ServerConfig& c) {
  auto tables = string_tables(node, "blynk.pin_maps", {"meter", "map"});
  if (!tables.ok()) return std::move(tables).error();
  std::vector<blynk::MeterPinMap> maps;
  for (std::size_t i = 0; i < tables->size(); ++i) {
    auto& t = (*tables)[i];
    const std::string at = "entry " + std::to_string(i + 1);
    if (t["meter"].empty()) return rule(at + ": meter is required");
    for (const auto& earlier : maps) {
      if (earlier.meter == t["meter"]) return rule(at + ": meter '" + t["meter"] + "' has a pin map already");
    }
    if (auto map = blynk::PinMap::parse(t["map"]); !map.ok()) return rule(at + ": " + map.error().message);
    maps.push_back(blynk::MeterPinMap{t["meter"], t["map"]});
  }
  c.blynk.pin_maps = std::move(maps);
  return {};
}

// Money in major units: a TOML number or a decimal string, kept as decimal text (checked per currency later).
template <typename Field>
KeySpec money_key(std::string name, Field field) {
  return {name, [field](const toml::node& node, ServerConfig& c) -> Expected<void> {
            if (const auto* text = node.as_string()) {
              field(c) = text->get();
            } else if (const auto* i = node.as_integer()) {
              field(c) = std::to_string(i->get());
            } else if (const auto* f = node.as_floating_point()) {
              std::ostringstream out;
              out << f->get();
              field(c) = out.str();
            } else {
              return rule("must be an amount (100 or \"100.00\")");
            }
            return {};
          }};
}

// "HH:MM" to a minute of the day (24:00 allowed as an end); -1 when malformed.
int minute_of(const std::string& text) {
  if (text.size() != 5 || text[2] != ':') return -1;
  for (int i : {0, 1, 3, 4}) {
    if (text[i] < '0' || text[i] > '9') return -1;
  }
  const int h = (text[0] - '0') * 10 + (text[1] - '0');
  const int m = (text[3] - '0') * 10 + (text[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && m != 0)) return -1;
  return h * 60 + m;
}

Expected<void> apply_disconnect_hours(const toml::node& node, ServerConfig& c) {
  const auto* v = node.as_string();
  const std::string text = v == nullptr ? "" : v->get();
  const int from = text.size() == 11 && text[5] == '-' ? minute_of(text.substr(0, 5)) : -1;
  const int to = text.size() == 11 && text[5] == '-' ? minute_of(text.substr(6)) : -1;
  if (from < 0 || to < 0 || from >= to) return rule("must be \"HH:MM-HH:MM\" within one day, start before end");
  c.prepaid.allowed_from_minute = from;
  c.prepaid.allowed_to_minute = to;
  return {};
}

Expected<void> apply_holidays(const toml::node& node, ServerConfig& c) {
  const auto* list = node.as_array();
  if (list == nullptr) return rule("must be an array of dates ([2026-12-25, ...])");
  std::vector<std::string> days;
  for (const auto& item : *list) {
    std::string day;
    if (const auto* d = item.as_date()) {
      std::ostringstream out;
      out << d->get();
      day = out.str();
    } else if (const auto* text = item.as_string()) {
      day = text->get();
    }
    const bool shaped =
        day.size() == 10 && day[4] == '-' && day[7] == '-' &&
        std::all_of(day.begin(), day.end(), [](char ch) { return ch == '-' || (ch >= '0' && ch <= '9'); });
    if (!shaped) return rule("every holiday must be a date YYYY-MM-DD");
    days.push_back(day);
  }
  c.prepaid.holidays = std::move(days);
  return {};
}

const std::vector<KeySpec>& key_specs() {
  static const std::vector<KeySpec> kSpecs = [] {
    constexpr int64_t kIntMax = std::numeric_limits<int>::max();
    std::vector<KeySpec> s;
    s.push_back(string_key("http.bind", false, [](ServerConfig& c) -> std::string& { return c.http.bind; }));
    s.push_back(integer_key<uint16_t>("http.port", 0, 65535, [](ServerConfig& c) -> uint16_t& { return c.http.port; }));
    s.push_back(
        string_key("http.tls_cert_file", true, [](ServerConfig& c) -> std::string& { return c.http.tls_cert_file; }));
    s.push_back(
        string_key("http.tls_key_file", true, [](ServerConfig& c) -> std::string& { return c.http.tls_key_file; }));
    s.push_back(integer_key<int>("http.threads", 1, 64, [](ServerConfig& c) -> int& { return c.http.threads; }));
    s.push_back(string_key("http.static_dir", true, [](ServerConfig& c) -> std::string& { return c.http.static_dir; }));
    s.push_back(integer_key<std::size_t>("http.max_body_bytes", 1024, 64 << 20,
                                         [](ServerConfig& c) -> std::size_t& { return c.http.max_body_bytes; }));
    s.push_back(integer_key<std::size_t>("http.max_import_bytes", 1024, std::size_t{1} << 30,
                                         [](ServerConfig& c) -> std::size_t& { return c.http.max_import_bytes; }));
    s.push_back(integer_key<std::size_t>("http.max_header_bytes", 1024, 1 << 20,
                                         [](ServerConfig& c) -> std::size_t& { return c.http.max_header_bytes; }));
    s.push_back(integer_key<int>("http.header_timeout_s", 1, 3600,
                                 [](ServerConfig& c) -> int& { return c.http.header_timeout_s; }));
    s.push_back(integer_key<int>("http.request_timeout_s", 1, 3600,
                                 [](ServerConfig& c) -> int& { return c.http.request_timeout_s; }));
    s.push_back(integer_key<int>("http.idle_timeout_s", 1, 86400,
                                 [](ServerConfig& c) -> int& { return c.http.idle_timeout_s; }));
    s.push_back(integer_key<int>("http.max_connections", 1, 1000000,
                                 [](ServerConfig& c) -> int& { return c.http.max_connections; }));
    s.push_back(integer_key<int>("http.max_connections_per_address", 1, 1000000,
                                 [](ServerConfig& c) -> int& { return c.http.max_connections_per_address; }));
    s.push_back(string_key("http.trusted_proxies", true,
                           [](ServerConfig& c) -> std::string& { return c.http.trusted_proxies; }));
    s.push_back(integer_key<int>("http.password_workers", 1, 64,
                                 [](ServerConfig& c) -> int& { return c.http.password_workers; }));
    s.push_back(integer_key<int>("http.password_queue_max", 1, 100000,
                                 [](ServerConfig& c) -> int& { return c.http.password_queue_max; }));
    s.push_back(
        integer_key<int>("http.ws_recheck_s", 1, 3600, [](ServerConfig& c) -> int& { return c.http.ws_recheck_s; }));
    s.push_back(integer_key<std::size_t>("http.ws_queue_max", 1, 10000000,
                                         [](ServerConfig& c) -> std::size_t& { return c.http.ws_queue_max; }));
    s.push_back(integer_key<int>("http.ws_ping_s", 1, 3600, [](ServerConfig& c) -> int& { return c.http.ws_ping_s; }));

    s.push_back(string_key("mqtt.host", false, [](ServerConfig& c) -> std::string& { return c.mqtt.host; }));
    s.push_back(integer_key<uint16_t>("mqtt.port", 1, 65535, [](ServerConfig& c) -> uint16_t& { return c.mqtt.port; }));
    s.push_back(string_key("mqtt.username", true, [](ServerConfig& c) -> std::string& { return c.mqtt.username; }));
    s.push_back(string_key("mqtt.password", true, [](ServerConfig& c) -> std::string& { return c.mqtt.password; }));
    s.push_back(
        string_key("mqtt.password_file", true, [](ServerConfig& c) -> std::string& { return c.mqtt.password_file; }));
    s.push_back(string_key("mqtt.client_id", false, [](ServerConfig& c) -> std::string& { return c.mqtt.client_id; }));
    s.push_back(bool_key("mqtt.sign_commands", [](ServerConfig& c) -> bool& { return c.mqtt.sign_commands; }));
    s.push_back(
        string_key("mqtt.shared_group", true, [](ServerConfig& c) -> std::string& { return c.mqtt.shared_group; }));
    s.push_back(
        integer_key<int>("mqtt.keepalive_s", 5, 3600, [](ServerConfig& c) -> int& { return c.mqtt.keepalive_s; }));
    s.push_back(bool_key("mqtt.tls", [](ServerConfig& c) -> bool& { return c.mqtt.tls; }));
    s.push_back(string_key("mqtt.ca_file", true, [](ServerConfig& c) -> std::string& { return c.mqtt.ca_file; }));
    s.push_back(bool_key("mqtt.tls_insecure", [](ServerConfig& c) -> bool& { return c.mqtt.tls_insecure; }));
    s.push_back(string_key("mqtt.broker_password_file", true,
                           [](ServerConfig& c) -> std::string& { return c.mqtt.broker_password_file; }));
    s.push_back(string_key("mqtt.broker_acl_file", true,
                           [](ServerConfig& c) -> std::string& { return c.mqtt.broker_acl_file; }));
    s.push_back(string_key("mqtt.broker_pid_file", true,
                           [](ServerConfig& c) -> std::string& { return c.mqtt.broker_pid_file; }));

    s.push_back(
        string_key("storage.data_dir", false, [](ServerConfig& c) -> std::string& { return c.storage.data_dir; }));
    s.push_back(
        string_key("storage.database", false, [](ServerConfig& c) -> std::string& { return c.storage.database; }));
    s.push_back(choice_key("storage.backend", {"sqlite", "postgresql"},
                           [](ServerConfig& c) -> std::string& { return c.storage.backend; }));
    s.push_back(
        string_key("storage.postgresql", true, [](ServerConfig& c) -> std::string& { return c.storage.postgresql; }));
    s.push_back(integer_key<int>("storage.reader_connections", 1, 64,
                                 [](ServerConfig& c) -> int& { return c.storage.reader_connections; }));
    s.push_back(
        integer_key<int>("storage.cache_mib", 1, 65536, [](ServerConfig& c) -> int& { return c.storage.cache_mib; }));
    s.push_back({"storage.synchronous_full", [](const toml::node& node, ServerConfig& c) -> Expected<void> {
                   const auto* v = node.as_boolean();
                   if (v == nullptr) return rule("must be true or false");
                   c.storage.synchronous_full = v->get();
                   return {};
                 }});
    s.push_back(integer_key<int>("storage.retention.raw_days", 0, kIntMax,
                                 [](ServerConfig& c) -> int& { return c.storage.retention.raw_days; }));
    s.push_back(integer_key<int>("storage.retention.min1_days", 0, kIntMax,
                                 [](ServerConfig& c) -> int& { return c.storage.retention.min1_days; }));
    s.push_back(integer_key<int>("storage.retention.min15_days", 0, kIntMax,
                                 [](ServerConfig& c) -> int& { return c.storage.retention.min15_days; }));
    s.push_back(integer_key<int>("storage.retention.hour1_days", 0, kIntMax,
                                 [](ServerConfig& c) -> int& { return c.storage.retention.hour1_days; }));
    s.push_back(integer_key<int>("storage.retention.day1_days", 0, kIntMax,
                                 [](ServerConfig& c) -> int& { return c.storage.retention.day1_days; }));

    s.push_back(
        integer_key<int>("ingest.period_s", 1, 3600, [](ServerConfig& c) -> int& { return c.ingest.period_s; }));
    s.push_back(integer_key<int>("ingest.offline_after_periods", 1, 1000,
                                 [](ServerConfig& c) -> int& { return c.ingest.offline_after_periods; }));
    s.push_back(integer_key<int>("ingest.command_timeout_s", 1, 86400,
                                 [](ServerConfig& c) -> int& { return c.ingest.command_timeout_s; }));
    s.push_back(integer_key<int>("ingest.flush_interval_ms", 0, 60000,
                                 [](ServerConfig& c) -> int& { return c.ingest.flush_interval_ms; }));
    s.push_back(integer_key<std::size_t>("ingest.flush_max_readings", 1, 1000000,
                                         [](ServerConfig& c) -> std::size_t& { return c.ingest.flush_max_readings; }));
    s.push_back(
        integer_key<std::size_t>("ingest.max_pending_readings", 1000, 100000000,
                                 [](ServerConfig& c) -> std::size_t& { return c.ingest.max_pending_readings; }));

    s.push_back(integer_key<int>("auth.session_ttl_s", 60, 365 * 86400,
                                 [](ServerConfig& c) -> int& { return c.auth.session_ttl_s; }));
    s.push_back({"auth.cookie_secure", [](const toml::node& node, ServerConfig& c) -> Expected<void> {
                   const auto* v = node.as_string();
                   if (v != nullptr && v->get() == "auto") {
                     c.auth.cookie_secure = CookieSecure::kAuto;
                   } else if (v != nullptr && v->get() == "always") {
                     c.auth.cookie_secure = CookieSecure::kAlways;
                   } else if (v != nullptr && v->get() == "never") {
                     c.auth.cookie_secure = CookieSecure::kNever;
                   } else {
                     return rule("must be one of auto, always, never");
                   }
                   return {};
                 }});
    s.push_back(integer_key<int>("auth.login_delay_base_ms", 0, 60000,
                                 [](ServerConfig& c) -> int& { return c.auth.login_delay_base_ms; }));
    s.push_back(integer_key<int>("auth.login_delay_max_ms", 0, 3600000,
                                 [](ServerConfig& c) -> int& { return c.auth.login_delay_max_ms; }));
    s.push_back(choice_key("auth.password_cost", {"interactive", "moderate", "sensitive", "min"},
                           [](ServerConfig& c) -> std::string& { return c.auth.password_cost; }));

    s.push_back(choice_key("log.level", {"trace", "debug", "info", "warn", "error", "off"},
                           [](ServerConfig& c) -> std::string& { return c.log.level; }));

    s.push_back(bool_key("alerts.offline_alerts", [](ServerConfig& c) -> bool& { return c.alerts.offline_alerts; }));
    s.push_back(integer_key<int>("alerts.max_notified_per_meter_per_day", 0, 1000,
                                 [](ServerConfig& c) -> int& { return c.alerts.max_notified_per_meter_per_day; }));
    s.push_back(
        string_key("alerts.public_url", true, [](ServerConfig& c) -> std::string& { return c.alerts.public_url; }));
    s.push_back(
        integer_key<int>("alerts.max_attempts", 1, 100, [](ServerConfig& c) -> int& { return c.alerts.max_attempts; }));
    s.push_back(integer_key<int>("alerts.retry_base_s", 1, 86400,
                                 [](ServerConfig& c) -> int& { return c.alerts.retry_base_s; }));
    s.push_back(integer_key<int>("alerts.retry_max_s", 1, 7 * 86400,
                                 [](ServerConfig& c) -> int& { return c.alerts.retry_max_s; }));
    s.push_back(integer_key<int>("alerts.http_timeout_s", 1, 300,
                                 [](ServerConfig& c) -> int& { return c.alerts.http_timeout_s; }));
    s.push_back(string_key("alerts.webhook_auth_header", true,
                           [](ServerConfig& c) -> std::string& { return c.alerts.webhook_auth_header; }));
    s.push_back(string_key("alerts.ca_file", true, [](ServerConfig& c) -> std::string& { return c.alerts.ca_file; }));
    s.push_back(integer_key<int>("alerts.disconnect_attempts", 1, 20,
                                 [](ServerConfig& c) -> int& { return c.alerts.disconnect_attempts; }));
    s.push_back(integer_key<int>("alerts.disconnect_timeout_s", 1, 3600,
                                 [](ServerConfig& c) -> int& { return c.alerts.disconnect_timeout_s; }));
    s.push_back({"alerts.areas", apply_alert_areas});
    s.push_back(string_key("alerts.sms.url", true, [](ServerConfig& c) -> std::string& { return c.alerts.sms.url; }));
    s.push_back(choice_key("alerts.sms.method", {"POST", "PUT", "GET"},
                           [](ServerConfig& c) -> std::string& { return c.alerts.sms.method; }));
    s.push_back(choice_key("alerts.sms.body", {"form", "json", "query"},
                           [](ServerConfig& c) -> std::string& { return c.alerts.sms.body; }));
    s.push_back(string_key("alerts.sms.to_param", false,
                           [](ServerConfig& c) -> std::string& { return c.alerts.sms.to_param; }));
    s.push_back(string_key("alerts.sms.text_param", false,
                           [](ServerConfig& c) -> std::string& { return c.alerts.sms.text_param; }));
    s.push_back(string_key("alerts.sms.auth_header", true,
                           [](ServerConfig& c) -> std::string& { return c.alerts.sms.auth_header; }));
    s.push_back(
        string_key("alerts.sms.username", true, [](ServerConfig& c) -> std::string& { return c.alerts.sms.username; }));
    s.push_back(
        string_key("alerts.sms.password", true, [](ServerConfig& c) -> std::string& { return c.alerts.sms.password; }));
    s.push_back(string_key("alerts.sms.message_template", false,
                           [](ServerConfig& c) -> std::string& { return c.alerts.sms.message_template; }));

    s.push_back(bool_key("theft.enabled", [](ServerConfig& c) -> bool& { return c.theft.enabled; }));
    s.push_back(
        integer_key<int64_t>("theft.cycle_s", 10, 86400, [](ServerConfig& c) -> int64_t& { return c.theft.cycle_s; }));
    s.push_back(
        integer_key<int64_t>("theft.settle_s", 0, 86400, [](ServerConfig& c) -> int64_t& { return c.theft.settle_s; }));
    s.push_back(integer_key<int64_t>("theft.check_wait_s", 0, 7 * 86400,
                                     [](ServerConfig& c) -> int64_t& { return c.theft.check_wait_s; }));
    s.push_back(integer_key<int>("theft.calibration_days", 1, 90,
                                 [](ServerConfig& c) -> int& { return c.theft.calibration_days; }));
    s.push_back(
        integer_key<int>("theft.history_days", 2, 400, [](ServerConfig& c) -> int& { return c.theft.history_days; }));
    s.push_back(integer_key<int32_t>("theft.utc_offset_s", -14 * 3600, 14 * 3600,
                                     [](ServerConfig& c) -> int32_t& { return c.theft.utc_offset_s; }));
    s.push_back(number_key("theft.cusum_k", 0.0, 20.0, [](ServerConfig& c) -> double& { return c.theft.cusum_k; }));
    s.push_back(
        number_key("theft.cusum_h_min", 1.0, 10000.0, [](ServerConfig& c) -> double& { return c.theft.cusum_h_min; }));
    s.push_back(
        number_key("theft.pattern_alone", 0.5, 1.0, [](ServerConfig& c) -> double& { return c.theft.pattern_alone; }));
    s.push_back(number_key("theft.min_loss_share", 0.0, 1.0,
                           [](ServerConfig& c) -> double& { return c.theft.min_loss_share; }));
    s.push_back(number_key("theft.min_hourly_correlation", 0.0, 1.0,
                           [](ServerConfig& c) -> double& { return c.theft.min_hourly_correlation; }));
    s.push_back(
        number_key("theft.quiet_weight", 0.0, 1.0, [](ServerConfig& c) -> double& { return c.theft.quiet_weight; }));
    s.push_back(integer_key<int>("theft.series_intervals", 1, 100000,
                                 [](ServerConfig& c) -> int& { return c.theft.series_intervals; }));
    // [[tariff]] tables are read from the whole text by billing's reader (parse_config), with their own lines.
    s.push_back({"tariff", [](const toml::node&, ServerConfig&) -> Expected<void> { return {}; }});
    s.push_back(
        string_key("billing.tariff_file", true, [](ServerConfig& c) -> std::string& { return c.billing.tariff_file; }));
    s.push_back(string_key("billing.default_tariff", true,
                           [](ServerConfig& c) -> std::string& { return c.billing.default_tariff; }));
    s.push_back({"billing.areas", apply_billing_areas});
    s.push_back(bool_key("emoncms.enabled", [](ServerConfig& c) -> bool& { return c.emoncms.enabled; }));
    s.push_back(string_key("emoncms.prefix", true, [](ServerConfig& c) -> std::string& { return c.emoncms.prefix; }));
    s.push_back({"emoncms.inputs", apply_emoncms_inputs});
    s.push_back({"blynk.pin_maps", apply_blynk_pin_maps});
    s.push_back(integer_key<int>("billing.slab_warning_days", 1, 31,
                                 [](ServerConfig& c) -> int& { return c.billing.slab_warning_days; }));
    s.push_back(integer_key<int>("billing.update_interval_s", 1, 86400,
                                 [](ServerConfig& c) -> int& { return c.billing.update_interval_s; }));
    s.push_back(money_key("prepaid.low_credit", [](ServerConfig& c) -> std::string& { return c.prepaid.low_credit; }));
    s.push_back(money_key("prepaid.emergency_credit",
                          [](ServerConfig& c) -> std::string& { return c.prepaid.emergency_credit; }));
    s.push_back({"prepaid.disconnect_hours", apply_disconnect_hours});
    s.push_back(
        bool_key("prepaid.disconnect_on_weekends", [](ServerConfig& c) -> bool& { return c.prepaid.weekends; }));
    s.push_back({"prepaid.holidays", apply_holidays});
    s.push_back(string_key("prepaid.payment_secret", true,
                           [](ServerConfig& c) -> std::string& { return c.prepaid.payment_secret; }));
    s.push_back(string_key("prepaid.payment_secret_file", true,
                           [](ServerConfig& c) -> std::string& { return c.prepaid.payment_secret_file; }));
    s.push_back(integer_key<int>("prepaid.payment_tolerance_s", 1, 3600,
                                 [](ServerConfig& c) -> int& { return c.prepaid.payment_tolerance_s; }));
    s.push_back(bool_key("metrics.per_meter", [](ServerConfig& c) -> bool& { return c.metrics.per_meter; }));
    s.push_back(string_key("metrics.listen", true, [](ServerConfig& c) -> std::string& { return c.metrics.listen; }));
    s.push_back(bool_key("homeassistant.enabled", [](ServerConfig& c) -> bool& { return c.homeassistant.enabled; }));
    s.push_back(string_key("homeassistant.discovery_prefix", false,
                           [](ServerConfig& c) -> std::string& { return c.homeassistant.discovery_prefix; }));
    s.push_back(string_key("homeassistant.state_prefix", false,
                           [](ServerConfig& c) -> std::string& { return c.homeassistant.state_prefix; }));
    s.push_back(bool_key("blynk.enabled", [](ServerConfig& c) -> bool& { return c.blynk.enabled; }));
    s.push_back(string_key("blynk.bind", false, [](ServerConfig& c) -> std::string& { return c.blynk.bind; }));
    s.push_back(
        integer_key<uint16_t>("blynk.port", 0, 65535, [](ServerConfig& c) -> uint16_t& { return c.blynk.port; }));
    s.push_back(integer_key<uint16_t>("blynk.tls_port", 0, 65535,
                                      [](ServerConfig& c) -> uint16_t& { return c.blynk.tls_port; }));
    s.push_back(
        string_key("blynk.tls_cert_file", true, [](ServerConfig& c) -> std::string& { return c.blynk.tls_cert_file; }));
    s.push_back(
        string_key("blynk.tls_key_file", true, [](ServerConfig& c) -> std::string& { return c.blynk.tls_key_file; }));
    s.push_back(integer_key<int>("blynk.threads", 1, 64, [](ServerConfig& c) -> int& { return c.blynk.threads; }));
    s.push_back(integer_key<int>("blynk.max_connections", 1, 1000000,
                                 [](ServerConfig& c) -> int& { return c.blynk.max_connections; }));
    s.push_back(integer_key<int>("blynk.login_timeout_s", 1, 600,
                                 [](ServerConfig& c) -> int& { return c.blynk.login_timeout_s; }));
    s.push_back(
        integer_key<int>("blynk.heartbeat_s", 1, 3600, [](ServerConfig& c) -> int& { return c.blynk.heartbeat_s; }));
    s.push_back(number_key("blynk.heartbeat_factor", 1.0, 100.0,
                           [](ServerConfig& c) -> double& { return c.blynk.heartbeat_factor; }));
    s.push_back(integer_key<int>("blynk.max_messages_per_s", 1, 100000,
                                 [](ServerConfig& c) -> int& { return c.blynk.max_messages_per_s; }));
    s.push_back(
        integer_key<int>("blynk.quiet_ms", 10, 600000, [](ServerConfig& c) -> int& { return c.blynk.quiet_ms; }));
    s.push_back(string_key("blynk.pin_map", true, [](ServerConfig& c) -> std::string& { return c.blynk.pin_map; }));
    s.push_back(integer_key<int>("blynk.token_delay_base_ms", 0, 60000,
                                 [](ServerConfig& c) -> int& { return c.blynk.token_delay_base_ms; }));
    s.push_back(integer_key<int>("blynk.token_delay_max_ms", 0, 3600000,
                                 [](ServerConfig& c) -> int& { return c.blynk.token_delay_max_ms; }));
    return s;
  }();
  return kSpecs;
}

const KeySpec* find_spec(const std::string& name) {
  for (const auto& spec : key_specs()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

bool is_section(const std::string& name) {
  const std::string prefix = name + ".";
  for (const auto& spec : key_specs()) {
    if (spec.name.compare(0, prefix.size(), prefix) == 0) return true;
  }
  return false;
}

// The node's line in its file (0 when unknown).
int64_t line_of(const toml::node& node) { return static_cast<int64_t>(node.source().begin.line); }

// Applies every key of `table` (whose dotted path is `prefix`); the first error names key, value and line.
Expected<void> apply_table(const toml::table& table, const std::string& prefix, const std::string& origin,
                           ServerConfig& config) {
  for (const auto& [key, node] : table) {
    const std::string name = prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
    if (const KeySpec* spec = find_spec(name)) {
      if (auto applied = spec->apply(node, config); !applied.ok()) {
        return Error::invalid(name, describe(node), applied.error().message).at(origin, line_of(node));
      }
      continue;
    }
    if (is_section(name)) {
      if (!node.is_table()) {
        return Error::invalid(name, "", name + " must be a table ([" + name + "])").at(origin, line_of(node));
      }
      if (auto applied = apply_table(*node.as_table(), name, origin, config); !applied.ok()) return applied;
      continue;
    }
    return Error::invalid(name, "", "unknown key " + name + " (see docs/configuration.md)").at(origin, line_of(node));
  }
  return {};
}

}  // namespace

std::vector<std::string> config_keys() {
  std::vector<std::string> keys;
  for (const auto& spec : key_specs()) keys.push_back(spec.name);
  return keys;
}

std::string config_error_text(const Error& error) {
  std::string out = error.source;
  if (error.line > 0) out += ":" + std::to_string(error.line);
  if (!out.empty()) out += ": ";
  if (!error.field.empty() && !error.value.empty()) out += error.field + " = " + error.value + ": ";
  return out + error.message;
}

namespace {

// The [[tariff]] tables of the config text, or billing.tariff_file's.
Expected<void> load_tariffs(const std::string& toml_text, const std::string& origin, ServerConfig& config) {
  auto inline_book = billing::parse_tariffs(toml_text, origin, billing::TariffText::kAmongOtherTables);
  if (!inline_book.ok()) return std::move(inline_book).error();
  if (config.billing.tariff_file.empty()) {
    config.billing.tariffs = std::move(inline_book).value();
    return {};
  }
  if (!inline_book->versions.empty()) {
    return Error::invalid("billing.tariff_file", "\"" + config.billing.tariff_file + "\"",
                          "the config has [[tariff]] tables and billing.tariff_file; keep one")
        .at(origin);
  }
  std::filesystem::path file(config.billing.tariff_file);
  // A relative tariff file is beside the config file, as a user who keeps them together expects.
  if (file.is_relative() && origin.find('/') != std::string::npos)
    file = std::filesystem::path(origin).parent_path() / file;
  auto book = billing::read_tariff_file(file.string());
  if (!book.ok()) return std::move(book).error();
  config.billing.tariffs = std::move(book).value();
  return {};
}

}  // namespace

Expected<ServerConfig> parse_config(const std::string& toml_text, const std::string& origin) {
  toml::table table;
  try {
    table = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    // toml++ reports syntax errors only by exception; this is the edge where they become an Error.
    return Error::invalid("", "", std::string(e.description())).at(origin, static_cast<int64_t>(e.source().begin.line));
  }
  ServerConfig config;
  if (auto applied = apply_table(table, "", origin, config); !applied.ok()) return std::move(applied).error();
  if (auto tariffs = load_tariffs(toml_text, origin, config); !tariffs.ok()) return std::move(tariffs).error();
  if (auto valid = validate_config(config); !valid.ok()) return std::move(valid).error().at(origin);
  return config;
}

Expected<ServerConfig> load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::io("cannot open the config file").at(path);
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path);
}

Expected<ServerConfig> load_config_or_defaults(const std::string& path) {
  if (path.empty()) return ServerConfig{};
  return load_config_file(path);
}

}  // namespace wattguard::serve
