// A recording of raw ADC sample sets, and the error a reader returns for bad input.
// Formats: docs/recording-format.md.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "wattguard/sim/sample_set.h"

namespace wattguard::sim {

struct Recording {
  uint32_t sample_rate_hz = 0;  // 0 when the format does not say (CSV)
  int adc_bits = 12;
  int channels = 2;             // 2: v,i   3: v,i,n (n is 0 in samples when channels == 2)
  std::vector<SampleSet> samples;
};

struct RecordingError {
  uint64_t line = 0;            // 1-based CSV line; 0 when not about one line
  std::string field;            // "v", "i", "n", "header", ... or empty
  std::string message;          // complete, e.g. "line 7, field i: value 5000 outside 0..4095"
};

// Either a recording or the error that stopped the reader.
class RecordingResult {
 public:
  RecordingResult(Recording recording) : value_(std::move(recording)) {}   // NOLINT
  RecordingResult(RecordingError error) : value_(std::move(error)) {}      // NOLINT
  bool ok() const { return std::holds_alternative<Recording>(value_); }
  // REQUIRES: ok()
  const Recording& recording() const { return std::get<Recording>(value_); }
  Recording& recording() { return std::get<Recording>(value_); }
  // REQUIRES: !ok()
  const RecordingError& error() const { return std::get<RecordingError>(value_); }

 private:
  std::variant<Recording, RecordingError> value_;
};

}  // namespace wattguard::sim
