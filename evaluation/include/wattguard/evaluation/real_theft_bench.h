// The theft benchmark on grids of real households (shared/data/households-real): transformers of 20-40 distinct
// real homes, thieves injected into their real profiles, their honest real changes kept, and a fixed split of the
// households by a hash of their id, so that what is tuned on one part is reported on the other.
// Thread-compatible (no shared state).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wattguard/base/expected.h"
#include "wattguard/evaluation/real_households.h"
#include "wattguard/evaluation/theft_bench.h"

namespace wattguard::evaluation {

enum class SplitPart : uint8_t { kTune, kReport };
const char* split_part_name(SplitPart p);

// The fixed split: FNV-1a (64 bit) of the household id, even = tune, odd = report. It depends on nothing but the
// id, so every run, data set version and machine puts a household in the same part.
SplitPart split_part_of(const std::string& household_id);

struct RealBenchOptions {
  SplitPart part = SplitPart::kReport;
  int homes_per_dt = 30;  // consumers per transformer (fewer when the part has fewer households)
  int max_dts = 8;
  int days = 90;  // shortened to what every household of the part covers
  int calibration_days = 14;
  double thief_share = 0.05;
  uint64_t seed = 1;
  int runs = 3;  // seeds seed..seed+runs-1 (other thieves, same households); figures are medians or pooled
};

// Builds the grids from `households` (the part chosen by options.part) and runs the benchmark. `name` labels the
// data set. An Error when the part has fewer than 10 households or none covers options.days + 2 days.
Expected<BenchResult> run_real_theft_bench(const std::string& name, const std::vector<RealHousehold>& households,
                                           const RealBenchOptions& options, const BenchProgress& progress = {});

}  // namespace wattguard::evaluation
