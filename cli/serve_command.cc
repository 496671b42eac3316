// `wattguard serve`: the head-end server (MQTT ingest, storage, HTTP/WebSocket API, web UI).
#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <optional>
#include <string>

#include "cli/command_registry.h"
#include "cli/config_file.h"
#include "wattguard/billing/tariff_toml.h"
#include "wattguard/serve/server.h"
#include "wattguard/serve/server_config.h"

namespace wattguard::cli {
namespace {

struct ServeArgs {
  std::string config_file;
  std::optional<std::string> data_dir;
  std::optional<std::string> http_bind;
  std::optional<int> http_port;
  std::optional<int> threads;
  std::optional<std::string> static_dir;
  std::optional<std::string> mqtt_host;
  std::optional<int> mqtt_port;
  std::optional<std::string> log_level;
  std::optional<std::string> tariff_file;
  bool check_only = false;
};

// The config file (or the defaults) with the command-line overrides applied and checked.
Expected<serve::ServerConfig> resolve_config(const ServeArgs& a) {
  auto loaded = load_config_option(a.config_file);
  if (!loaded.ok()) return loaded.error();
  serve::ServerConfig config = std::move(loaded).value();
  if (a.data_dir) config.storage.data_dir = *a.data_dir;
  if (a.http_bind) config.http.bind = *a.http_bind;
  if (a.http_port) config.http.port = static_cast<uint16_t>(*a.http_port);
  if (a.threads) config.http.threads = *a.threads;
  if (a.static_dir) config.http.static_dir = *a.static_dir;
  if (a.mqtt_host) config.mqtt.host = *a.mqtt_host;
  if (a.mqtt_port) config.mqtt.port = static_cast<uint16_t>(*a.mqtt_port);
  if (a.log_level) config.log.level = *a.log_level;
  if (a.tariff_file) {
    // Replaces the config's tariffs: one source of tariffs at a time, as billing.tariff_file is.
    auto book = billing::read_tariff_file(*a.tariff_file);
    if (!book.ok()) return as_bad_input(book.error(), serve::config_error_text(book.error()));
    config.billing.tariffs = std::move(book).value();
    config.billing.tariff_file = *a.tariff_file;
  }
  if (const auto valid = serve::validate_config(config); !valid.ok()) {
    return as_bad_input(valid.error(), serve::config_error_text(valid.error()) +
                                           (a.config_file.empty() ? "" : " (after command-line options)"));
  }
  return config;
}

// The exit status: 0 after a clean stop, 1 when the server could not start (it has logged why).
Expected<int> run_serve(const ServeArgs& args) {
  const auto resolved = resolve_config(args);
  if (!resolved.ok()) return resolved.error();
  const serve::ServerConfig& config = resolved.value();
  serve::apply_log_level(config);
  if (args.check_only) {
    std::printf("configuration OK: http %s:%u, broker %s:%u, database %s, %zu tariff version(s)\n",
                config.http.bind.c_str(), config.http.port, config.mqtt.host.c_str(), config.mqtt.port,
                config.database_path().c_str(), config.billing.tariffs.versions.size());
    return 0;
  }
  // Block the stop signals before any thread starts, so every thread inherits the mask and only
  // the sigwait() below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = serve::Server::start(config);
  if (!server.ok()) {
    // Logged in the server's own format (and log sink), so no "wattguard:" line repeats it.
    spdlog::error("cannot start: {}", serve::config_error_text(server.error()));
    return kExitFailure;
  }
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  spdlog::info("received {}, shutting down", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  (*server)->stop();
  return 0;
}

void add_serve_command(CLI::App& app) {
  auto args = std::make_shared<ServeArgs>();
  auto* serve = app.add_subcommand(
      "serve",
      "Run the head-end server: subscribe to the meters over MQTT, store every reading (SQLite), serve the "
      "REST/WebSocket API and the web UI. With no options: data in ./data, broker localhost:1883, "
      "http://127.0.0.1:8080. Settings: docs/configuration.md; API: docs/api.md.");
  serve->add_option("--config", args->config_file, "TOML configuration file (see wattguard.example.toml)")
      ->check(CLI::ExistingFile);
  serve->add_option("--data", args->data_dir, "data directory (storage.data_dir)");
  serve->add_option("--http-bind", args->http_bind, "address to listen on (http.bind)");
  serve->add_option("--http-port", args->http_port, "HTTP port, 0 = any free port (http.port)")
      ->check(CLI::Range(0, 65535));
  serve->add_option("--threads", args->threads, "HTTP I/O threads (http.threads)")->check(CLI::Range(1, 64));
  serve->add_option("--static-dir", args->static_dir, "built web UI directory (http.static_dir)");
  serve->add_option("--mqtt-host", args->mqtt_host, "MQTT broker host (mqtt.host)");
  serve->add_option("--mqtt-port", args->mqtt_port, "MQTT broker port (mqtt.port)")->check(CLI::Range(1, 65535));
  serve->add_option("--log-level", args->log_level, "trace, debug, info, warn, error or off (log.level)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  serve->add_option("--tariff", args->tariff_file,
                    "tariff file ([[tariff]] tables, docs/billing.md) instead of the config's tariffs");
  serve->add_flag("--check-config", args->check_only, "check the configuration and exit");
  serve->callback([args] { finish(run_serve(*args)); });
}

const bool kRegistered = register_commands("serve", &add_serve_command);

}  // namespace
}  // namespace wattguard::cli
