// Readers for the topology: CSV `transformer,meter,role` and JSON (format in docs/theft-formats.md).
// All or nothing: the first problem comes back as an Error naming the line (CSV) or path (JSON).
#pragma once

#include <string>
#include <string_view>

#include "wattguard/analytics/topology.h"
#include "wattguard/base/expected.h"

namespace wattguard::analytics {

Expected<Topology> parse_topology_csv(std::string_view text, const std::string& source = "topology");
Expected<Topology> parse_topology_json(std::string_view text, const std::string& source = "topology");

// Chooses JSON when the first non-blank character is '{', CSV otherwise.
Expected<Topology> parse_topology(std::string_view text, const std::string& source = "topology");
Expected<Topology> read_topology_file(const std::string& path);

}  // namespace wattguard::analytics
