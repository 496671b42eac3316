// The server's settings as the commands that read them (`serve`, `users`) take them from --config.
#pragma once

#include <string>

#include "wattguard/base/expected.h"
#include "wattguard/serve/server_config.h"

namespace wattguard::cli {

// The TOML file at `path`, or the defaults when `path` is empty. The Error (exit 2, bad input) is the loader's,
// its message the line `serve` prints for settings ("cfg.toml:3: http.port = 70000: must be between 0 and 65535").
Expected<serve::ServerConfig> load_config_option(const std::string& path);

}  // namespace wattguard::cli
