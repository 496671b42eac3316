// Which tariff of a tariff file a command uses (`bill`, `forecast`): --tariff-id, or the file's only one.
#pragma once

#include <string>

#include "wattguard/base/expected.h"
#include "wattguard/billing/tariff.h"

namespace wattguard::cli {

// `wanted` when the book has it, else the book's only tariff; an Error on field --tariff-id listing the ids
// otherwise.
Expected<std::string> choose_tariff(const billing::TariffBook& book, const std::string& wanted);

// A version of tariff `id` (versions of one tariff share cycle kind and zone). REQUIRES: book.has(id).
const billing::Tariff& any_version(const billing::TariffBook& book, const std::string& id);

}  // namespace wattguard::cli
