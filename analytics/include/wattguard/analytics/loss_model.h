// Expected technical loss of a distribution transformer area, and its calibration from history.
// loss_kw = no_load_kw + share * P + quadratic_per_kw * P^2, with P the check meter's mean power (kW):
// a fixed core loss, a part proportional to load, and the I^2 R part (see reference/theft.md).
#pragma once

#include <array>
#include <cstddef>
#include <vector>

namespace wattguard::analytics {

struct TechnicalLossModel {
  double no_load_kw = 0.0;
  double share = 0.0;
  double quadratic_per_kw = 0.0;  // kW of loss per kW^2 of load
  // Noise of the balance residual around the model: sigma_kwh = noise_floor_kwh + noise_share * check_kwh.
  double noise_floor_kwh = 0.01;
  double noise_share = 0.01;
  // Time-of-day correction (kWh per interval, by local hour): what the physics terms miss systematically,
  // e.g. phase imbalance when off-peak water heaters switch on, or unmetered night lighting. Learned from the
  // calibration history as the median residual of each hour.
  std::array<double, 24> hour_offset_kwh{};

  // Expected loss (kWh) in an interval of interval_h hours whose check meter measured check_kwh.
  // hour: local hour of day 0..23, or -1 to leave out the time-of-day correction.
  double expected_kwh(double check_kwh, double interval_h, int hour = -1) const {
    const double p_kw = check_kwh / interval_h;
    const double physics = (no_load_kw + share * p_kw + quadratic_per_kw * p_kw * p_kw) * interval_h;
    return hour >= 0 && hour < 24 ? physics + hour_offset_kwh[static_cast<std::size_t>(hour)] : physics;
  }
  double sigma_kwh(double check_kwh) const { return noise_floor_kwh + noise_share * check_kwh; }
};

// One interval of history for calibration.
struct BalanceSample {
  double check_kwh = 0;
  double consumers_kwh = 0;
  double weight = 1.0;  // 0..1; lower for intervals with filled or estimated consumer energy
  int hour = -1;        // local hour of day (0..23) for the time-of-day correction; -1 when unknown
};

struct LossCalibration {
  TechnicalLossModel model;
  double mean_loss_share = 0;  // modelled loss / check energy over the samples
  bool capped = false;         // the fitted loss exceeded max_share and was scaled down to it
  double fitted_share = 0;     // loss share the history showed before any cap
  int samples = 0;
};

struct LossCalibrationOptions {
  double max_share = 0.08;  // above this the history cannot be technical loss alone (theft from the start)
  int huber_iterations = 12;
  double huber_k = 1.345;  // in robust-sigma units
};

// Robust (Huber IRLS) non-negative fit of (check - consumers) on [h, check, check^2 / h].
// REQUIRES: interval_h > 0. With fewer than 8 samples the model is all zero and samples is reported.
LossCalibration calibrate_loss_model(const std::vector<BalanceSample>& samples, double interval_h,
                                     const LossCalibrationOptions& options = {});

}  // namespace wattguard::analytics
