// The arithmetic of `wattguard bench faults`: what the meters sent against the rows the database holds (sent,
// stored, lost, stored twice), and when the system was back to normal after a fault (recovered_s), from the
// samples the drill took while it ran. Pure functions, no I/O; docs/fault-drills.md defines every figure.
// Thread safety: none needed (values in, values out).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace wattguard::cli {

// One meter's side of the books: how many readings it made (its sequence numbers first_seq..first_seq+made-1)
// and the sequence numbers of every reading row the database holds for it, repeats included.
struct MeterBooks {
  uint64_t first_seq = 1;
  uint64_t made = 0;
  std::vector<uint64_t> stored_seqs;  // one entry per row, in any order
};

struct DrillCounts {
  uint64_t sent = 0;          // readings the meters made
  uint64_t stored = 0;        // distinct (meter, seq) among them in the database
  uint64_t lost = 0;          // sent - stored
  uint64_t stored_twice = 0;  // rows beyond the first for a (meter, seq)
  uint64_t unexpected = 0;    // distinct rows whose seq no meter made (should be 0; a bug in the drill or store)
};

// Adds up the books of every meter.
DrillCounts count_drill(const std::vector<MeterBooks>& meters);

// One look at the system while a drill runs: seconds since the drill's start (steady clock), readings made so
// far by every meter (taken just before the store was asked), and readings the store held (nullopt when the
// server did not answer).
struct Sample {
  double t_s = 0;
  uint64_t made = 0;
  std::optional<uint64_t> stored;
};

// Seconds from the fault's end (fault_end_s, on the samples' clock) to the first sample at or after it from
// which on every sample shows the store caught up: stored >= made - lost - allowed_lag. `lost` is the drill's
// final figure, so readings that will never arrive do not hold recovery back (they are reported as lost
// instead); `allowed_lag` is the backlog normal operation has (a couple of periods' readings of every meter).
// nullopt when no sample after the fault's end qualifies (not recovered while the drill watched).
// REQUIRES: samples in time order.
std::optional<double> recovered_after(const std::vector<Sample>& samples, double fault_end_s, uint64_t lost,
                                      uint64_t allowed_lag);

}  // namespace wattguard::cli
