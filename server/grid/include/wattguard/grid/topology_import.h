// Reads a topology for the server (CSV `transformer,meter,role` or JSON with names and areas) with analytics'
// rules (one check meter per transformer, a meter on one transformer only, well-formed rows) plus the server's:
// ids usable in URLs and every meter provisioned in the readings store. The first problem names its row.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "wattguard/base/expected.h"
#include "wattguard/grid/grid_store.h"

namespace wattguard::grid {

using MeterKnown = std::function<bool(const std::string& meter_id)>;

// JSON when the first non-blank character is '{', else CSV. JSON:
//   {"transformers": [{"id": "T1", "name": "Elm St", "area": "north", "check_meter": "c1",
//                      "consumers": ["m1", "m2"]}]}   ("check" is accepted for "check_meter")
Expected<std::vector<Transformer>> parse_grid_topology(std::string_view text, const std::string& source,
                                                       const MeterKnown& meter_known);

// Checks one transformer given through the API: ids, name/area, every meter known, no meter twice.
// The error's field names the JSON member ("id", "check_meter", "consumers[3]"...).
Expected<void> check_transformer(const Transformer& transformer, const MeterKnown& meter_known);

// "line 7, field meter, value \"m9\": ..." without the source name, for API answers.
std::string describe_error(const Error& error);

}  // namespace wattguard::grid
