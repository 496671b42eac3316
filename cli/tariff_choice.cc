// Choosing the tariff of a file by --tariff-id.
#include "cli/tariff_choice.h"

#include <algorithm>

namespace wattguard::cli {

Expected<std::string> choose_tariff(const billing::TariffBook& book, const std::string& wanted) {
  const auto ids = book.ids();
  std::string listed;
  for (const auto& id : ids) listed += (listed.empty() ? "" : ", ") + id;
  if (!wanted.empty()) {
    if (!book.has(wanted)) {
      return Error::invalid("--tariff-id", wanted, "no such tariff in the file (it has: " + listed + ")");
    }
    return wanted;
  }
  if (ids.size() != 1) {
    return Error::invalid("--tariff-id", "",
                          "the tariff file has " + std::to_string(ids.size()) + " tariffs (" + listed +
                              "): choose one with --tariff-id");
  }
  return ids.front();
}

const billing::Tariff& any_version(const billing::TariffBook& book, const std::string& id) {
  return *std::find_if(book.versions.begin(), book.versions.end(),
                       [&](const billing::Tariff& t) { return t.id == id; });
}

}  // namespace wattguard::cli
