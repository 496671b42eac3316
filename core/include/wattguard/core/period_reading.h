// What the engine reports at the end of each report period.
#pragma once

#include <cstdint>

namespace wattguard::core {

// Bit flags describing the period.
enum ReadingFlags : uint32_t {
  kFlagNoVoltage = 1u << 0,       // no usable voltage zero crossings in the period
  kFlagVoltageClipped = 1u << 1,  // voltage samples hit the ADC rails
  kFlagCurrentClipped = 1u << 2,  // current samples hit the ADC rails (overload or magnet)
  kFlagLoadPresent = 1u << 3,     // the no-load rule saw a load; energy registered
  kFlagSettling = 1u << 4,        // DC offsets still settling (first second after start)
};

struct PeriodReading {
  uint32_t sequence = 0;    // 0, 1, 2, ... one per period since start
  uint64_t end_sample = 0;  // sample index (per channel) at the end of the period
  double t_end_s = 0.0;     // end of the period, seconds from the first sample
  double duration_s = 0.0;  // seconds of signal in this period
  float vrms = 0.0f;
  float irms = 0.0f;
  float neutral_irms = 0.0f;  // 0 when there is no neutral channel
  float p_w = 0.0f;           // real power, + import, - export
  float s_va = 0.0f;          // apparent power Vrms * Irms
  float q_var = 0.0f;         // reactive power, + inductive (current lags), - capacitive
  // Power factor |P| / S, signed by the reactive sense: + lagging (inductive),
  // - leading (capacitive). Direction of flow is in the sign of p_w.
  float pf = 1.0f;
  float freq_hz = 0.0f;  // 0 when there was no voltage
  uint32_t cycles = 0;   // whole mains cycles accumulated in the period
  // Cumulative energy registers, micro-watt-hours (integer: no precision lost over years).
  uint64_t import_uwh = 0;
  uint64_t export_uwh = 0;
  // Energy of this period alone, Wh (what the registers advanced by).
  double period_import_wh = 0.0;
  double period_export_wh = 0.0;
  uint32_t flags = 0;

  double import_wh() const { return static_cast<double>(import_uwh) * 1e-6; }
  double export_wh() const { return static_cast<double>(export_uwh) * 1e-6; }
};

}  // namespace wattguard::core
