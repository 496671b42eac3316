// One simultaneous set of raw ADC readings: voltage, phase current and neutral current.
#pragma once

#include <cstdint>

namespace wattguard::sim {

struct SampleSet {
  uint16_t v = 0;
  uint16_t i = 0;
  uint16_t n = 0;
  friend bool operator==(const SampleSet&, const SampleSet&) = default;
};

}  // namespace wattguard::sim
