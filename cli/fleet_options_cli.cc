// Option handling shared by the fleet-running commands (see fleet_options_cli.h).
#include "cli/fleet_options_cli.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/command_registry.h"

namespace wattguard::cli {

void use_stderr_logger() {
  if (!spdlog::get("wattguard")) {
    auto logger = spdlog::stderr_color_mt("wattguard");
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
    spdlog::set_default_logger(logger);
  }
}

fleet::Transport transport_option(const std::string& text) {
  if (text == "per-meter") return fleet::Transport::kPerMeter;
  if (text == "gateway") return fleet::Transport::kGateway;
  throw BadInput("--transport: '" + text + "' is not per-meter or gateway");
}

fleet::FidelityChoice fidelity_option(const std::string& requested, std::size_t meters, double speed,
                                      uint32_t sample_rate_hz) {
  const auto choice = fleet::choose_fidelity(requested, meters, speed, sample_rate_hz);
  if (!choice) throw BadInput("--fidelity: '" + requested + "' is not auto, samples or fast");
  return *choice;
}

std::vector<fleet::TheftKind> theft_kinds_option(const std::string& text) {
  auto kinds = fleet::parse_theft_kinds(text);
  if (!kinds.ok()) throw BadInput("--theft-kinds: " + kinds.error().message);
  return std::move(kinds).value();
}

void check_fleet_config(const fleet::FleetConfig& config) {
  if (auto valid = fleet::validate(config); !valid.ok()) throw BadInput(valid.error().message);
}

}  // namespace wattguard::cli
