// Wiring of store, auth, ingest, live feed and HTTP API, with periodic maintenance.
#include "wattguard/serve/server.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "server/api/alert_routes.h"
#include "server/api/grid_routes.h"
#include "server/api/live_publisher.h"
#include "wattguard/accounts/account_service.h"
#include "wattguard/accounts/notice_outbox.h"
#include "wattguard/alerts/delivery_worker.h"
#include "wattguard/alerts/ingest_alerts.h"
#include "wattguard/alerts/prevention_policy.h"
#include "wattguard/api/http_server.h"
#include "wattguard/base/clock.h"
#include "wattguard/base/file_write.h"
#include "wattguard/homeassistant/bridge.h"
#include "wattguard/ingest/command_key_file.h"
#include "wattguard/ingest/enrolment.h"
#include "wattguard/storage/pg_store.h"
#include "wattguard/storage/sqlite_store.h"
#include "wattguard/tls/mqtt_client_tls.h"

namespace wattguard::serve {
namespace {

// Both broker sessions (ingest's and Home Assistant's) reach the broker the same way.
tls::MqttClientTls mqtt_tls(const MqttConfig& m) { return {m.tls, m.ca_file, m.tls_insecure}; }

ingest::IngestConfig ingest_config(const ServerConfig& c, const std::string& password, const Clock& now_ms) {
  ingest::IngestConfig ic;
  ic.host = c.mqtt.host;
  ic.port = c.mqtt.port;
  ic.username = c.mqtt.username;
  ic.password = password;
  ic.client_id = c.mqtt.client_id;
  ic.keepalive_s = c.mqtt.keepalive_s;
  ic.share_group = c.mqtt.shared_group;
  ic.tls = mqtt_tls(c.mqtt);
  ic.flush_interval_ms = c.ingest.flush_interval_ms;
  ic.flush_max_readings = c.ingest.flush_max_readings;
  ic.max_pending_readings = c.ingest.max_pending_readings;
  ic.default_period_s = c.ingest.period_s;
  ic.missed_periods = c.ingest.offline_after_periods;
  ic.command_timeout_ms = c.ingest.command_timeout_s * 1000;
  ic.now_ms = now_ms;
  return ic;
}

// The webhook notifier, and an SMS notifier with `sms_template` when a gateway is configured.
std::map<std::string, std::shared_ptr<notify::Notifier>> make_notifiers(const alerts::AlertsConfig& ac,
                                                                        const std::string& sms_template) {
  std::map<std::string, std::shared_ptr<notify::Notifier>> notifiers;
  notifiers["webhook"] = notify::make_webhook_notifier({ac.http_timeout_s * 1000, ac.webhook_auth_header, ac.ca_file});
  if (!ac.sms.url.empty()) {
    notify::SmsGatewayOptions so;
    so.url = ac.sms.url;
    so.method = ac.sms.method;
    so.body = ac.sms.body;
    so.to_param = ac.sms.to_param;
    so.text_param = ac.sms.text_param;
    so.auth_header = ac.sms.auth_header;
    so.username = ac.sms.username;
    so.password = ac.sms.password;
    so.message_template = sms_template;
    so.timeout_ms = ac.http_timeout_s * 1000;
    so.ca_file = ac.ca_file;
    notifiers["sms"] = notify::make_sms_notifier(so);
  }
  return notifiers;
}

api::HttpServerOptions http_options(const ServerConfig& c) {
  api::HttpServerOptions o;
  o.bind = c.http.bind;
  o.port = c.http.port;
  o.threads = c.http.threads;
  o.max_body_bytes = c.http.max_body_bytes;
  o.max_import_bytes = c.http.max_import_bytes;
  o.max_header_bytes = c.http.max_header_bytes;
  o.header_timeout_s = c.http.header_timeout_s;
  o.request_timeout_s = c.http.request_timeout_s;
  o.idle_timeout_s = c.http.idle_timeout_s;
  o.max_connections = c.http.max_connections;
  o.max_connections_per_address = c.http.max_connections_per_address;
  o.trusted_proxies = split_proxy_list(c.http.trusted_proxies);
  o.worker_threads = c.http.password_workers;
  o.worker_queue_max = static_cast<std::size_t>(c.http.password_queue_max);
  o.ws_recheck_s = c.http.ws_recheck_s;
  o.ws_queue_max = c.http.ws_queue_max;
  o.ws_ping_s = c.http.ws_ping_s;
  o.tls_cert_file = c.http.tls_cert_file;
  o.tls_key_file = c.http.tls_key_file;
  return o;
}

// SIGHUP to the pid written in `pid_file` (Mosquitto re-reads its password and ACL files on it).
Expected<void> signal_broker(const std::string& pid_file) {
  std::ifstream in(pid_file);
  long pid = 0;
  if (!(in >> pid) || pid <= 1) {
    Error e = Error::io("cannot read a pid from the broker's pid file");
    e.field = "mqtt.broker_pid_file";
    e.value = "\"" + pid_file + "\"";
    return e;
  }
  if (::kill(static_cast<pid_t>(pid), SIGHUP) != 0) {
    return Error::unavailable("cannot signal the broker (pid " + std::to_string(pid) + "): " + std::strerror(errno));
  }
  return {};
}

// The broker whose users this server manages, when configured.
std::optional<ingest::BrokerControl> broker_control(const ServerConfig& c, std::function<Expected<void>()> reload) {
  if (c.mqtt.broker_password_file.empty()) return std::nullopt;
  ingest::BrokerControl control;
  control.files = {c.mqtt.broker_password_file, c.mqtt.broker_acl_file};
  control.provision.server_user = c.mqtt.username;
  control.reload = std::move(reload);
  if (!control.reload && !c.mqtt.broker_pid_file.empty()) {
    control.reload = [pid_file = c.mqtt.broker_pid_file] { return signal_broker(pid_file); };
  }
  return control;
}

// The Blynk HTTP API for scripts (/{token}/update/V1...) on the API's port.
api::OutsideRoute blynk_http_route(blynk::BlynkServer& blynk) {
  return [&blynk](const api::HttpRequest& req, const api::RequestTarget& target) -> std::optional<api::HttpResponse> {
    auto answer = blynk.http(blynk::HttpApiRequest{req.method, target.path, target.query, req.remote_address});
    if (!answer) return std::nullopt;
    api::HttpResponse response;
    response.status = answer->status;
    response.set_header("Content-Type", answer->content_type);
    response.body = std::move(answer->body);
    response.delay_ms = answer->delay_ms;
    return response;
  };
}

}  // namespace

struct Server::Impl {
  ServerConfig config;
  Clock now_ms;
  std::unique_ptr<storage::ReadingStore> store;
  std::unique_ptr<api::AuthStore> auth;
  // The policy is declared before the alert service so it outlives the listener the service holds.
  std::unique_ptr<alerts::PreventionPolicy> policy;
  std::unique_ptr<alerts::AlertService> alerts;
  std::unique_ptr<alerts::DeliveryWorker> delivery;
  std::unique_ptr<alerts::IngestAlerts> ingest_alerts;
  std::unique_ptr<api::AlertRoutes> alert_routes;
  // Grid model and theft analysis; after the alert service and store, so destroyed before them.
  std::unique_ptr<grid::GridStore> grid;
  std::unique_ptr<grid::TheftAnalysisService> analysis;
  std::unique_ptr<api::GridRoutes> grid_routes;
  // Consumer accounts: bills, notices, prepaid. The service switches relays through ingest, so it is stopped
  // before ingest.
  std::unique_ptr<accounts::AccountStore> account_store;
  std::unique_ptr<accounts::AccountService> accounts;
  std::unique_ptr<accounts::NoticeOutbox> notice_outbox;
  std::unique_ptr<notify::OutboxWorker> notice_sender;
  api::LiveHub hub;
  std::unique_ptr<api::LivePublisher> publisher;
  std::unique_ptr<ingest::IngestService> ingest;
  // Meter keys of the other protocols, and adding meters while running.
  std::unique_ptr<ingest::DeviceKeys> device_keys;
  std::unique_ptr<ingest::Enrolment> enrolment;
  // Blynk devices; after ingest, so stopped (its meters announced offline) before ingest.
  std::unique_ptr<blynk::BlynkServer> blynk;
  std::unique_ptr<api::ApiHandler> handler;
  std::unique_ptr<api::HttpServer> http;
  std::unique_ptr<api::HttpServer> metrics_http;  // [metrics] listen: /metrics only
  std::unique_ptr<homeassistant::Bridge> ha;      // [homeassistant]; stopped before ingest

