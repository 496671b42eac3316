// Subcommand groups of the `wattguard` binary register themselves here, one file each,
// so adding a command never means editing a central list.
#pragma once

#include <CLI/CLI.hpp>

#include <stdexcept>
#include <string>

namespace wattguard::cli {

using AddCommands = void (*)(CLI::App& app);

// Called from a static initialiser in each command file; returns true so it can
// initialise a `static const bool`.
bool register_commands(const char* name, AddCommands add);

// Adds every registered group to `app`, in name order.
void add_all_commands(CLI::App& app);

// The subcommand `name` of `app`, created (requiring one subcommand of its own) if no file has
// made it yet: lets several files add commands under one group such as `bench`.
CLI::App* command_group(CLI::App& app, const std::string& name, const std::string& description);

// Exit status for input the user got wrong (bad option value, malformed file).
inline constexpr int kExitBadInput = 2;

// Thrown by a command for input the user got wrong; main() prints it and exits with 2.
// The message names the field, the value and the line where there is one.
struct BadInput : std::runtime_error {
  explicit BadInput(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace wattguard::cli
