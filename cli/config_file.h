// The server's settings as the commands that read them (`serve`, `users`) take them from --config.
#pragma once

#include <string>

#include "wattguard/serve/server_config.h"

namespace wattguard::cli {

// The TOML file at `path`, or the defaults when `path` is empty. Throws BadInput with the text naming the
// key, the value and the line when the file cannot be read or breaks a rule.
serve::ServerConfig load_config_or_throw(const std::string& path);

}  // namespace wattguard::cli
