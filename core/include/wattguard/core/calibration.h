// Deriving calibration constants from one reading of a known reference load.
#pragma once

#include "wattguard/core/meter_config.h"
#include "wattguard/core/period_reading.h"
#include "wattguard/core/status.h"

namespace wattguard::core {

// The known load applied while the reading was taken.
struct ReferenceLoad {
  float vrms = 230.0f;
  float irms = 5.0f;
  // Displacement power factor, cos(phi) of the fundamental, 0..1 (with a distorted current
  // this is not P/S: use the reference's displacement angle).
  float pf = 1.0f;
  bool lagging = true;  // current lags voltage (inductive)
};

// Given a reading taken with calibration `used` while the reference load was applied,
// computes the calibration that makes the reading match the reference.
// REQUIRES: the reading has voltage, current and a stable frequency.
Status derive_calibration(const PeriodReading& reading, const Calibration& used, const ReferenceLoad& reference,
                          Calibration* out);

}  // namespace wattguard::core
