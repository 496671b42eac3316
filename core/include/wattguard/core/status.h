// Result codes for core/: errors are values, never exceptions (firmware builds have none).
#pragma once

#include <cstdint>

namespace wattguard::core {

enum class Status : uint8_t {
  kOk = 0,
  kSampleRateOutOfRange,  // sample_rate_hz outside 1,000..20,000
  kAdcBitsOutOfRange,     // adc_bits outside 10..16
  kScaleNotPositive,      // a volts- or amps-per-count that is zero, negative or not finite
  kPhaseOutOfRange,       // phase correction beyond +-20 degrees
  kPeriodOutOfRange,      // report period outside 0.1..3600 s
  kNominalOutOfRange,     // nominal voltage/frequency/current not sensible
  kReferenceInvalid,      // calibration reference reading unusable (no signal, bad PF)
};

// Human-readable name of a status, for logs and CLI messages.
const char* status_name(Status s);

}  // namespace wattguard::core
