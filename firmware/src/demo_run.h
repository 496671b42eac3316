// The firmware check's workload: the metrology engine over the built-in sample set, one text line
// per report period. The same code runs in the Cortex-M4F image (lines go out by semihosting) and
// in the host program (lines go to stdout), so the two outputs can be compared.
#pragma once

#include <cstdint>

#include "wattguard/core/metrology_engine.h"

namespace wattguard::firmware {

// Receives each finished line (no newline); must copy it if it keeps it.
using LineSink = void (*)(const char* line);

struct DemoPlan {
  static constexpr uint32_t kReportPeriodMs = 1000;
  static constexpr uint32_t kPeriods = 3;
  // Samples per channel handed to the engine at once, like one DMA frame on the meter. Not a
  // divisor of the period, so periods end in the middle of blocks.
  static constexpr uint32_t kBlockSamples = 256;
};

struct DemoSummary {
  bool ok = false;  // configured, every period reported, calibration derived
  uint32_t periods = 0;
  uint64_t samples = 0;  // per channel
};

// Configures `engine` for the synthetic meter, feeds it every sample, emits a "reading" and a "bits"
// line per period and finally a "calibration" line derived from the last reading and the known load.
DemoSummary run_demo(core::MetrologyEngine* engine, LineSink sink);

}  // namespace wattguard::firmware
