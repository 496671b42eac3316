// `wattguard`: one binary, one subcommand per job (meter, fleet, serve, demo, bench, theft...).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "cli/command_registry.h"

namespace {

namespace cli = wattguard::cli;

// Parses the command line, runs the chosen command and turns its outcome into the exit status.
int run(int argc, char** argv) {
  CLI::App app{"wattguard: open smart electricity metering, from ADC samples to theft alerts"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "wattguard 0.1.0");
  cli::add_all_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    // CLI11 reports usage errors as 106/109...; our contract is exit status 2 for bad input.
    return code == 0 ? 0 : cli::kExitBadInput;
  }
  const wattguard::Expected<int>& outcome = cli::command_outcome();
  if (outcome.ok()) return outcome.value();
  std::fprintf(stderr, "wattguard: %s\n", outcome.error().message.c_str());
  return cli::exit_status_for(outcome.error());
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    // Only a bug or an exhausted machine gets here (bad_alloc, a library's logic_error): commands report bad
    // input and failures through finish(), but the process should still end with a message, not an abort.
    std::fprintf(stderr, "wattguard: %s\n", e.what());
    return cli::kExitFailure;
  } catch (...) {
    std::fprintf(stderr, "wattguard: an unknown failure\n");
    return cli::kExitFailure;
  }
}
