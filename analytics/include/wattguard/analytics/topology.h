// The grid model the balance needs: transformers, each with one check meter and its consumers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wattguard/analytics/readings.h"
#include "wattguard/base/expected.h"

namespace wattguard::analytics {

struct TransformerNode {
  std::string id;
  std::string check_meter;
  std::vector<std::string> consumers;
  // Where each entry came from, for messages: CSV line numbers (0 for JSON, where `where` has a path).
  int64_t line = 0;  // first line naming this transformer
  int64_t check_line = 0;
  std::vector<int64_t> consumer_lines;
  std::string where;  // JSON path of the transformer ("transformers[2]"); empty for CSV
};

struct Topology {
  std::vector<TransformerNode> transformers;
  std::string source;  // file name, for messages

  size_t consumer_count() const;
};

// Checks a parsed topology against readings: every check meter and consumer must have readings.
// The first problem (naming the topology line) as an Error, or success.
Expected<void> check_topology_against(const Topology& topology, const Readings& readings);

}  // namespace wattguard::analytics
