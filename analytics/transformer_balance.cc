// Transformer balance: calibration from the first weeks, then a one-sided CUSUM on standardised excess loss.
#include "analytics/transformer_balance.h"

#include <algorithm>
#include <cmath>

namespace wattguard::analytics {

TransformerBalance::TransformerBalance(BalanceConfig config) : config_(config) {}

void TransformerBalance::set_model(const TechnicalLossModel& model, double cusum_h) {
  calibration_ = LossCalibration{};
  calibration_.model = model;
  cusum_h_ = cusum_h;
  calibrated_ = true;
  pending_.clear();
  pending_index_.clear();
}

BalanceStep TransformerBalance::push(const BalanceInput& in) {
  const int64_t index = index_++;
  if (!calibrated_) {
    if (in.check_present) {
      pending_.push_back(in);
      pending_index_.push_back(index);
    }
    if (static_cast<int>(pending_.size()) < config_.calibration_intervals) return BalanceStep{};
    finish_calibration();
    // Replay the calibration history through the test: an area whose loss was capped (theft from the start)
    // alerts at once instead of waiting for new data.
    BalanceStep last;
    for (size_t i = 0; i < pending_.size(); ++i) last = evaluate(pending_[i], pending_index_[i]);
    pending_.clear();
    pending_.shrink_to_fit();
    pending_index_.clear();
    pending_index_.shrink_to_fit();
    return last;
  }
  if (!in.check_present) return BalanceStep{};
  return evaluate(in, index);
}

void TransformerBalance::finish_calibration() {
  std::vector<BalanceSample> samples;
  samples.reserve(pending_.size());
  for (const auto& p : pending_) {
    BalanceSample s;
    s.check_kwh = p.check_kwh;
    s.consumers_kwh = p.consumers_kwh;
    s.hour = p.hour;
    // Intervals resting on estimates count less: their residual says little about the loss.
    const double base_sigma = 0.01 + 0.01 * p.check_kwh;
    s.weight = 1.0 / (1.0 + p.estimate_var_kwh2 / (base_sigma * base_sigma));
    samples.push_back(s);
  }
  const double interval_h = config_.interval_h;
  calibration_ = calibrate_loss_model(samples, interval_h, config_.calibration);
  calibrated_ = true;
  // Threshold from the CUSUM the calibration history itself reaches around the uncapped fit: residuals of a
  // real transformer are autocorrelated, so the textbook threshold for white noise would alarm too often.
  TechnicalLossModel uncapped = calibration_.model;
  if (calibration_.capped && calibration_.mean_loss_share > 0) {
    const double f = calibration_.fitted_share / calibration_.mean_loss_share;
    uncapped.no_load_kw *= f;
    uncapped.share *= f;
    uncapped.quadratic_per_kw *= f;
    for (double& o : uncapped.hour_offset_kwh) o *= f;
  }
  double s = 0, peak = 0;
  for (const auto& p : pending_) {
    const double r = p.check_kwh - p.consumers_kwh - uncapped.expected_kwh(p.check_kwh, interval_h, p.hour);
    const double sigma = std::sqrt(std::pow(uncapped.sigma_kwh(p.check_kwh), 2) + p.estimate_var_kwh2);
    const double z = std::min(r / sigma, config_.max_z);
    s = std::max(0.0, s + z - config_.cusum_k);
    peak = std::max(peak, s);
  }
  cusum_h_ = std::max(config_.cusum_h_min, config_.cusum_h_factor * peak);
}

BalanceStep TransformerBalance::evaluate(const BalanceInput& in, int64_t index) {
  BalanceStep step;
  step.evaluated = true;
  const TechnicalLossModel& m = calibration_.model;
  step.expected_loss_kwh = m.expected_kwh(in.check_kwh, config_.interval_h, in.hour);
  step.unexplained_kwh = in.check_kwh - in.consumers_kwh - step.expected_loss_kwh;
  step.sigma_kwh = std::sqrt(std::pow(m.sigma_kwh(in.check_kwh), 2) + in.estimate_var_kwh2);
  step.z = std::clamp(step.unexplained_kwh / step.sigma_kwh, -config_.max_z, config_.max_z);
  cusum_ = std::max(0.0, cusum_ + step.z - config_.cusum_k);
  if (cusum_ == 0.0) last_zero_ = index;
  if (!alert_ && cusum_ > cusum_h_) {
    alert_ = true;
    step.alert_raised = true;
    onset_ = last_zero_ + 1;
    ++alerts_raised_;
  }
  if (alert_) {
    // Cap so the alert clears within hours once the excess stops, not days.
    cusum_ = std::min(cusum_, 1.5 * cusum_h_);
    if (cusum_ == 0.0) alert_ = false;
  }
  step.cusum = cusum_;
  step.alert = alert_;
  step.onset_interval = alert_ ? onset_ : -1;
  unexplained_total_kwh_ += step.unexplained_kwh;
  check_total_kwh_ += in.check_kwh;
  expected_total_kwh_ += step.expected_loss_kwh;
  return step;
}

}  // namespace wattguard::analytics
