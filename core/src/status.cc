#include "wattguard/core/status.h"

namespace wattguard::core {

const char* status_name(Status s) {
  switch (s) {
    case Status::kOk: return "ok";
    case Status::kSampleRateOutOfRange: return "sample rate must be 1000..20000 Hz";
    case Status::kAdcBitsOutOfRange: return "ADC width must be 10..16 bits";
    case Status::kScaleNotPositive: return "scale (units per count) must be a positive number";
    case Status::kPhaseOutOfRange: return "phase correction must be within +-20 degrees";
    case Status::kPeriodOutOfRange: return "report period must be 0.1..3600 s";
    case Status::kNominalOutOfRange: return "nominal voltage, frequency or current out of range";
    case Status::kReferenceInvalid: return "reference reading has no usable voltage or current";
  }
  return "unknown status";
}

}  // namespace wattguard::core
