// `wattguard`: one binary, one subcommand per job (meter, fleet, serve, demo, bench, theft...).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "cli/command_registry.h"

int main(int argc, char** argv) {
  CLI::App app{"wattguard: open smart electricity metering, from ADC samples to theft alerts"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "wattguard 0.1.0");
  wattguard::cli::add_all_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // a command chose its own exit status
  } catch (const wattguard::cli::BadInput& e) {
    std::fprintf(stderr, "wattguard: %s\n", e.what());
    return wattguard::cli::kExitBadInput;
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    // CLI11 reports usage errors as 106/109...; our contract is exit status 2 for bad input.
    return code == 0 ? 0 : wattguard::cli::kExitBadInput;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wattguard: %s\n", e.what());
    return 1;
  }
  return 0;
}
