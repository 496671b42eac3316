// Energy balance of one distribution transformer, one interval at a time: check meter minus consumers minus the
// expected technical loss, and a CUSUM test on the standardised excess that raises a persistent-loss alert.
// Incremental and file-free so the server can feed it from stored 15-minute rollups. Not thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "wattguard/analytics/loss_model.h"

namespace wattguard::analytics {

struct BalanceConfig {
  double interval_h = 0.25;
  int calibration_intervals = 14 * 96;  // evaluated intervals used to fit the loss model before testing
  LossCalibrationOptions calibration;
  // Allowance per interval, in sigma units. The residual's slow errors (load imbalance, temperature) persist
  // for hours and reach a sigma or two; an allowance of two sigma lets them pass while a thief taking 3 % of
  // the energy (5-15 sigma, capped at max_z) still crosses the threshold within a few hours.
  double cusum_k = 2.0;
  double cusum_h_min = 20.0;  // alarm threshold floor, in sigma units
  // Threshold = max(h_min, h_factor * highest CUSUM the calibration history reached): adapts the threshold
  // to each transformer's residual autocorrelation so false alarms stay rare (< 1 per 30 days).
  double cusum_h_factor = 2.5;
  double max_z = 4.0;  // one interval adds at most this much (a single bad reading is not theft)
  // Recalibration: the loss relation drifts with the seasons (load mix, phase balance, temperature), so the
  // model is refitted this often on the last calibration_intervals intervals, if at least
  // min_clean_share of them were quiet (no alert, CUSUM low) and the refit does not raise the expected loss
  // share by more than max_share_rise (a slow theft must not be learned as technical loss). 0 disables.
  int recalibrate_every_intervals = 7 * 96;
  double min_clean_share = 0.8;
  double max_share_rise = 0.005;
  // Day test, beside the CUSUM: the unexplained energy of the last 24 hours as a share of the check meter's
  // energy. The CUSUM weighs every interval against its own sigma, so a theft that follows one household's load
  // (strong in its evening hours, nothing at night) must win each evening against the other hours' noise and
  // against deficits from consumers whose reports shift energy in time; the day's energy balance only asks
  // whether energy went missing. Threshold = max(day_share_min, day_share_factor * highest day share the
  // calibration history reached). Energy resting on estimates (missing readings) is uncertain as a whole, not
  // interval by interval: a household's day can differ from its usual one by half, and that error does not
  // average out over the day, so the excess must also exceed day_estimate_error times the estimated energy.
  // day_share_min <= 0 disables.
  double day_share_min = 0.02;
  double day_share_factor = 2.5;
  double day_estimate_error = 0.5;
};

struct BalanceInput {
  double check_kwh = 0;
  bool check_present = true;     // false: the check meter has no reading; the interval is skipped
  double consumers_kwh = 0;      // sum over consumers, with estimates standing in for missing readings
  double estimate_var_kwh2 = 0;  // variance of those estimates (widens the interval's sigma)
  double estimated_kwh = 0;      // the part of consumers_kwh that rests on estimates (missing or filled readings)
  int hour = -1;                 // local hour of day (0..23) for the loss model's time-of-day term
};

struct BalanceStep {
  bool evaluated = false;  // false while calibrating or when the check meter is missing
  double expected_loss_kwh = 0;
  double unexplained_kwh = 0;  // check - consumers - expected loss
  double sigma_kwh = 0;
  double z = 0;
  double cusum = 0;
  bool alert = false;
  bool alert_raised = false;    // the alert started at this interval
  int64_t onset_interval = -1;  // while alerting: first interval of the excess (CUSUM change-point estimate)
};

class TransformerBalance {
 public:
  explicit TransformerBalance(BalanceConfig config = {});

  // Use a stored model and threshold instead of calibrating (e.g. the server restoring state).
  // day_share_threshold <= 0 keeps the configured floor (day_share_min).
  void set_model(const TechnicalLossModel& model, double cusum_h, double day_share_threshold = 0);

  // REQUIRES: called once per interval, in order (push check_present=false for a missing check reading).
  BalanceStep push(const BalanceInput& in);

  bool calibrated() const { return calibrated_; }
  const LossCalibration& calibration() const { return calibration_; }
  const TechnicalLossModel& model() const { return calibration_.model; }
  double threshold() const { return cusum_h_; }
  double day_share_threshold() const { return day_threshold_; }
  // Unexplained share of the check energy over the last 24 hours of evaluated intervals (0 until a day is full).
  double day_share() const;
  double cusum() const { return cusum_; }
  bool alert() const { return alert_; }
  int64_t onset_interval() const { return alert_ ? onset_ : -1; }
  int64_t intervals() const { return index_; }
  int alerts_raised() const { return alerts_raised_; }
  int recalibrations() const { return recalibrations_; }
  // Totals over evaluated intervals.
  double unexplained_total_kwh() const { return unexplained_total_kwh_; }
  double check_total_kwh() const { return check_total_kwh_; }
  double expected_loss_total_kwh() const { return expected_total_kwh_; }

 private:
  BalanceStep evaluate(const BalanceInput& in, int64_t index);
  void finish_calibration();
  // Fits the model and threshold on `inputs`; returns the calibration without installing it.
  LossCalibration fit(const std::vector<BalanceInput>& inputs, double* threshold, double* day_threshold) const;
  int day_intervals() const;
  bool day_full() const;  // a whole day in the window, with check energy
  bool day_excess() const;
  int64_t day_onset() const;
  void maybe_recalibrate();
  void remember(const BalanceInput& in);

  BalanceConfig config_;
  LossCalibration calibration_;
  bool calibrated_ = false;
  double cusum_h_ = 0;
  double day_threshold_ = 0;
  // The last 24 hours of evaluated intervals, a ring whose oldest entry is at day_head_ once full.
  struct DayInterval {
    double unexplained_kwh = 0;
    double check_kwh = 0;
    double estimated_kwh = 0;
    int64_t index = 0;
  };
  std::vector<DayInterval> day_;
  size_t day_head_ = 0;
  double day_unexplained_sum_ = 0, day_check_sum_ = 0, day_estimated_sum_ = 0;
  double cusum_ = 0;
  int64_t last_zero_ = 0;
  bool alert_ = false;
  int64_t onset_ = -1;
  int alerts_raised_ = 0;
  int64_t index_ = 0;
  std::vector<BalanceInput> pending_;  // calibration history (replayed once the model exists)
  std::vector<int64_t> pending_index_;
  // Recent history for recalibration: a ring of inputs and whether each was quiet.
  std::vector<BalanceInput> recent_;
  std::vector<uint8_t> recent_clean_;
  size_t recent_head_ = 0;
  int64_t since_recalibration_ = 0;
  int recalibrations_ = 0;
  double unexplained_total_kwh_ = 0;
  double check_total_kwh_ = 0;
  double expected_total_kwh_ = 0;
};

}  // namespace wattguard::analytics
