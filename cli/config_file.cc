// --config for the commands that read the server's settings.
#include "cli/config_file.h"

#include "cli/command_registry.h"

namespace wattguard::cli {

Expected<serve::ServerConfig> load_config_option(const std::string& path) {
  auto loaded = serve::load_config_or_defaults(path);
  // An unreadable file (kIoError) is the user's --config too.
  if (!loaded.ok()) return as_bad_input(loaded.error(), serve::config_error_text(loaded.error()));
  return loaded;
}

}  // namespace wattguard::cli
