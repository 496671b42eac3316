// Starting broker, server and fleet together, with matching credentials, and stopping them in order.
#include "wattguard/demo/local_system.h"

#include <spdlog/spdlog.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "wattguard/api/request_target.h"
#include "wattguard/base/clock.h"
#include "wattguard/base/file_write.h"
#include "wattguard/demo/demo_accounts.h"
#include "wattguard/fleet/fd_limit.h"
#include "wattguard/ingest/command_key_file.h"
#include "wattguard/ingest/provisioning.h"
#include "wattguard/tls/certificate_files.h"

namespace wattguard::demo {

using broker::BrokerProcess;
using broker::BrokerSetup;
using broker::BrokerUser;
using fleet::BrokerLogin;
using fleet::CredentialSet;
using fleet::Fleet;
using fleet::fleet_meter_ids;
using fleet::FleetConfig;
using fleet::Transport;

// The fleet behind the demo's API route; cleared (under the lock) before the fleet stops.
struct LocalSystem::RouteTarget {
  std::mutex mutex;
  Fleet* fleet = nullptr;
};

namespace {

constexpr const char* kServerUser = "wattguard-server";
constexpr const char* kGatewayUser = "wattguard-gateway";

int64_t now_s() { return system_now_ms() / 1000; }

// `what` failed because of `cause`: the cause's kind, its message after a prefix naming the step.
Error failed(const std::string& what, Error cause) {
  cause.message = what + ": " + cause.message;
  return cause;
}

struct SelfSignedFiles {
  std::filesystem::path certificate;
  std::filesystem::path key;
  std::string fingerprint;
};

// <dir>/<stem>-cert.pem and -key.pem, made once for `common_name` and kept across runs: a meter that pinned the
// certificate, or a browser that accepted it, keeps trusting it.
Expected<SelfSignedFiles> demo_certificate(const std::filesystem::path& dir, const std::string& stem,
                                           const std::string& common_name) {
  SelfSignedFiles files{dir / (stem + "-cert.pem"), dir / (stem + "-key.pem"), ""};
  auto pair = tls::ensure_self_signed(files.certificate, files.key, tls::SelfSignedRequest{.common_name = common_name});
  if (!pair.ok()) return std::move(pair).error();
  auto fingerprint = tls::certificate_fingerprint(pair.value().pair.certificate_pem);
  if (!fingerprint.ok()) return std::move(fingerprint).error();
  files.fingerprint = std::move(fingerprint).value();
  return files;
}

// POST /api/v1/demo/meters/{id}/stop: powers one virtual meter off (the browser tests' offline case).
api::ExtraRoute demo_route(std::shared_ptr<LocalSystem::RouteTarget> target_fleet) {
  return [target_fleet](const api::HttpRequest& req, const api::RequestTarget& target,
                        const api::Caller& caller) -> std::optional<api::HttpResponse> {
    const auto seg = api::path_segments(target.path);
    if (seg.size() != 6 || seg[2] != "demo" || seg[3] != "meters" || seg[5] != "stop") return std::nullopt;
    if (req.method != "POST") return api::error_response(405, "method_not_allowed", "", "use POST");
    if (!caller.can_command()) return api::error_response(403, "forbidden", "", "operators and admins only");
    std::lock_guard lock(target_fleet->mutex);
    Fleet* f = target_fleet->fleet;
    if (!f || !f->stop_meter(seg[4])) return api::error_response(404, "not_found", "id", "no such virtual meter");
    return api::json_response(200, nlohmann::json{{"stopped", seg[4]}});
  };
}

}  // namespace

Expected<std::unique_ptr<LocalSystem>> LocalSystem::start(const LocalSystemOptions& options) {
  std::unique_ptr<LocalSystem> sys(new LocalSystem());
  sys->options_ = options;
  if (auto made = create_private_directories(options.data_dir); !made.ok()) {
    return Error::io("--data " + options.data_dir.string() + ": " + made.error().message);
  }
  const auto data = std::filesystem::absolute(options.data_dir);

  // Fresh broker credentials on every start: the server's, the gateway's and one per meter.
  FleetConfig fc = options.fleet;
  const std::vector<std::string> ids = fleet_meter_ids(fc);
  BrokerSetup setup;
  setup.dir = data / "broker";
  setup.port = options.mqtt_port;
  setup.server = {kServerUser, ingest::generate_password()};
  fc.credentials = CredentialSet{};
  // One broker user per gateway connection: the broker binds each client id to its user.
  std::vector<std::string> gateway_names;
  if (fc.transport == Transport::kGateway) {
    for (int g = 1; g <= fc.gateway_connections; ++g) {
      BrokerUser u{std::string(kGatewayUser) + "-" + std::to_string(g), ingest::generate_password()};
      fc.credentials.gateways.push_back(BrokerLogin{u.name, u.password, std::nullopt});
      gateway_names.push_back(u.name);
      setup.gateways.push_back(std::move(u));
    }
  }
  // The server signs commands with keys derived from the data directory's master key (the same file it reads);
  // each virtual meter gets its own, as `meters provision` hands a real one.
  auto master = ingest::load_or_create_command_key(data / ingest::kCommandKeyFileName);
  if (!master.ok()) return failed("command key", std::move(master).error());
  if (fc.transport == Transport::kPerMeter) {
    setup.meters.reserve(ids.size());
    for (const std::string& id : ids) {
      BrokerUser u{id, ingest::generate_password()};
      fc.credentials.meters[id] = BrokerLogin{u.name, u.password, protocol::derive_command_key(*master, id)};
      setup.meters.push_back(std::move(u));
    }
  }
  setup.hash_password = [](const std::string& pw) { return ingest::mosquitto_password_hash(pw); };
  setup.acl_text = ingest::acl_file_text(kServerUser, gateway_names);
  if (options.mqtt_tls != MqttTlsUse::kNone) {
    auto files = demo_certificate(data / "tls", "mqtt", "wattguard demo broker");
    if (!files.ok()) return failed("broker certificate", std::move(files).error());
    sys->mqtt_certificate_file_ = files->certificate;
    sys->mqtt_certificate_fingerprint_ = files->fingerprint;
    setup.tls = broker::BrokerTlsListener{options.mqtt_tls_port, files->certificate, files->key, {}};
  }
  const bool clients_over_tls = options.mqtt_tls == MqttTlsUse::kClients;
  const tls::MqttClientTls client_tls{clients_over_tls, sys->mqtt_certificate_file_.string(), false};
  fleet::raise_fd_limit();  // the broker inherits it: a socket per meter
  auto broker = BrokerProcess::start(setup);
  if (!broker.ok()) return failed("broker", std::move(broker).error());
  sys->broker_ = std::move(broker).value();

  // The server, in-process.
  serve::ServerConfig config;
  config.http.bind = options.http_bind;
  config.http.port = options.http_port;
  if (options.https) {
    auto files = demo_certificate(data / "tls", "http", "wattguard demo");
    if (!files.ok()) return failed("web server certificate", std::move(files).error());
    sys->http_certificate_file_ = files->certificate;
    sys->http_certificate_fingerprint_ = files->fingerprint;
    config.http.tls_cert_file = files->certificate.string();
    config.http.tls_key_file = files->key.string();
  }
  config.mqtt.host = "127.0.0.1";
  config.mqtt.port = clients_over_tls ? sys->broker_->tls_port() : sys->broker_->port();
  config.mqtt.tls = clients_over_tls;
  if (clients_over_tls) config.mqtt.ca_file = client_tls.ca_file;
  config.mqtt.username = kServerUser;
  config.mqtt.password = setup.server.password;
  config.storage.data_dir = data.string();
  config.ingest.period_s = static_cast<int>(fc.period_ms / 1000);
  config.auth.password_cost = options.password_cost;
  // One server: plain subscriptions. Mosquitto 2.0 does not restore shared ($share) subscriptions
  // from its persistence file, so after a broker restart readings that arrive before the server
  // has re-subscribed would have no subscriber and be lost; plain ones are restored with the session.
  config.mqtt.shared_group = "";
  // Meters added from the dashboard get their broker user at once.
  config.mqtt.broker_password_file = sys->broker_->password_file().string();
  config.mqtt.broker_acl_file = sys->broker_->acl_file().string();
  if (options.configure_server) options.configure_server(config);
  if (options.demo_accounts) {
    if (auto tariff = add_demo_tariff(config); !tariff.ok()) return std::move(tariff).error();
  }
  sys->route_fleet_ = std::make_shared<RouteTarget>();
  serve::ServerOptions server_options;
  server_options.extra_route = demo_route(sys->route_fleet_);
  server_options.caller_adds_users = options.create_operator;
  server_options.broker_reload = [broker = sys->broker_.get()]() -> Expected<void> {
    broker->reload();
    return {};
  };
  auto started = serve::Server::start(config, server_options);
  if (!started.ok()) return Error::unavailable("server: " + serve::config_error_text(started.error()));
  sys->server_ = std::move(started).value();

  // Register the fleet's meters that the store does not know yet (a data directory is reused
  // across demo runs), then let ingest see them.
  auto known = sys->server_->store().list_meters();
  if (!known.ok()) return Error::io("store: " + known.error().message);
  std::set<std::string> have;
  for (const auto& m : known.value()) have.insert(m.id);
  std::vector<storage::MeterInfo> missing;
  for (const std::string& id : ids) {
    if (have.count(id)) continue;
    storage::MeterInfo info;
    info.id = id;
    info.name = "Virtual meter " + id;
    info.area = "demo";
    missing.push_back(std::move(info));
  }
  if (!missing.empty()) {
    if (auto st = sys->server_->store().add_meters(missing); !st.ok())
      return Error::io("registering meters: " + st.error().message);
    sys->server_->meters_changed();
  }

  if (options.demo_accounts) {
    if (auto opened = open_demo_accounts(*sys->server_, ids); !opened.ok()) {
      spdlog::warn("demo: prepaid account not opened: {}", opened.error().message);
    }
  }

  // Users and tokens.
  api::AuthStore& auth = sys->server_->auth();
  const auto cost = api::password_cost_from_name(options.password_cost).value_or(api::PasswordCost::kInteractive);
  if (options.create_operator) {
    sys->operator_password_ = ingest::generate_password().substr(0, 16);
    if (auth.find_user(options.operator_name)) {
      auth.set_password(options.operator_name, sys->operator_password_, cost);
      auth.set_role(options.operator_name, api::Role::kOperator);
    } else {
      auto added = auth.add_user(options.operator_name, api::Role::kOperator, sys->operator_password_, cost, now_s());
      if (!added.ok())
        return Error::invalid("operator", options.operator_name, "operator user: " + added.error().message);
    }
  }
  if (options.api_token) {
    const auto existing = auth.find_token(*options.api_token);
    if (!existing || existing->scope != api::TokenScope::kAdmin) {
      auto added = auth.add_token(*options.api_token, api::TokenScope::kAdmin, "demo --api-token", now_s());
      if (!added.ok()) return Error::invalid("--api-token", "", "--api-token: " + added.error().message);
    }
  }

  // The fleet.
  fc.broker_host = "127.0.0.1";
  fc.broker_port = clients_over_tls ? sys->broker_->tls_port() : sys->broker_->port();
  fc.tls = client_tls;
  if (options.fleet_state && fc.state_dir.empty()) fc.state_dir = data / "fleet-state";
  if (!options.fleet_state) fc.state_dir.clear();
  auto fleet = Fleet::create(fc);
  if (!fleet.ok()) return failed("fleet", std::move(fleet).error());
  sys->fleet_ = std::move(fleet).value();
  {
    std::lock_guard lock(sys->route_fleet_->mutex);
    sys->route_fleet_->fleet = sys->fleet_.get();
  }
  if (options.start_fleet) sys->fleet_->start();
  return sys;
}

std::string LocalSystem::url() const { return server_ ? server_->url() : std::string(); }

void LocalSystem::stop(int fleet_drain_ms) {
  if (stopped_) return;
  stopped_ = true;
  if (route_fleet_) {
    std::lock_guard lock(route_fleet_->mutex);
    route_fleet_->fleet = nullptr;
  }
  // The server goes first: it must not watch the simulated world end and raise an offline alert for
  // every meter. The meters' last readings and their clean "offline" statuses wait in the broker
  // (persistent session, retained), and a server started on the same data later takes them in.
  if (server_) server_->stop();
  if (fleet_) fleet_->stop(fleet_drain_ms);
  if (broker_) broker_->stop();
}

LocalSystem::~LocalSystem() { stop(); }

}  // namespace wattguard::demo
