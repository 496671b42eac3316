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

}  // namespace wattguard::cli