  std::thread maintenance;
  std::mutex maintenance_mutex;
  std::condition_variable maintenance_cv;
  bool stopping = false;
  bool stopped = false;

  // Wiring of issue 19's parts (below): the Home Assistant bridge, the families serve adds to /metrics, and the
  // separate metrics listener.
  Expected<void> start_homeassistant(const std::string& mqtt_password);
  std::vector<api::MetricsSource> metrics_sources();
  Expected<void> start_metrics_listener();

  void run_maintenance() {
    // Retention and expired sessions are cheap to sweep; once at start, then every 10 minutes.
    std::unique_lock lock(maintenance_mutex);
    while (!stopping) {
      lock.unlock();
      const int64_t now = now_ms();
      const auto deleted = store->apply_retention(now);
      if (!deleted.ok()) {
        spdlog::warn("retention: {}", deleted.error().message);
      } else {
        uint64_t total = 0;
        for (uint64_t n : deleted->deleted) total += n;
        if (total > 0) spdlog::info("retention: deleted {} old rows", total);
      }
      auth->purge_expired_sessions(now / 1000);
      lock.lock();
      maintenance_cv.wait_for(lock, std::chrono::minutes(10), [this] { return stopping; });
    }
  }
};

// The Home Assistant bridge on its own broker session; its relay switch uses the audited command path.
Expected<void> Server::Impl::start_homeassistant(const std::string& mqtt_password) {
  Impl& im = *this;
  const ServerConfig& c = im.config;
  homeassistant::BridgeOptions o;
  o.host = c.mqtt.host;
  o.port = c.mqtt.port;
  o.username = c.mqtt.username;
  o.password = mqtt_password;
  o.client_id = c.mqtt.client_id + "-ha";
  o.tls = mqtt_tls(c.mqtt);
  o.keepalive_s = c.mqtt.keepalive_s;
  o.topics = {c.homeassistant.discovery_prefix, c.homeassistant.state_prefix};
  o.sw_version = WATTGUARD_VERSION;
  ingest::IngestService* ingest = im.ingest.get();
  o.live_states = [ingest] { return ingest->live_states(); };
  o.relay = [ingest](const std::string& meter, bool on) -> Expected<std::string> {
    ingest::CommandRequest request;
    request.meter_id = meter;
    request.kind = on ? protocol::CommandKind::kRelayOn : protocol::CommandKind::kRelayOff;
    request.requested_by = "homeassistant";
    request.reason = "Home Assistant switch";
    auto sent = ingest->send_command(request);
    if (!sent.ok()) return std::move(sent).error();
    return sent->id;
  };
  im.ha = std::make_unique<homeassistant::Bridge>(std::move(o), *im.store);
  if (auto started = im.ha->start(); !started.ok()) return started;
  im.ingest->add_observer(im.ha.get());
  return {};
}

// The families serve adds to /metrics: the MQTT connections, and the Home Assistant bridge's when it runs.
std::vector<api::MetricsSource> Server::Impl::metrics_sources() {
  Impl& im = *this;
  std::vector<api::MetricsSource> sources;
  ingest::IngestService* ingest = im.ingest.get();
  sources.emplace_back([ingest](api::MetricsWriter& out) {
    out.gauge("wattguard_connections", "Connections by ingest protocol (mqtt: the server's own broker session)",
              ingest->connected() ? 1 : 0, {{"protocol", "mqtt"}});
  });
  if (blynk::BlynkServer* b = im.blynk.get()) {
    sources.emplace_back([b](api::MetricsWriter& out) {
      const blynk::BlynkStats s = b->stats();
      out.gauge("wattguard_connections", "Connections by ingest protocol (mqtt: the server's own broker session)",
                static_cast<double>(s.connections_open), {{"protocol", "blynk"}});
      out.counter("wattguard_blynk_connections_total", "Blynk device connections accepted",
                  static_cast<double>(s.connections_total));
      out.family("wattguard_blynk_logins_total", api::MetricType::kCounter, "Blynk logins, by result");
      out.sample("wattguard_blynk_logins_total", static_cast<double>(s.logins_ok), {{"result", "ok"}});
      out.sample("wattguard_blynk_logins_total", static_cast<double>(s.logins_failed), {{"result", "wrong_token"}});
      out.counter("wattguard_blynk_frames_received_total", "Blynk frames received", static_cast<double>(s.frames_in));
      out.counter("wattguard_blynk_frames_sent_total", "Blynk frames sent", static_cast<double>(s.frames_out));
      out.counter("wattguard_blynk_readings_total", "Readings assembled from Blynk pin writes",
                  static_cast<double>(s.readings));
      out.family("wattguard_blynk_refused_total", api::MetricType::kCounter, "Blynk frames or connections refused");
      for (const auto& [reason, n] : s.refused) {
        out.sample("wattguard_blynk_refused_total", static_cast<double>(n), {{"reason", reason}});
      }
    });
  }
  if (homeassistant::Bridge* ha = im.ha.get()) {
    sources.emplace_back([ha](api::MetricsWriter& out) {
      const homeassistant::BridgeStats s = ha->stats();
      out.gauge("wattguard_homeassistant_connected", "1 while the Home Assistant bridge's broker session is up",
                s.connected ? 1 : 0);
      out.counter("wattguard_homeassistant_discovery_messages_total", "Discovery configs published",
                  static_cast<double>(s.discovery_published));
      out.counter("wattguard_homeassistant_states_total", "State messages published",
                  static_cast<double>(s.states_published));
      out.counter("wattguard_homeassistant_commands_total", "Relay commands received from Home Assistant",
                  static_cast<double>(s.commands_received));
      out.counter("wattguard_homeassistant_commands_refused_total", "Relay commands refused",
                  static_cast<double>(s.commands_refused));
    });
  }
  return sources;
}

// [metrics] listen: a second listener that answers only /metrics.
Expected<void> Server::Impl::start_metrics_listener() {
  Impl& im = *this;
  if (im.config.metrics.listen.empty()) return {};
  const auto where = split_listen(im.config.metrics.listen);
  if (!where) return Error::invalid("metrics.listen", im.config.metrics.listen, "must be \"host:port\"");
  api::HttpServerOptions o;
  o.bind = where->first;
  o.port = where->second;
  o.threads = 1;
  o.max_import_bytes = o.max_body_bytes;  // no import route here: nothing large is read
  api::ApiHandler* handler = im.handler.get();
  im.metrics_http = std::make_unique<api::HttpServer>(
      o, [handler](const api::HttpRequest& r) { return handler->handle_metrics_only(r); },
      [](const api::HttpRequest&) {
        api::LiveUpgrade refused;
        refused.refusal = api::error_response(404, "not_found", "", "only /metrics is served here");
        return refused;
      },
      im.hub);
  if (auto started = im.metrics_http->start(); !started.ok()) return std::move(started).error().at("metrics.listen");
  spdlog::info("metrics: /metrics also on {}:{}", where->first, im.metrics_http->port());
  return {};
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { stop(); }

Expected<std::unique_ptr<Server>> Server::start(const ServerConfig& config, ServerOptions options) {
  if (auto valid = validate_config(config); !valid.ok()) return std::move(valid).error();
  auto im = std::make_unique<Impl>();
  im->config = config;
  im->now_ms = or_system_clock(options.now_ms);
  // The parts not yet on Expected still report through a string.

  std::string mqtt_password = config.mqtt.password;
  if (!config.mqtt.password_file.empty()) {
    std::ifstream in(config.mqtt.password_file);
    if (!in || !std::getline(in, mqtt_password)) {
      Error e = Error::io("cannot read the password");
      e.field = "mqtt.password_file";
      e.value = "\"" + config.mqtt.password_file + "\"";
      return e;
    }
  }

  // Private (0700) when made here: the database and credentials inside are nobody else's business.
  auto made = create_private_directories(config.storage.data_dir);
  const std::string db_path = config.database_path();
  const auto db_parent = std::filesystem::path(db_path).parent_path();
  if (made.ok() && !db_parent.empty()) made = create_private_directories(db_parent);
  if (!made.ok()) {
    Error e = std::move(made).error();
    e.field = "storage.data_dir";
    e.value = "\"" + config.storage.data_dir + "\"";
    return e;
  }

  if (config.storage.backend == "postgresql") {
    storage::PgOptions po;
    po.conninfo = config.storage.postgresql;
    po.reader_connections = config.storage.reader_connections;
    auto opened = storage::PgStore::open(po);
    if (!opened.ok()) {
      return std::move(opened).error().at("storage.postgresql");
    }
    im->store = std::move(opened.value());
    spdlog::info("storage: readings, users, sessions and grid in PostgreSQL; alerts and accounts in {}", db_path);
  } else {
    storage::SqliteOptions so;
    so.path = db_path;
    so.reader_connections = config.storage.reader_connections;
    so.cache_mib = config.storage.cache_mib;
    so.synchronous_full = config.storage.synchronous_full;
    auto opened = storage::SqliteStore::open(so);
    if (!opened.ok()) {
      return Error::io(db_path + ": " + opened.error().message).at("storage");
    }
    im->store = std::move(opened.value());
  }
  storage::RetentionPolicy policy;
  policy.raw_days = config.storage.retention.raw_days;
  policy.min1_days = config.storage.retention.min1_days;
  policy.min15_days = config.storage.retention.min15_days;
  policy.hour1_days = config.storage.retention.hour1_days;
  policy.day1_days = config.storage.retention.day1_days;
  if (auto st = im->store->set_retention(policy); !st.ok()) {
    return Error::io(st.error().message).at("storage.retention");
  }
  auto auth = api::AuthStore::open(config.tables_target());
  if (!auth.ok()) return std::move(auth).error();
  im->auth = std::move(auth).value();

  alerts::AlertServiceOptions ao;
  ao.database_path = db_path;
  ao.now_ms = im->now_ms;
  ao.recipients = [areas = config.alerts](const std::string& area) { return areas.recipients(area); };
  ao.max_notified_per_meter_per_day = config.alerts.max_notified_per_meter_per_day;
  auto alert_service = alerts::AlertService::open(ao);
  if (!alert_service.ok()) return Error::io(db_path + ": " + alert_service.error().message).at("alerts");
  im->alerts = std::move(alert_service).value();
  {
    const auto& ac = config.alerts;
    auto notifiers = make_notifiers(ac, ac.sms.message_template);
    alerts::DeliveryOptions dopt;
    dopt.max_attempts = ac.max_attempts;
    dopt.retry_base_ms = int64_t{ac.retry_base_s} * 1000;
    dopt.retry_max_ms = int64_t{ac.retry_max_s} * 1000;
    dopt.public_url = ac.public_url;
    im->delivery = std::make_unique<alerts::DeliveryWorker>(*im->alerts, std::move(notifiers), dopt);
    alerts::DeliveryWorker* worker = im->delivery.get();
    im->alerts->add_listener([worker](const alerts::Alert&) { worker->wake(); });
    if (!ac.has_notifiers()) {
      spdlog::info(
          "alerts: no notifiers configured ([[alerts.areas]] webhook_url / phone): alerts are stored and "
          "shown in the API only");
    }
  }

  auto grid_store = grid::GridStore::open(config.tables_target());
  if (!grid_store.ok()) return Error::io(grid_store.error().message).at("grid");
  im->grid = std::move(grid_store).value();
  {
    alerts::AlertService* service = im->alerts.get();
    grid::AlertSink sink{[service](const alerts::NewAlert& a) { return service->raise(a); },
                         [service](const std::string& key, int64_t t_ms) { service->clear(key, t_ms); }};
    im->analysis =
        std::make_unique<grid::TheftAnalysisService>(config.theft, *im->store, *im->grid, std::move(sink), im->now_ms);
    im->grid_routes = std::make_unique<api::GridRoutes>(
        api::GridRoutesDeps{im->grid.get(), im->analysis.get(), im->store.get(), im->now_ms});
  }

  im->publisher = std::make_unique<api::LivePublisher>(im->hub);
  ingest::IngestConfig ic = ingest_config(config, mqtt_password, im->now_ms);
  ic.journal_dir = (std::filesystem::path(config.storage.data_dir) / "ingest-journal").string();
  if (config.mqtt.sign_commands) {
    auto key = ingest::load_or_create_command_key(std::filesystem::path(config.storage.data_dir) /
                                                  ingest::kCommandKeyFileName);
    if (!key.ok()) {
      Error e = std::move(key).error();
      e.field = "mqtt.sign_commands";
      return e;
    }
    ic.command_master_key = key.value();
  }
  im->ingest = std::make_unique<ingest::IngestService>(std::move(ic), *im->store);
  im->ingest->add_observer(im->publisher.get());
  im->ingest_alerts = std::make_unique<alerts::IngestAlerts>(*im->alerts, *im->store, config.alerts.offline_alerts);
  im->ingest->add_observer(im->ingest_alerts.get());
  im->policy = std::make_unique<alerts::PreventionPolicy>(*im->alerts, *im->ingest, *im->store, config.alerts);
  im->policy->attach();
  const auto detach_alerts = [raw = im.get()] {
    raw->policy->detach();
    raw->ingest->remove_observer(raw->ingest_alerts.get());
    raw->ingest_alerts->stop();
  };
  if (auto started = im->ingest->start(); !started.ok()) {
    im->ingest->remove_observer(im->publisher.get());
    detach_alerts();
    return Error::unavailable(started.error().message).at("ingest");
  }
  {
    auto keys = ingest::DeviceKeys::open(db_path);
    if (!keys.ok()) return Error::io(keys.error().message).at("device keys");
    im->device_keys = std::move(keys).value();
  }
  if (config.blynk.enabled) {
    im->blynk = std::make_unique<blynk::BlynkServer>(config.blynk, *im->ingest, *im->device_keys, im->now_ms);
    if (auto started = im->blynk->start(); !started.ok()) {
      im->ingest->remove_observer(im->publisher.get());
      detach_alerts();
      im->ingest->stop();
      return std::move(started).error();
    }
  }
  im->delivery->start();
  {
    auto account_store = accounts::AccountStore::open(db_path);
    if (!account_store.ok()) return Error::io(account_store.error().message).at("accounts");
    im->account_store = std::move(account_store).value();
    const auto& ac = config.alerts;
    im->notice_outbox = std::make_unique<accounts::NoticeOutbox>(*im->account_store, im->now_ms);
    im->notice_sender = std::make_unique<notify::OutboxWorker>(
        *im->notice_outbox, make_notifiers(ac, accounts::kNoticeSmsTemplate),
        notify::OutboxOptions{ac.max_attempts, int64_t{ac.retry_base_s} * 1000, int64_t{ac.retry_max_s} * 1000, 1000});
    accounts::AccountServiceDeps ad;
    ad.store = im->store.get();
    ad.accounts = im->account_store.get();
    ad.billing = config.billing;
    ad.prepaid = config.prepaid;
    ad.now_ms = im->now_ms;
    ingest::IngestService* ingest = im->ingest.get();
    // Prepaid switching goes through the same audited command path as an operator's.
    ad.relay = [ingest](const std::string& meter, protocol::CommandKind kind,
                        const std::string& why) -> Expected<std::string> {
      ingest::CommandRequest request;
      request.meter_id = meter;
      request.kind = kind;
      request.requested_by = "prepaid";
      request.reason = why;
      auto sent = ingest->send_command(request);
      if (!sent.ok()) return std::move(sent).error();
      return sent->id;
    };
    notify::OutboxWorker* sender = im->notice_sender.get();
    ad.notice = [sender] { sender->wake(); };
    im->accounts = std::make_unique<accounts::AccountService>(std::move(ad));
    im->notice_sender->start();
    if (config.billing.enabled()) {
      spdlog::info("billing: {} tariff version(s); bills, notices and prepaid credit every {} s",
                   config.billing.tariffs.versions.size(), config.billing.update_interval_s);
    }
  }
  im->enrolment =
      std::make_unique<ingest::Enrolment>(*im->store, *im->device_keys,
                                          broker_control(config, std::move(options.broker_reload)), im->now_ms);
  if (config.homeassistant.enabled) {
    if (auto started = im->start_homeassistant(mqtt_password); !started.ok()) {
      im->ingest->remove_observer(im->publisher.get());
      detach_alerts();
      im->ingest->stop();
      return std::move(started).error().at("homeassistant");
    }
  }
  im->alert_routes =
      std::make_unique<api::AlertRoutes>(api::AlertRoutesDeps{im->alerts.get(), im->store.get(), im->now_ms});

  api::ApiDeps deps;
  deps.store = im->store.get();
  deps.ingest = im->ingest.get();
  deps.auth = im->auth.get();
  deps.hub = &im->hub;
  deps.auth_config = config.auth;
  deps.static_dir = config.resolved_static_dir();
  deps.default_period_s = config.ingest.period_s;
  deps.now_ms = im->now_ms;
  deps.extra_route = std::move(options.extra_route);
  if (im->blynk) deps.outside_route = blynk_http_route(*im->blynk);
  deps.alerts = im->alert_routes.get();
  deps.grid = im->grid_routes.get();
  deps.accounts = im->accounts.get();
  deps.accounts_store = im->account_store.get();
  deps.enrolment = im->enrolment.get();
  deps.device_keys = im->device_keys.get();
  deps.emoncms = config.emoncms;
  deps.connect.mqtt_port = config.mqtt.port;
  if (config.emoncms.enabled) deps.connect.emoncms_path = config.emoncms.prefix.empty() ? "/" : config.emoncms.prefix;
  if (im->blynk) {
    deps.connect.blynk_port = im->blynk->port();
    deps.connect.blynk_tls_port = im->blynk->tls_port();
  }
  Impl* raw = im.get();
  deps.open_connections = [raw] { return raw->http ? raw->http->open_connections() : 0; };
  deps.http_requests = [raw] { return raw->http ? raw->http->request_counts() : std::vector<api::HttpRequestCount>{}; };
  deps.metrics_per_meter = config.metrics.per_meter;
  deps.metrics_sources = im->metrics_sources();
  im->handler = std::make_unique<api::ApiHandler>(std::move(deps));
  api::ApiHandler* handler = im->handler.get();
  im->http = std::make_unique<api::HttpServer>(
      http_options(config), [handler](const api::HttpRequest& r) { return handler->handle(r); },
      [handler](const api::HttpRequest& r) { return handler->upgrade(r); }, im->hub);
  im->http->set_header_check([handler](const api::HttpRequest& r) { return handler->check_header(r); });
  if (auto started = im->http->start(); !started.ok()) {
    if (im->blynk) im->blynk->stop();
    im->ingest->remove_observer(im->publisher.get());
    detach_alerts();
    im->ingest->stop();
    im->delivery->stop();
    im->notice_sender->stop();
    return std::move(started).error().at("http");
  }
  if (auto started = im->start_metrics_listener(); !started.ok()) {
    im->http->stop();
    if (im->ha) im->ha->stop();
    im->ingest->remove_observer(im->publisher.get());
    detach_alerts();
    im->ingest->stop();
    im->delivery->stop();
    im->notice_sender->stop();
    return std::move(started).error();
  }
  im->maintenance = std::thread([raw] { raw->run_maintenance(); });
  if (config.theft.enabled) im->analysis->start();
  im->accounts->start();

  std::unique_ptr<Server> server(new Server(std::move(im)));
  spdlog::info("wattguard serve: API on {} (data {}, broker {}:{}{}, web UI from {})", server->url(), db_path,
               config.mqtt.host, config.mqtt.port, config.mqtt.tls ? " over TLS" : "", config.resolved_static_dir());
  if (server->auth().user_count() == 0 && !options.caller_adds_users) {
    // On PostgreSQL the users are in the database the config file names, not in the data directory.
    if (config.storage.backend == "postgresql") {
      spdlog::warn(
          "no users yet: create the first admin with `wattguard users add NAME --role admin --config FILE` "
          "(the config naming this PostgreSQL database)");
    } else {
      spdlog::warn("no users yet: create the first admin with `wattguard users add NAME --role admin --data {}`",
                   config.storage.data_dir);
    }
  }
  return server;
}

void Server::meters_changed() {
  impl_->ingest->reload_meters();
  impl_->handler->meters_changed();
}

void Server::stop() {
  Impl& im = *impl_;
  if (im.stopped) return;
  im.stopped = true;
  {
    std::lock_guard lock(im.maintenance_mutex);
    im.stopping = true;
  }
  im.maintenance_cv.notify_all();
  if (im.maintenance.joinable()) im.maintenance.join();
  im.analysis->stop();
  im.accounts->stop();
  im.notice_sender->stop();
  // No more live messages first: the hub must not post into a network layer being torn down.
  im.ingest->remove_observer(im.publisher.get());
  if (im.metrics_http) im.metrics_http->stop();
  im.http->stop();
  if (im.ha) {
    im.ingest->remove_observer(im.ha.get());
    im.ha->stop();
  }
  if (im.blynk) im.blynk->stop();
  im.policy->detach();
  im.ingest->remove_observer(im.ingest_alerts.get());
  im.ingest->stop();
  im.ingest_alerts->stop();
  im.delivery->stop();
  spdlog::info("wattguard serve: stopped");
}

uint16_t Server::http_port() const { return impl_->http->port(); }

uint16_t Server::metrics_port() const { return impl_->metrics_http ? impl_->metrics_http->port() : 0; }

std::string Server::url() const {
  std::string host = impl_->config.http.bind;
  if (host == "0.0.0.0" || host == "::") host = "127.0.0.1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return std::string(impl_->http->https() ? "https://" : "http://") + host + ":" + std::to_string(http_port());
}

const ServerConfig& Server::config() const { return impl_->config; }
storage::ReadingStore& Server::store() { return *impl_->store; }
ingest::IngestService& Server::ingest() { return *impl_->ingest; }
api::AuthStore& Server::auth() { return *impl_->auth; }
api::LiveHub& Server::hub() { return impl_->hub; }
alerts::AlertService& Server::alerts() { return *impl_->alerts; }
grid::GridStore& Server::grid() { return *impl_->grid; }
accounts::AccountService& Server::accounts() { return *impl_->accounts; }
grid::TheftAnalysisService& Server::theft_analysis() { return *impl_->analysis; }
ingest::DeviceKeys& Server::device_keys() { return *impl_->device_keys; }
blynk::BlynkServer* Server::blynk() { return impl_->blynk.get(); }

int run_server(const ServerConfig& config, std::stop_token stop, ServerOptions options) {
  auto started = Server::start(config, std::move(options));
  if (!started.ok()) {
    spdlog::error("wattguard serve: cannot start: {}", config_error_text(started.error()));
    return 1;
  }
  std::unique_ptr<Server> server = std::move(started).value();
  std::mutex mutex;
  std::condition_variable_any cv;
  std::unique_lock lock(mutex);
  cv.wait(lock, stop, [] { return false; });
  spdlog::info("wattguard serve: stopping");
  server->stop();
  return 0;
}

void apply_log_level(const ServerConfig& config) { spdlog::set_level(spdlog::level::from_str(config.log.level)); }

}  // namespace wattguard::serve
