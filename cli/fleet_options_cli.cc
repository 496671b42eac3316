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

Expected<fleet::Transport> transport_option(const std::string& text) {
  if (text == "per-meter") return fleet::Transport::kPerMeter;
  if (text == "gateway") return fleet::Transport::kGateway;
  return option_error("--transport", text, "'" + text + "' is not per-meter or gateway");
}

Expected<fleet::FidelityChoice> fidelity_option(const std::string& requested, std::size_t meters, double speed,
                                                uint32_t sample_rate_hz) {
  const auto choice = fleet::choose_fidelity(requested, meters, speed, sample_rate_hz);
  if (!choice) return option_error("--fidelity", requested, "'" + requested + "' is not auto, samples or fast");
  return *choice;
}

Expected<std::vector<fleet::TheftKind>> theft_kinds_option(const std::string& text) {
  auto kinds = fleet::parse_theft_kinds(text);
  if (!kinds.ok()) return as_bad_input(kinds.error(), "--theft-kinds: " + kinds.error().message);
  return kinds;
}

Expected<void> check_fleet_config(const fleet::FleetConfig& config) {
  if (auto valid = fleet::validate(config); !valid.ok()) return as_bad_input(valid.error());
  return {};
}

}  // namespace wattguard::cli
