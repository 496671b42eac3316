// Tests of TOML configuration loading: defaults, every section, and the error messages.
#include "wattguard/serve/server_config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace wattguard::serve {
using api::CookieSecure;
namespace {

// The printed text of a failed load; "" when it succeeded (for assertion messages).
std::string text(const Expected<ServerConfig>& r) { return r.ok() ? "" : config_error_text(r.error()); }

TEST(ServerConfig, EmptyFileGivesDefaults) {
  const auto r = parse_config("", "test.toml");
  ASSERT_TRUE(r.ok()) << text(r);
  EXPECT_EQ(r->http.bind, "127.0.0.1");
  EXPECT_EQ(r->http.port, 8080);
  EXPECT_EQ(r->http.threads, 2);
  EXPECT_EQ(r->mqtt.host, "localhost");
  EXPECT_EQ(r->mqtt.port, 1883);
  EXPECT_EQ(r->storage.data_dir, "./data");
  EXPECT_EQ(r->database_path(), "./data/wattguard.db");
  EXPECT_EQ(r->auth.cookie_secure, CookieSecure::kAuto);
}

TEST(ServerConfig, ReadsEverySection) {
  const auto r = parse_config(R"(
[http]
bind = "0.0.0.0"
port = 9090
threads = 4
static_dir = "/srv/web"
max_body_bytes = 2048
ws_queue_max = 10

[mqtt]
host = "broker.lan"
port = 8883
username = "srv"
password = "pw"

[storage]
data_dir = "/var/lib/wattguard"
database = "/tmp/other.db"
retention = { raw_days = 30, day1_days = 0 }

[ingest]
period_s = 10
command_timeout_s = 5

[auth]
session_ttl_s = 600
cookie_secure = "always"
password_cost = "min"

[log]
level = "debug"
)",
                              "t.toml");
  ASSERT_TRUE(r.ok()) << text(r);
  const ServerConfig& c = *r;
  EXPECT_EQ(c.http.bind, "0.0.0.0");
  EXPECT_EQ(c.http.port, 9090);
  EXPECT_EQ(c.http.threads, 4);
  EXPECT_EQ(c.resolved_static_dir(), "/srv/web");
  EXPECT_EQ(c.http.max_body_bytes, 2048u);
  EXPECT_EQ(c.http.ws_queue_max, 10u);
  EXPECT_EQ(c.mqtt.host, "broker.lan");
  EXPECT_EQ(c.mqtt.port, 8883);
  EXPECT_EQ(c.mqtt.username, "srv");
  EXPECT_EQ(c.storage.retention.raw_days, 30);
  EXPECT_EQ(c.database_path(), "/tmp/other.db");
  EXPECT_EQ(c.ingest.period_s, 10);
  EXPECT_EQ(c.ingest.command_timeout_s, 5);
  EXPECT_EQ(c.auth.session_ttl_s, 600);
  EXPECT_EQ(c.auth.cookie_secure, CookieSecure::kAlways);
  EXPECT_EQ(c.auth.password_cost, "min");
  EXPECT_EQ(c.log.level, "debug");
}

TEST(ServerConfig, OutOfRangeNamesKeyValueAndLine) {
  const auto r = parse_config("[http]\nbind = \"127.0.0.1\"\nport = 70000\n", "cfg.toml");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(text(r), "cfg.toml:3: http.port = 70000: must be between 0 and 65535");
  EXPECT_EQ(r.error().field, "http.port");
  EXPECT_EQ(r.error().value, "70000");
  EXPECT_EQ(r.error().source, "cfg.toml");
  EXPECT_EQ(r.error().line, 3);
}

