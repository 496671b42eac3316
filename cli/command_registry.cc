// The registry of command groups, and the outcome a command leaves for main().
#include "cli/command_registry.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace wattguard::cli {
namespace {

std::vector<std::pair<std::string, AddCommands>>& registry() {
  static std::vector<std::pair<std::string, AddCommands>> groups;
  return groups;
}

// CLI11 callbacks return nothing, so the outcome waits here until app.parse() returns to main(). One process runs
// one command, on the main thread.
Expected<int>& outcome() {
  static Expected<int> recorded{0};
  return recorded;
}

}  // namespace

bool register_commands(const char* name, AddCommands add) {
  registry().emplace_back(name, add);
  return true;
}

void add_all_commands(CLI::App& app) {
  auto groups = registry();
  std::sort(groups.begin(), groups.end());
  for (const auto& [name, add] : groups) add(app);
}

CLI::App* command_group(CLI::App& app, const std::string& name, const std::string& description) {
  const auto existing = app.get_subcommands([&](CLI::App* sub) { return sub->get_name() == name; });
  if (!existing.empty()) return existing.front();
  CLI::App* group = app.add_subcommand(name, description);
  group->require_subcommand(1);
  return group;
}

void finish(Expected<int> result) { outcome() = std::move(result); }

void finish(const Expected<void>& result) {
  if (result.ok()) {
    outcome() = 0;
  } else {
    outcome() = result.error();
  }
}

const Expected<int>& command_outcome() { return outcome(); }

int exit_status_for(const Error& error) {
  switch (error.code) {
    case ErrorCode::kInvalidInput:
    case ErrorCode::kNotFound:
    case ErrorCode::kAlreadyExists: return kExitBadInput;
    case ErrorCode::kIoError:
    case ErrorCode::kCorruption:
    case ErrorCode::kUnavailable:
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kInternal: return kExitFailure;
  }
  return kExitFailure;
}

Error as_bad_input(Error cause) {
  if (exit_status_for(cause) != kExitBadInput) cause.code = ErrorCode::kInvalidInput;
  return cause;
}

Error as_bad_input(Error cause, std::string message) {
  cause.message = std::move(message);
  return as_bad_input(std::move(cause));
}

Error as_failure(Error cause) {
  if (exit_status_for(cause) != kExitFailure) cause.code = ErrorCode::kInternal;
  return cause;
}

Error as_failure(Error cause, std::string message) {
  cause.message = std::move(message);
  return as_failure(std::move(cause));
}

Error option_error(const std::string& option, std::string value, const std::string& what) {
  return Error::invalid(option, std::move(value), option + ": " + what);
}

}  // namespace wattguard::cli
