// libFuzzer target: analytics::parse_readings_csv, the reader behind `theft scan`, `bill` and the server's
// readings import (server/grid/readings_import.cc), at 15 minutes and at the file's own interval.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "wattguard/analytics/readings_csv.h"

// The entry point libFuzzer calls; its name is libFuzzer's, not ours.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {  // NOLINT(readability-identifier-naming)
  using namespace wattguard::analytics;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const bool aggregate : {true, false}) {
    ReadingsCsvOptions options;
    options.source = "fuzz.csv";
    options.aggregate_to_15min = aggregate;
    // The production cap (60 million cells) is honoured by the reader before it allocates; a smaller one keeps
    // each execution fast without changing which code runs.
    options.max_cells = 200'000;
    auto parsed = parse_readings_csv(text, options);
    if (!parsed.ok()) continue;
    const Readings& r = parsed.value();
    WATTGUARD_FUZZ_CHECK(r.count > 0 && r.interval_s > 0 && r.rows > 0);
    WATTGUARD_FUZZ_CHECK(!aggregate || r.interval_s == 900 || r.interval_s > 900);
    WATTGUARD_FUZZ_CHECK(static_cast<int64_t>(r.meters.size()) * r.count <= options.max_cells);
    WATTGUARD_FUZZ_CHECK(r.index.size() == r.meters.size());
    for (size_t m = 0; m < r.meters.size(); ++m) {
      const MeterSeries& series = r.meters[m];
      WATTGUARD_FUZZ_CHECK(!series.id.empty() && r.find(series.id) == &series);
      WATTGUARD_FUZZ_CHECK(static_cast<int64_t>(series.energy_kwh.size()) == r.count);
      WATTGUARD_FUZZ_CHECK(series.quality.size() == series.energy_kwh.size());
      // Every accepted number is finite: a NaN here would poison the balance and the bills downstream.
      for (size_t k = 0; k < series.energy_kwh.size(); ++k) {
        WATTGUARD_FUZZ_CHECK(std::isfinite(series.energy_kwh[k]));
        WATTGUARD_FUZZ_CHECK(series.quality[k] != Quality::kMissing || series.energy_kwh[k] == 0.0);
      }
    }
  }
  return 0;
}
