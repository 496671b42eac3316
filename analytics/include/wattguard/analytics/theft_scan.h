// Batch scan of a readings file against a topology: runs one TransformerMonitor per transformer over the whole
// span and reports every consumer and transformer (what `wattguard theft scan` prints).
#pragma once

#include <string>
#include <vector>

#include "wattguard/analytics/readings.h"
#include "wattguard/analytics/topology.h"
#include "wattguard/analytics/transformer_monitor.h"
#include "wattguard/base/expected.h"

namespace wattguard::analytics {

struct ScanOptions {
  int max_calibration_days = 14;  // calibration uses min(this, 40 % of the span) days
};

struct ScanResult {
  std::vector<TransformerReport> transformers;  // topology order
  std::vector<std::string> warnings;
  int64_t first_end_s = 0;
  int64_t last_end_s = 0;
  int64_t interval_s = 0;
  int32_t utc_offset_s = 0;
  int calibration_days = 0;
};

// Errors (as values) when the topology names meters without readings.
Expected<ScanResult> scan_grid(const Readings& readings, const Topology& topology, const ScanOptions& options = {});

// One JSON object per line: every consumer, then its transformer, transformer by transformer (docs/theft-formats.md).
std::string scan_to_json_lines(const ScanResult& result);
// A readable table for people.
std::string scan_to_table(const ScanResult& result);

}  // namespace wattguard::analytics
