// `wattguard fleet`: run virtual meters (simulated households -> real metrology core) against a broker.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <csignal>
#include <memory>
#include <sstream>
#include <string>

#include "cli/command_registry.h"
#include "cli/fleet_options_cli.h"
#include "wattguard/fleet/fleet.h"
#include "wattguard/fleet/fleet_options.h"
#include "wattguard/fleet/stop_signals.h"
#include "wattguard/tls/mqtt_client_tls.h"

namespace wattguard::cli {
namespace {

struct FleetArgs {
  std::size_t meters = 10;
  double period_s = 5;
  std::string broker = "127.0.0.1:1883";  // or a cluster's nodes, comma-separated
  std::string mqtt_version = "5";
  std::string tls_ca;  // set: MQTT over TLS, the broker verified against this file
  bool tls_insecure = false;
  std::string credentials;
  std::string state;
  uint64_t seed = 1;
  double thieves = 0.0;
  std::string theft_kinds;
  double theft_onset_min_s = 60, theft_onset_max_s = 600;
  std::string fidelity = "auto";
  uint32_t sample_rate_hz = 0;
  double speed = 1.0;
  std::string transport = "per-meter";
  int gateway_connections = 0;  // 0: one per gateway login in the credentials
  int threads = 2;
  std::string id_prefix = "m";
  std::size_t first = 1;
  std::size_t id_width = 5;
  double duration_s = 0;
  double status_every_s = 10;
};

Expected<void> run_fleet(const FleetArgs& a) {
  using namespace wattguard::fleet;
  FleetConfig c;
  c.meters = a.meters;
  if (a.period_s < 1 || a.period_s > 3600 || a.period_s != static_cast<double>(static_cast<int>(a.period_s))) {
    const std::string period = std::to_string(a.period_s);
    return option_error("--period", period, period + " is not a whole number of seconds in 1..3600");
  }
  c.period_ms = static_cast<uint32_t>(a.period_s * 1000);
  std::stringstream nodes(a.broker);
  for (std::string node; std::getline(nodes, node, ',');) {
    const auto address = parse_broker_address(node);
    if (!address || node.empty()) {
      return option_error("--broker", a.broker, "'" + node + "' is not host:port with a port in 1..65535");
    }
    c.broker_nodes.push_back(BrokerNode{address->host, address->port});
  }
  if (c.broker_nodes.empty()) return option_error("--broker", a.broker, "names no broker");
  c.broker_host = c.broker_nodes.front().host;
  c.broker_port = c.broker_nodes.front().port;
  const auto version = mqtt_version_from_name(a.mqtt_version);
  if (!version) return option_error("--mqtt-version", a.mqtt_version, "'" + a.mqtt_version + "' is not 3.1.1 or 5");
  c.mqtt_version = *version;
  c.tls = {!a.tls_ca.empty(), a.tls_ca, a.tls_insecure};
  if (a.tls_insecure && a.tls_ca.empty()) return option_error("--tls-insecure", "", "goes with --tls-ca");
  if (auto ca = tls::check_mqtt_client_tls(c.tls, "--tls-ca"); !ca.ok()) return as_bad_input(ca.error());
  const auto transport = transport_option(a.transport);
  if (!transport.ok()) return transport.error();
  c.transport = transport.value();
  c.gateway_connections = a.gateway_connections;
  if (a.credentials.empty()) {
    return option_error("--credentials", "", "required (the file `wattguard meters provision` writes)");
  }
  auto creds = load_credentials(a.credentials);
  // A file that cannot be read is the user's --credentials too (exit 2).
  if (!creds.ok()) return as_bad_input(creds.error(), "--credentials: " + creds.error().to_string());
  c.credentials = std::move(creds).value();
  if (a.gateway_connections == 0)
    c.gateway_connections = std::max<int>(1, static_cast<int>(c.credentials.gateways.size()));
  c.state_dir = a.state;
  c.seed = a.seed;
  c.thieves.fraction = a.thieves;
  c.thieves.onset_min_s = a.theft_onset_min_s;
  c.thieves.onset_max_s = a.theft_onset_max_s;
  auto kinds = theft_kinds_option(a.theft_kinds);
  if (!kinds.ok()) return kinds.error();
  c.thieves.kinds = std::move(kinds).value();
  c.speed = a.speed;
  c.threads = a.threads;
  c.id_prefix = a.id_prefix;
  c.first_number = a.first;
  c.id_width = a.id_width;
  const auto chosen = fidelity_option(a.fidelity, a.meters, a.speed, a.sample_rate_hz);
  if (!chosen.ok()) return chosen.error();
  const FidelityChoice& choice = chosen.value();
  c.fidelity = choice.fidelity;
  c.sample_rate_hz = choice.sample_rate_hz;
  if (auto valid = check_fleet_config(c); !valid.ok()) return valid;

  use_stderr_logger();
  StopSignals signals;  // before any thread starts
  auto created = Fleet::create(c);
  // Missing logins or too many meters for per-meter sockets: the options are at fault (exit 2).
  if (!created.ok()) return as_bad_input(created.error());
  auto fleet = std::move(created).value();
  spdlog::info("fleet: {}", choice.reason);
  spdlog::info("fleet: publishing to {}{} (MQTT {}){} as {}; Ctrl-C stops cleanly", a.broker,
               c.broker_nodes.size() > 1 ? " (meter i to node i mod N, failing over to the next)" : "",
               mqtt_version_name(c.mqtt_version), c.tls.enabled ? " over TLS" : "",
               c.transport == Transport::kGateway ? "a gateway" : "one client per meter");
  fleet->start();
  const auto started = std::chrono::steady_clock::now();
  auto next_status = started + std::chrono::milliseconds(static_cast<int64_t>(a.status_every_s * 1000));
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (a.duration_s > 0 && now - started >= std::chrono::duration<double>(a.duration_s)) {
      spdlog::info("fleet: --duration reached");
      break;
    }
    if (now >= next_status) {
      spdlog::info("fleet: {}", describe_stats(fleet->stats(), a.meters));
      next_status += std::chrono::milliseconds(static_cast<int64_t>(a.status_every_s * 1000));
    }
    const int sig = signals.wait(std::chrono::milliseconds(200));
    if (sig != 0) {
      spdlog::info("fleet: {} received, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
      break;
    }
  }
  fleet->stop(3000);
  spdlog::info("fleet: stopped; {}", describe_stats(fleet->stats(), a.meters));
  return {};
}

void add_fleet_commands(CLI::App& app) {
  auto a = std::make_shared<FleetArgs>();
  auto* cmd = app.add_subcommand(
      "fleet",
      "Run virtual meters: seeded simulated households behind simulated sensors, measured by the real metrology "
      "core, publishing readings, tamper events and command acks over MQTT, with store-and-forward");
  cmd->add_option("--meters", a->meters, "Number of meters")->check(CLI::Range(1, 1000000));
  cmd->add_option("--period", a->period_s, "Report period, whole seconds (1..3600)");
  cmd->add_option("--broker", a->broker,
                  "MQTT broker host:port (the TLS listener's port with --tls-ca), or a cluster's nodes as "
                  "host:port,host:port,...: meter i connects to node i mod N and fails over to the next");
  cmd->add_option("--mqtt-version", a->mqtt_version,
                  "MQTT version the meters speak: 5 (default; a PUBACK 0x10 'no subscriber' keeps the reading) "
                  "or 3.1.1 (for brokers without MQTT 5, e.g. NATS 2.9)");
  cmd->add_option("--tls-ca", a->tls_ca,
                  "MQTT over TLS: PEM CA file (or the broker's self-signed certificate) that the broker's "
                  "certificate must chain to; a broker that fails is never sent a login");
  cmd->add_flag("--tls-insecure", a->tls_insecure,
                "With --tls-ca: skip only the host-name check (the chain is still verified)");
  cmd->add_option("--credentials", a->credentials,
                  "Credentials CSV (meter_id,username,password; a '*' line is the gateway login)");
  cmd->add_option("--state", a->state,
                  "State directory: journal of queued readings, sequence numbers and registers (survives restarts); "
                  "without it queues are kept in memory only");
  cmd->add_option("--seed", a->seed, "Seed for households, meter noise and thieves");
  cmd->add_option("--thieves", a->thieves, "Fraction of meters that steal (0..1)")->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--theft-kinds", a->theft_kinds,
                  "Comma-separated theft kinds to use (default all: bypass, earth_return, voltage_link, reversed_ct, "
                  "magnet, register_reset, offline)");
  cmd->add_option("--theft-onset-min", a->theft_onset_min_s, "Earliest theft start, seconds after a meter starts");
  cmd->add_option("--theft-onset-max", a->theft_onset_max_s, "Latest theft start, seconds after a meter starts");
  cmd->add_option("--fidelity", a->fidelity,
                  "samples: simulator ADC samples through the metrology core; fast: readings from the households' "
                  "exact load plus measurement noise (for tens of thousands of meters); auto: samples while the CPU "
                  "budget allows (4 kHz, then 1 kHz), else fast");
  cmd->add_option("--sample-rate", a->sample_rate_hz, "Sample rate for the samples fidelity, Hz (1000..20000)");
  cmd->add_option("--speed", a->speed, "Virtual seconds per real second (tests, demos)")
      ->check(CLI::Range(0.01, 10000.0));
  cmd->add_option("--transport", a->transport,
                  "per-meter: one MQTT client per meter with its own login and last will; gateway: a few "
                  "connections with the gateway login (beyond the file-descriptor limit)");
  cmd->add_option("--gateway-connections", a->gateway_connections,
                  "Connections for the gateway transport, each with its own gateway login (default: one per '*' "
                  "line of --credentials)");
  cmd->add_option("--threads", a->threads, "Event-loop threads")->check(CLI::Range(1, 64));
  cmd->add_option("--id-prefix", a->id_prefix, "Meter ids are this prefix + a zero-padded number");
  cmd->add_option("--first", a->first, "Number of the first meter");
  cmd->add_option("--id-width", a->id_width, "Digits of the meter number");
  cmd->add_option("--duration", a->duration_s, "Stop after this many seconds (default: until Ctrl-C)");
  cmd->add_option("--status-every", a->status_every_s, "Seconds between status lines")->check(CLI::Range(0.5, 3600.0));
  cmd->callback([a] { finish(run_fleet(*a)); });
}

const bool kRegistered = register_commands("fleet", &add_fleet_commands);

}  // namespace
}  // namespace wattguard::cli
