// The ESP32 SAR ADC as the simulator models it (11 dB attenuation, one converter for all channels).
//
// code = round(clip(V_in / full_scale_v * 2^bits * (1 + gain_error_percent / 100)
//                   + offset_counts + INL(u) + noise))
// with u = 2 code / 2^bits - 1 (-1 at the bottom of the scale, +1 at the top) and
// INL(u) = -inl_end_counts * u^6: flat over the middle of the scale and bending down toward
// both ends, like the ESP32's response outside roughly 0.15..2.45 V. Noise is Gaussian,
// independent per sample and channel, from a seeded generator.
#pragma once

namespace wattguard::sim {

struct AdcConfig {
  int bits = 12;              // 10..16
  double full_scale_v = 3.3;  // input voltage that maps to 2^bits counts
  double offset_counts = 10.0;
  double gain_error_percent = 0.0;
  double inl_end_counts = 8.0;  // INL magnitude at both ends of the scale
  double noise_counts_rms = 2.5;
  int max_code() const { return (1 << bits) - 1; }
  // Counts per input volt including the gain error.
  double counts_per_volt() const {
    return static_cast<double>(1 << bits) / full_scale_v * (1.0 + gain_error_percent / 100.0);
  }
};

}  // namespace wattguard::sim
