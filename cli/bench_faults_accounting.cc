// Counting a drill's readings and finding when it recovered (see the header).
#include "cli/bench_faults_accounting.h"

#include <algorithm>

namespace wattguard::cli {

DrillCounts count_drill(const std::vector<MeterBooks>& meters) {
  DrillCounts c;
  for (const MeterBooks& m : meters) {
    c.sent += m.made;
    std::vector<uint64_t> seqs = m.stored_seqs;
    std::sort(seqs.begin(), seqs.end());
    for (std::size_t k = 0; k < seqs.size(); ++k) {
      if (k > 0 && seqs[k] == seqs[k - 1]) {
        ++c.stored_twice;
        continue;
      }
      if (seqs[k] >= m.first_seq && seqs[k] - m.first_seq < m.made) {
        ++c.stored;
      } else {
        ++c.unexpected;
      }
    }
  }
  c.lost = c.sent - c.stored;
  return c;
}

std::optional<double> recovered_after(const std::vector<Sample>& samples, double fault_end_s, uint64_t lost,
                                      uint64_t allowed_lag) {
  // Walk backwards: the answer is the start of the last unbroken run of caught-up samples, if that run reaches
  // back to (or begins after) the fault's end.
  std::optional<double> since;
  for (auto it = samples.rbegin(); it != samples.rend(); ++it) {
    if (it->t_s < fault_end_s) break;
    const uint64_t expected = it->made > lost + allowed_lag ? it->made - lost - allowed_lag : 0;
    const bool caught_up = it->stored.has_value() && *it->stored >= expected;
    if (!caught_up) break;
    since = it->t_s;
  }
  if (!since) return std::nullopt;
  return *since - fault_end_s;
}

}  // namespace wattguard::cli
