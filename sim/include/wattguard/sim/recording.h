// A recording of raw ADC sample sets, and what a reader returns for bad input.
// Formats: docs/recording-format.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wattguard/base/expected.h"
#include "wattguard/sim/sample_set.h"

namespace wattguard::sim {

struct Recording {
  uint32_t sample_rate_hz = 0;  // 0 when the format does not say (CSV)
  int adc_bits = 12;
  int channels = 2;  // 2: v,i   3: v,i,n (n is 0 in samples when channels == 2)
  std::vector<SampleSet> samples;
};

// Readers return Expected<Recording>; an Error from them has code kInvalidInput (kIoError when the file
// cannot be opened), `field` ("v", "i", "n", "header", "magic", ... or empty), `value` (the offending text or
// number), `line` (1-based CSV line; 0 when not about one line) and `source` (the file, for the *_file
// readers). Its `message` is complete on its own ("line 7, field i: value '5000' outside 0..4095") because
// that is what `wattguard meter replay` prints.

}  // namespace wattguard::sim
