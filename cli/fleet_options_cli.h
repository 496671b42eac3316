// Option handling shared by the commands that run a fleet (`fleet`, `demo`, `bench ingest`): the
// logger they log to, and the checks of --transport, --fidelity and --theft-kinds, whose Errors (exit 2)
// carry the message the user sees.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "wattguard/base/expected.h"
#include "wattguard/fleet/fleet.h"
#include "wattguard/fleet/fleet_options.h"

namespace wattguard::cli {

// Logs to stderr as "date time level message" unless a "wattguard" logger already exists.
void use_stderr_logger();

// "per-meter" or "gateway".
Expected<fleet::Transport> transport_option(const std::string& text);

// See fleet::choose_fidelity; `sample_rate_hz` 0 lets it choose.
Expected<fleet::FidelityChoice> fidelity_option(const std::string& requested, std::size_t meters, double speed,
                                                uint32_t sample_rate_hz = 0);

// "bypass,magnet" -> the kinds.
Expected<std::vector<fleet::TheftKind>> theft_kinds_option(const std::string& text);

// fleet::validate: its Error names the setting and value.
Expected<void> check_fleet_config(const fleet::FleetConfig& config);

}  // namespace wattguard::cli