TEST(ServerConfig, StorageBackendIsSqliteOrPostgresqlWithAConnectionString) {
  EXPECT_EQ(parse_config("", "cfg.toml")->storage.backend, "sqlite");
  const auto pg = parse_config("[storage]\nbackend = \"postgresql\"\npostgresql = \"host=db dbname=wg\"\n", "cfg.toml");
  ASSERT_TRUE(pg.ok()) << text(pg);
  EXPECT_EQ(pg->storage.backend, "postgresql");
  EXPECT_EQ(pg->storage.postgresql, "host=db dbname=wg");
  const auto other = parse_config("[storage]\nbackend = \"mysql\"\n", "cfg.toml");
  ASSERT_FALSE(other.ok());
  EXPECT_NE(text(other).find("must be one of sqlite, postgresql"), std::string::npos) << text(other);
  const auto missing = parse_config("[storage]\nbackend = \"postgresql\"\n", "cfg.toml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().field, "storage.postgresql");
}

TEST(ServerConfig, WrongTypeNamesKey) {
  const auto r = parse_config("[mqtt]\nport = \"1883\"\n", "cfg.toml");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(text(r), "cfg.toml:2: mqtt.port = \"1883\": must be an integer");
}

TEST(ServerConfig, UnknownKeyIsAnError) {
  const auto r = parse_config("[http]\nprot = 80\n", "cfg.toml");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(text(r), "cfg.toml:2: unknown key http.prot (see docs/configuration.md)");
  const auto r2 = parse_config("[htp]\nport = 80\n", "cfg.toml");
  EXPECT_FALSE(r2.ok());
  EXPECT_NE(text(r2).find("unknown key htp"), std::string::npos) << text(r2);
}

TEST(ServerConfig, BadChoiceListsAllowedValues) {
  const auto r = parse_config("[log]\nlevel = \"loud\"\n", "cfg.toml");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(text(r), "cfg.toml:2: log.level = \"loud\": must be one of trace, debug, info, warn, error, off");
}

TEST(ServerConfig, SyntaxErrorHasLine) {
  const auto r = parse_config("[http]\nport = = 3\n", "cfg.toml");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(text(r).rfind("cfg.toml:2: ", 0), 0u) << text(r);
}

TEST(ServerConfig, CrossFieldRules) {
  const auto r = parse_config("[auth]\nlogin_delay_base_ms = 1000\nlogin_delay_max_ms = 10\n", "c.toml");
  EXPECT_FALSE(r.ok());
  EXPECT_NE(text(r).find("auth.login_delay_max_ms = 10"), std::string::npos) << text(r);
  ServerConfig c;
  c.http.bind = "bad address!";
  const auto invalid = validate_config(c);
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error().field, "http.bind");
  EXPECT_EQ(config_error_text(invalid.error()), "http.bind = \"bad address!\": not an address");
}

TEST(ServerConfig, MqttOverTlsNeedsItsCaFileAndACaFileNeedsTls) {
  const auto on = parse_config("[mqtt]\nport = 8883\ntls = true\nca_file = \"/etc/wg/ca.pem\"\n", "c.toml");
  ASSERT_TRUE(on.ok()) << text(on);
  EXPECT_TRUE(on->mqtt.tls);
  EXPECT_EQ(on->mqtt.ca_file, "/etc/wg/ca.pem");
  EXPECT_FALSE(on->mqtt.tls_insecure);
  const auto no_ca = parse_config("[mqtt]\ntls = true\n", "c.toml");
  ASSERT_FALSE(no_ca.ok());
  EXPECT_EQ(no_ca.error().field, "mqtt.ca_file");
  // Without tls = true a CA file would look like protection while passwords still travel in the clear.
  const auto ca_only = parse_config("[mqtt]\nca_file = \"/etc/wg/ca.pem\"\n", "c.toml");
  ASSERT_FALSE(ca_only.ok());
  EXPECT_EQ(ca_only.error().field, "mqtt.ca_file");
  const auto insecure_only = parse_config("[mqtt]\ntls_insecure = true\n", "c.toml");
  ASSERT_FALSE(insecure_only.ok());
  EXPECT_EQ(insecure_only.error().field, "mqtt.tls_insecure");
}

TEST(ServerConfig, HttpsNeedsBothTheCertificateAndItsKey) {
  const auto both = parse_config(
      "[http]\nport = 8443\ntls_cert_file = \"/etc/wg/server.crt\"\ntls_key_file = \"/etc/wg/server.key\"\n", "c.toml");
  ASSERT_TRUE(both.ok()) << text(both);
  EXPECT_EQ(both->http.tls_cert_file, "/etc/wg/server.crt");
  EXPECT_EQ(both->http.tls_key_file, "/etc/wg/server.key");
  const auto cert_only = parse_config("[http]\ntls_cert_file = \"/etc/wg/server.crt\"\n", "c.toml");
  ASSERT_FALSE(cert_only.ok());
  EXPECT_EQ(cert_only.error().field, "http.tls_key_file");
  const auto key_only = parse_config("[http]\ntls_key_file = \"/etc/wg/server.key\"\n", "c.toml");
  ASSERT_FALSE(key_only.ok());
  EXPECT_EQ(key_only.error().field, "http.tls_cert_file");
}

