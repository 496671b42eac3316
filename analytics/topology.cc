// Cross-checks between a topology and the readings it is used with.
#include "wattguard/analytics/topology.h"

#include "wattguard/analytics/input_error.h"

namespace wattguard::analytics {

size_t Topology::consumer_count() const {
  size_t n = 0;
  for (const auto& t : transformers) n += t.consumers.size();
  return n;
}

Expected<void> check_topology_against(const Topology& topology, const Readings& readings) {
  for (const auto& t : topology.transformers) {
    if (!readings.find(t.check_meter)) {
      return input_error(topology.source, t.check_line, t.where.empty() ? "meter" : t.where + ".check", t.check_meter,
                         "check meter of transformer " + t.id + " has no rows in the readings");
    }
    for (size_t i = 0; i < t.consumers.size(); ++i) {
      if (!readings.find(t.consumers[i])) {
        return input_error(topology.source, t.consumer_lines[i],
                           t.where.empty() ? "meter" : t.where + ".consumers[" + std::to_string(i) + "]",
                           t.consumers[i], "consumer of transformer " + t.id + " has no rows in the readings");
      }
    }
  }
  return {};
}

}  // namespace wattguard::analytics
