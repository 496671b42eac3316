// --config for the commands that read the server's settings.
#include "cli/config_file.h"

#include "cli/command_registry.h"

namespace wattguard::cli {

serve::ServerConfig load_config_or_throw(const std::string& path) {
  auto loaded = serve::load_config_or_defaults(path);
  if (!loaded.ok()) throw BadInput(serve::config_error_text(loaded.error()));
  return std::move(loaded).value();
}

}  // namespace wattguard::cli