TEST(ServerConfig, LoadsFileAndReportsMissingOne) {
  const auto path = std::filesystem::temp_directory_path() / "wattguard_config_test.toml";
  {
    std::ofstream out(path);
    out << "[http]\nport = 1234\n";
  }
  const auto r = load_config_file(path.string());
  ASSERT_TRUE(r.ok()) << text(r);
  EXPECT_EQ(r->http.port, 1234);
  std::filesystem::remove(path);
  const auto missing = load_config_file("/nonexistent/wattguard.toml");
  EXPECT_FALSE(missing.ok());
  EXPECT_EQ(text(missing), "/nonexistent/wattguard.toml: cannot open the config file");
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(ServerConfig, ExampleFileLoadsAndMatchesTheDefaults) {
  const auto r = load_config_file(std::string(WATTGUARD_SOURCE_DIR) + "/wattguard.example.toml");
  ASSERT_TRUE(r.ok()) << text(r);
  const ServerConfig d;
  const ServerConfig& e = *r;
  EXPECT_EQ(e.http.port, d.http.port);
  EXPECT_EQ(e.http.max_body_bytes, d.http.max_body_bytes);
  EXPECT_EQ(e.http.max_import_bytes, d.http.max_import_bytes);
  EXPECT_EQ(e.http.ws_queue_max, d.http.ws_queue_max);
  EXPECT_EQ(e.mqtt.username, d.mqtt.username);
  EXPECT_EQ(e.mqtt.client_id, d.mqtt.client_id);
  EXPECT_EQ(e.storage.retention.min15_days, d.storage.retention.min15_days);
  EXPECT_EQ(e.ingest.max_pending_readings, d.ingest.max_pending_readings);
  EXPECT_EQ(e.auth.session_ttl_s, d.auth.session_ttl_s);
  EXPECT_EQ(e.auth.login_delay_max_ms, d.auth.login_delay_max_ms);
}

TEST(ServerConfig, EveryKeyIsInTheExampleAndTheDocs) {
  const std::string example = read_text(std::string(WATTGUARD_SOURCE_DIR) + "/wattguard.example.toml");
  const std::string docs = read_text(std::string(WATTGUARD_SOURCE_DIR) + "/docs/configuration.md");
  ASSERT_FALSE(example.empty());
  ASSERT_FALSE(docs.empty());
  for (const auto& key : config_keys()) {
    const std::string leaf = key.substr(key.rfind('.') + 1);
    EXPECT_NE(example.find("\n" + leaf + " = "), std::string::npos) << key << " missing in wattguard.example.toml";
    EXPECT_NE(docs.find("| `" + leaf + "` |"), std::string::npos) << key << " missing in docs/configuration.md";
  }
}

}  // namespace
}  // namespace wattguard::serve

