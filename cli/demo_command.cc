// `wattguard demo`: a private broker, the server and a fleet of virtual meters (a few of them
// thieves) in one process, with a printed URL and operator login; Ctrl-C or --duration stops it all.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "cli/command_registry.h"
#include "cli/fleet_options_cli.h"
#include "wattguard/base/clock.h"
#include "wattguard/demo/demo_blynk.h"
#include "wattguard/demo/demo_grid.h"
#include "wattguard/demo/local_system.h"
#include "wattguard/fleet/fleet.h"
#include "wattguard/fleet/fleet_options.h"
#include "wattguard/fleet/stop_signals.h"

namespace wattguard::cli {
namespace {

struct DemoArgs {
  std::size_t meters = 50;
  int period_s = 5;
  int http_port = 8080;
  int mqtt_port = 0;
  int mqtt_tls_port = 0;
  bool mqtt_plain = false;  // the server and the fleet on the plain listener (the TLS one still runs)
  bool http_plain = false;  // the dashboard and API over plain HTTP instead of HTTPS
  std::string data = "./data";
  double duration_s = 0;
  std::string api_token;
  uint64_t seed = 1;
  double thieves = 0.1;
  std::string theft_kinds = "bypass,earth_return,voltage_link,reversed_ct,magnet,register_reset";
  std::string fidelity = "auto";
  double speed = 1.0;
  std::string transport = "per-meter";
  double status_every_s = 60;
  int grid_transformers = 2;
  int grid_consumers = 40;
  int grid_days = 28;
  int blynk_port = 0;  // 0: no Blynk listener
};

Expected<void> run_demo(const DemoArgs& a) {
  using namespace wattguard::fleet;
  using namespace wattguard::demo;
  LocalSystemOptions o;
  o.data_dir = a.data;
  o.http_port = static_cast<uint16_t>(a.http_port);
  o.mqtt_port = static_cast<uint16_t>(a.mqtt_port);
  o.mqtt_tls_port = static_cast<uint16_t>(a.mqtt_tls_port);
  o.mqtt_tls = a.mqtt_plain ? MqttTlsUse::kListener : MqttTlsUse::kClients;
  o.https = !a.http_plain;
  if (a.mqtt_port != 0 && a.mqtt_port == a.mqtt_tls_port) {
    return option_error("--mqtt-tls-port", std::to_string(a.mqtt_tls_port), "must differ from --mqtt-port");
  }
  if (!a.api_token.empty()) {
    // The token is a secret: the Error names its length only.
    if (a.api_token.size() < 16) {
      return option_error("--api-token", "", "at least 16 characters, got " + std::to_string(a.api_token.size()));
    }
    o.api_token = a.api_token;
  }
  FleetConfig& c = o.fleet;
  c.meters = a.meters;
  c.period_ms = static_cast<uint32_t>(a.period_s) * 1000u;
  c.seed = a.seed;
  c.thieves.fraction = a.thieves;
  auto kinds = theft_kinds_option(a.theft_kinds);
  if (!kinds.ok()) return kinds.error();
  c.thieves.kinds = std::move(kinds).value();
  c.speed = a.speed;
  const auto transport = transport_option(a.transport);
  if (!transport.ok()) return transport.error();
  c.transport = transport.value();
  const auto chosen = fidelity_option(a.fidelity, a.meters, a.speed);
  if (!chosen.ok()) return chosen.error();
  const FidelityChoice& choice = chosen.value();
  c.fidelity = choice.fidelity;
  c.sample_rate_hz = choice.sample_rate_hz;
  if (c.transport == Transport::kPerMeter && a.meters > 15000) {
    return option_error("--meters", std::to_string(a.meters),
                        std::to_string(a.meters) +
                            " meters with their own connections exceed the broker's file-descriptor limit; add "
                            "--transport gateway");
  }
  {
    FleetConfig probe = c;
    for (int g = 0; g < probe.gateway_connections; ++g) {
      probe.credentials.gateways.push_back(BrokerLogin{"x" + std::to_string(g), "y", std::nullopt});
    }
    probe.transport = Transport::kGateway;
    if (auto valid = check_fleet_config(probe); !valid.ok()) return valid;
  }

  // The grid history must lie inside what the analysis re-reads from the store.
  const int grid_days = a.grid_days;
  const int blynk_port = a.blynk_port;
  o.configure_server = [grid_days, blynk_port](serve::ServerConfig& config) {
    config.theft.history_days = std::max(config.theft.history_days, grid_days);
    if (blynk_port != 0) {
      // Every address: the point is a real ESP32 on the network.
      config.blynk.enabled = true;
      config.blynk.bind = "0.0.0.0";
      config.blynk.port = static_cast<uint16_t>(blynk_port);
    }
  };

  o.start_fleet = false;  // after the grid: a client that sees every live meter reporting sees the grid too

  use_stderr_logger();
  StopSignals signals;  // before any thread starts
  spdlog::info("demo: {}", choice.reason);
  auto started = LocalSystem::start(o);
  // Everything the user typed is checked above: a system that does not start is a failure (exit 1).
  if (!started.ok()) return as_failure(started.error(), "demo: " + started.error().message);
  auto sys = std::move(started).value();
  DemoGridOptions grid_options;
  grid_options.transformers = a.grid_transformers;
  grid_options.consumers = a.grid_consumers;
  grid_options.days = grid_days;
  grid_options.seed = a.seed;
  grid_options.files_dir = std::filesystem::path(a.data) / "grid-demo";
  if (a.grid_transformers > 0) spdlog::info("demo: simulating {} days of a grid's history", grid_days);
  auto grid = seed_demo_grid(sys->server(), grid_options, system_now_ms());
  if (!grid.ok()) return as_failure(grid.error());
  std::optional<DemoBlynkMeter> blynk_meter;
  if (a.blynk_port != 0) {
    auto enrolled = enrol_demo_blynk_meter(sys->server(), system_now_ms());
    if (!enrolled.ok()) return as_failure(enrolled.error(), "demo: the Blynk meter: " + enrolled.error().message);
    blynk_meter = std::move(enrolled).value();
  }
  sys->fleet().start();
  const std::string static_dir = sys->server().config().resolved_static_dir();
  const bool has_ui = std::filesystem::exists(std::filesystem::path(static_dir) / "index.html");
  std::printf("\nwattguard demo is running\n");
  std::printf("  web UI     %s%s\n", sys->url().c_str(),
              has_ui ? "" : "   (web UI not built: run `make build`; the API works)");
  if (o.https) {
    std::printf(
        "             self-signed certificate %s (the browser warns: accept it when the\n"
        "             SHA-256 it shows is %s)\n",
        sys->http_certificate_file().c_str(), sys->http_certificate_fingerprint().c_str());
  } else {
    std::printf("             plain HTTP (--http-plain): passwords and cookies travel unencrypted\n");
  }
  std::printf("  sign in    %s / %s   (operator)\n", o.operator_name.c_str(), sys->operator_password().c_str());
  if (o.api_token) std::printf("  API token  the one given with --api-token (admin): Authorization: Bearer ...\n");
  std::printf("  meters     %zu virtual meters, %.0f%% thieves, a reading every %d s (%s)\n", a.meters,
              100.0 * a.thieves, a.period_s, choice.fidelity == Fidelity::kFast ? "fast fidelity" : "samples fidelity");
  if (grid->seeded) {
    size_t alerting = 0, flagged = 0;
    for (const auto& st : sys->server().theft_analysis().statuses()) {
      alerting += st.alert ? 1 : 0;
      for (const auto& s : st.suspects) flagged += s.flagged ? 1 : 0;
    }
    std::printf(
        "  grid       %zu transformers with check meters (area %s), %zu households, %d days of history;\n"
        "             %zu of them steal (truth in %s); analysis: %zu transformer(s) alerting, %zu suspect(s) flagged\n",
        grid->transformers, grid_options.area.c_str(), grid->consumers, grid_days, grid->thieves.size(),
        grid->thieves_csv.c_str(), alerting, flagged);
  } else if (a.grid_transformers > 0) {
    std::printf("  grid       the store already has a topology: kept as it is\n");
  }
  if (blynk_meter)
    std::printf("%s", demo_blynk_instructions(*blynk_meter, static_cast<uint16_t>(a.blynk_port)).c_str());
  std::printf("  broker     127.0.0.1:%u plain MQTT%s (Mosquitto, files in %s)\n", sys->broker().port(),
              a.mqtt_plain ? ": the server and the meters (--mqtt-plain)" : "", sys->broker().dir().c_str());
  std::printf("  mqtt tls   127.0.0.1:%u MQTT over TLS%s\n", sys->broker().tls_port(),
              a.mqtt_plain ? "" : ": the server and the meters, verifying it");
  std::printf("             certificate %s (a meter's CA file)\n", sys->mqtt_certificate_file().c_str());
  std::printf("             SHA-256 %s\n", sys->mqtt_certificate_fingerprint().c_str());
  std::printf("  data       %s\n", std::filesystem::absolute(a.data).c_str());
  std::printf("Stop with Ctrl-C%s.\n\n", a.duration_s > 0 ? " (or wait for --duration)" : "");
  std::fflush(stdout);

  const auto t0 = std::chrono::steady_clock::now();
  auto next_status = t0 + std::chrono::duration<double>(a.status_every_s);
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (a.duration_s > 0 && now - t0 >= std::chrono::duration<double>(a.duration_s)) {
      spdlog::info("demo: --duration reached, stopping");
      break;
    }
    if (now >= next_status) {
      const auto h = sys->server().ingest().health();
      spdlog::info("demo: fleet {}; server stored {} readings, {} meters online",
                   describe_stats(sys->fleet().stats(), a.meters), h.readings_stored, h.meters_online);
      next_status += std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::duration<double>(a.status_every_s));
    }
    const int sig = signals.wait(std::chrono::milliseconds(200));
    if (sig != 0) {
      spdlog::info("demo: {} received, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
      break;
    }
  }
  sys->stop();
  spdlog::info("demo: stopped");
  return {};
}

void add_demo_command(CLI::App& app) {
  auto a = std::make_shared<DemoArgs>();
  auto* cmd = app.add_subcommand(
      "demo",
      "Run the whole system locally: a private Mosquitto (own config, credentials, ACL), the server (SQLite under "
      "--data, API and web UI) and virtual meters with a few thieves; prints the URL and an operator login");
  cmd->add_option("--meters", a->meters, "Virtual meters")->check(CLI::Range(1, 100000));
  cmd->add_option("--period", a->period_s, "Report period, seconds")->check(CLI::Range(1, 3600));
  cmd->add_option("--http-port", a->http_port, "Web UI and API port (0: a free one)")->check(CLI::Range(0, 65535));
  cmd->add_option("--blynk-port", a->blynk_port,
                  "Also accept Blynk sketches on this port (all addresses); prints a Blynk meter's token")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--mqtt-port", a->mqtt_port, "Broker port on 127.0.0.1 (0: a free one)")->check(CLI::Range(0, 65535));
  cmd->add_option("--mqtt-tls-port", a->mqtt_tls_port,
                  "Broker's MQTT-over-TLS port on 127.0.0.1 (0: a free one); its self-signed certificate is made once "
                  "in <data>/tls/mqtt-cert.pem")
      ->check(CLI::Range(0, 65535));
  cmd->add_flag(
      "--mqtt-plain", a->mqtt_plain,
      "The server and the virtual meters use the plain MQTT port instead of TLS (the TLS listener still runs)");
  cmd->add_flag("--http-plain", a->http_plain,
                "Serve the web UI and API over plain HTTP instead of HTTPS with the self-signed certificate made once "
                "in <data>/tls/http-cert.pem");
  cmd->add_option("--data", a->data, "Data directory (SQLite, broker files, fleet state)");
  cmd->add_option("--duration", a->duration_s, "Stop after this many seconds (default: until Ctrl-C)")
      ->check(CLI::Range(0.0, 1e9));
  cmd->add_option("--api-token", a->api_token,
                  "Add this admin API token (at least 16 characters), for scripts and tests");
  cmd->add_option("--seed", a->seed, "Seed for households, meter noise and thieves");
  cmd->add_option("--thieves", a->thieves, "Fraction of meters that steal")->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--theft-kinds", a->theft_kinds,
                  "Theft kinds used (default all but offline: bypass, earth_return, voltage_link, reversed_ct, magnet, "
                  "register_reset)");
  cmd->add_option("--fidelity", a->fidelity, "auto, samples or fast (see `wattguard fleet --help`)");
  cmd->add_option("--speed", a->speed, "Virtual seconds per real second")->check(CLI::Range(0.01, 10000.0));
  cmd->add_option("--transport", a->transport, "per-meter (default) or gateway (see `wattguard fleet --help`)");
  cmd->add_option("--status-every", a->status_every_s, "Seconds between status lines")->check(CLI::Range(1.0, 86400.0));
  cmd->add_option("--grid-transformers", a->grid_transformers,
                  "Simulated transformers with check meters and weeks of history, so the energy balance and "
                  "localisation have something to show at once (0: none; only into a store without a topology)")
      ->check(CLI::Range(0, 50));
  cmd->add_option("--grid-consumers", a->grid_consumers, "Households per simulated transformer")
      ->check(CLI::Range(1, 500));
  cmd->add_option("--grid-days", a->grid_days, "Days of simulated grid history (thefts start after day 16)")
      ->check(CLI::Range(24, 90));
  cmd->callback([a] { finish(run_demo(*a)); });
}

const bool kRegistered = register_commands("demo", &add_demo_command);

}  // namespace
}  // namespace wattguard::cli
