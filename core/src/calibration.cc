#include "wattguard/core/calibration.h"

#include <cmath>

namespace wattguard::core {
namespace {
constexpr double kDegPerRad = 57.29577951308232;
}

Status derive_calibration(const PeriodReading& r, const Calibration& used, const ReferenceLoad& ref, Calibration* out) {
  if (!(r.vrms > 0.0f) || !(r.irms > 0.0f) || !(r.freq_hz > 0.0f) || !(ref.vrms > 0.0f) || !(ref.irms > 0.0f) ||
      !(ref.pf > 0.0f && ref.pf <= 1.0f)) {
    return Status::kReferenceInvalid;
  }
  Calibration cal = used;
  cal.v_per_count = used.v_per_count * ref.vrms / r.vrms;
  cal.i_per_count = used.i_per_count * ref.irms / r.irms;
  if (used.n_per_count > 0.0f) cal.n_per_count = used.n_per_count * ref.irms / r.irms;
  // Angle by which the current appeared to lag; positive = lagging.
  const double measured_deg = std::atan2(static_cast<double>(r.q_var), static_cast<double>(r.p_w)) * kDegPerRad;
  const double true_deg = std::acos(static_cast<double>(ref.pf)) * kDegPerRad * (ref.lagging ? 1.0 : -1.0);
  // The correction in use removed `used.phase_deg` of current lead; whatever extra lag is still
  // seen means the sensors lead by less than assumed (and vice versa).
  const double extra_lag_deg = measured_deg - true_deg;
  cal.phase_deg = static_cast<float>(used.phase_deg - extra_lag_deg);
  if (!std::isfinite(cal.phase_deg) || std::fabs(cal.phase_deg) > 20.0f) return Status::kPhaseOutOfRange;
  *out = cal;
  return Status::kOk;
}

}  // namespace wattguard::core