namespace wattguard::serve {
namespace {

constexpr const char* kTariffConfig = R"toml(
[http]
port = 9000

[[tariff]]
id = "domestic"
currency = "INR"
cycle = "monthly"
time_zone = "+05:30"
slab_mode = "telescopic"
slabs = [ { upto_kwh = 100, rate = 4.71 }, { rate = 10.29 } ]
fixed_charge = 120.0
tax_percent = 16.0

[billing]
default_tariff = "domestic"
areas = [ { area = "north", tariff = "domestic" } ]

[prepaid]
low_credit = 150
emergency_credit = "25.50"
disconnect_hours = "09:30-17:00"
holidays = [ 2026-12-25, "2027-01-26" ]
payment_secret = "0123456789abcdef0123"
)toml";

TEST(ServerConfig, ReadsTariffsBillingAndPrepaid) {
  const auto r = parse_config(kTariffConfig, "wattguard.toml");
  ASSERT_TRUE(r.ok()) << config_error_text(r.error());
  EXPECT_EQ(r->http.port, 9000);
  ASSERT_EQ(r->billing.tariffs.versions.size(), 1u);
  EXPECT_EQ(r->billing.tariffs.versions[0].slabs[1].rate, 10'290'000);
  EXPECT_EQ(r->billing.areas.at(0).area, "north");
  EXPECT_EQ(r->prepaid.low_credit, "150");
  EXPECT_EQ(r->prepaid.emergency_credit, "25.50");
  EXPECT_EQ(r->prepaid.allowed_from_minute, 9 * 60 + 30);
  EXPECT_EQ(r->prepaid.allowed_to_minute, 17 * 60);
  EXPECT_EQ(r->prepaid.holidays, (std::vector<std::string>{"2026-12-25", "2027-01-26"}));
}

TEST(ServerConfig, ABadTariffOrBillingKeyIsNamedWithItsLine) {
  std::string text = kTariffConfig;
  text.replace(text.find("rate = 10.29"), 12, "rate = -1");
  auto r = parse_config(text, "wattguard.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "slabs[1].rate");
  EXPECT_EQ(r.error().line, 11);  // the slabs line of the config text
  EXPECT_EQ(r.error().source, "wattguard.toml");

  text = kTariffConfig;
  text.replace(text.find("tariff = \"domestic\" }"), 19, "tariff = \"farm\"");
  r = parse_config(text, "wattguard.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "billing.areas[0].tariff");

  text = kTariffConfig;
  text.replace(text.find("09:30-17:00"), 11, "17:00-09:30");
  r = parse_config(text, "wattguard.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(config_error_text(r.error()).find("prepaid.disconnect_hours"), std::string::npos);

  r = parse_config("[billing]\ndefault_tariff = \"none\"\n", "wattguard.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "billing.default_tariff");
}

TEST(ServerConfig, MetricsAndHomeAssistantSectionsAreReadAndChecked) {
  auto r = parse_config(R"(
[metrics]
per_meter = true
listen = "127.0.0.1:9464"
[homeassistant]
enabled = true
discovery_prefix = "ha"
state_prefix = "site/a/wattguard"
)",
                        "cfg.toml");
  ASSERT_TRUE(r.ok()) << text(r);
  EXPECT_TRUE(r->metrics.per_meter);
  EXPECT_EQ(split_listen(r->metrics.listen), std::make_pair(std::string("127.0.0.1"), uint16_t{9464}));
  EXPECT_TRUE(r->homeassistant.enabled);
  EXPECT_EQ(r->homeassistant.discovery_prefix, "ha");
  EXPECT_EQ(r->homeassistant.state_prefix, "site/a/wattguard");

  r = parse_config("[metrics]\nlisten = \"9464\"\n", "cfg.toml");
  EXPECT_EQ(text(r), "cfg.toml: metrics.listen = \"9464\": must be \"host:port\" (\"127.0.0.1:9464\")");
  r = parse_config("[homeassistant]\nstate_prefix = \"wattguard/#\"\n", "cfg.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "homeassistant.state_prefix");
  r = parse_config("[homeassistant]\ndiscovery_prefix = \"homeassistant/\"\n", "cfg.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "homeassistant.discovery_prefix");
  EXPECT_EQ(split_listen("[::1]:0"), std::make_pair(std::string("::1"), uint16_t{0}));
  EXPECT_EQ(split_listen("host:70000"), std::nullopt);
}

TEST(ServerConfig, BlynkPinMapsPerMeterAreReadAndABadOneIsNamed) {
  auto r = parse_config(R"(
[blynk]
pin_map = "V0=vrms,V1=irms,V2=p_w"
[[blynk.pin_maps]]
meter = "garage"
map = "V20=vrms,V7=p_w,V8=relay"
[[blynk.pin_maps]]
meter = "shed"
map = "V1=p_w"
)",
                        "cfg.toml");
  ASSERT_TRUE(r.ok()) << text(r);
  ASSERT_EQ(r->blynk.pin_maps.size(), 2u);
  EXPECT_EQ(r->blynk.pin_maps[0].meter, "garage");
  EXPECT_EQ(r->blynk.pin_maps[0].map, "V20=vrms,V7=p_w,V8=relay");
  EXPECT_EQ(r->blynk.pin_maps[1].meter, "shed");

  r = parse_config("[[blynk.pin_maps]]\nmeter = \"garage\"\nmap = \"V20=watts\"\n", "cfg.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(text(r).find("blynk.pin_maps"), std::string::npos) << text(r);
  EXPECT_NE(text(r).find("watts"), std::string::npos) << text(r);
  r = parse_config("[[blynk.pin_maps]]\nmap = \"V1=p_w\"\n", "cfg.toml");
  EXPECT_NE(text(r).find("meter is required"), std::string::npos) << text(r);
  r = parse_config(
      "[[blynk.pin_maps]]\nmeter = \"a\"\nmap = \"V1=p_w\"\n[[blynk.pin_maps]]\nmeter = \"a\"\nmap = \"V2=p_w\"\n",
      "cfg.toml");
  EXPECT_NE(text(r).find("has a pin map already"), std::string::npos) << text(r);
}

}  // namespace
}  // namespace wattguard::serve
