// Transformer balance: calibration from the first weeks, then a one-sided CUSUM on standardised excess loss.
#include "wattguard/analytics/transformer_balance.h"

#include <algorithm>
#include <cmath>

namespace wattguard::analytics {

TransformerBalance::TransformerBalance(BalanceConfig config) : config_(config) {}

void TransformerBalance::set_model(const TechnicalLossModel& model, double cusum_h, double day_share_threshold) {
  calibration_ = LossCalibration{};
  calibration_.model = model;
  cusum_h_ = cusum_h;
  day_threshold_ = day_share_threshold > 0 ? day_share_threshold : config_.day_share_min;
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
    for (size_t i = 0; i < pending_.size(); ++i) {
      last = evaluate(pending_[i], pending_index_[i]);
      remember(pending_[i]);
    }
    since_recalibration_ = 0;
    pending_.clear();
    pending_.shrink_to_fit();
    pending_index_.clear();
    pending_index_.shrink_to_fit();
    return last;
  }
  if (!in.check_present) return BalanceStep{};
  BalanceStep step = evaluate(in, index);
  remember(in);
  maybe_recalibrate();
  return step;
}

void TransformerBalance::remember(const BalanceInput& in) {
  // Keep the recent history for recalibration (the calibration history is its first window, so the first
  // refit comes one refit period after calibration); an interval is quiet when nothing was building up.
  const size_t window = static_cast<size_t>(std::max(1, config_.calibration_intervals));
  const uint8_t clean = (!alert_ && cusum_ < 0.5 * cusum_h_) ? 1 : 0;
  if (recent_.size() < window) {
    recent_.push_back(in);
    recent_clean_.push_back(clean);
  } else {
    recent_[recent_head_] = in;
    recent_clean_[recent_head_] = clean;
    recent_head_ = (recent_head_ + 1) % window;
  }
  ++since_recalibration_;
}

int TransformerBalance::day_intervals() const {
  return std::max(1, static_cast<int>(std::lround(24.0 / config_.interval_h)));
}

bool TransformerBalance::day_full() const {
  return static_cast<int>(day_.size()) >= day_intervals() && day_check_sum_ > 0;
}

double TransformerBalance::day_share() const { return day_full() ? day_unexplained_sum_ / day_check_sum_ : 0.0; }

bool TransformerBalance::day_excess() const {
  if (config_.day_share_min <= 0 || day_threshold_ <= 0 || !day_full()) return false;
  return day_unexplained_sum_ > day_threshold_ * day_check_sum_ + config_.day_estimate_error * day_estimated_sum_;
}

LossCalibration TransformerBalance::fit(const std::vector<BalanceInput>& inputs, double* threshold,
                                        double* day_threshold) const {
  std::vector<BalanceSample> samples;
  samples.reserve(inputs.size());
  for (const auto& p : inputs) {
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
  LossCalibration cal = calibrate_loss_model(samples, interval_h, config_.calibration);
  // Threshold from the CUSUM the history itself reaches around the uncapped fit: residuals of a real
  // transformer are autocorrelated, so the textbook threshold for white noise would alarm too often.
  TechnicalLossModel uncapped = cal.model;
  if (cal.capped && cal.mean_loss_share > 0) {
    const double f = cal.fitted_share / cal.mean_loss_share;
    uncapped.no_load_kw *= f;
    uncapped.share *= f;
    uncapped.quadratic_per_kw *= f;
    for (double& o : uncapped.hour_offset_kwh) o *= f;
  }
  double s = 0, peak = 0;
  // The day test's threshold from the same history: the highest 24-hour unexplained share it shows.
  const size_t day = static_cast<size_t>(day_intervals());
  std::vector<double> day_r(day, 0.0), day_c(day, 0.0);
  double sum_r = 0, sum_c = 0, day_peak = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const BalanceInput& p = inputs[i];
    const double r = p.check_kwh - p.consumers_kwh - uncapped.expected_kwh(p.check_kwh, interval_h, p.hour);
    sum_r += r - day_r[i % day];
    sum_c += p.check_kwh - day_c[i % day];
    day_r[i % day] = r;
    day_c[i % day] = p.check_kwh;
    if (i + 1 >= day && sum_c > 0) day_peak = std::max(day_peak, sum_r / sum_c);
    const double sigma = std::sqrt(std::pow(uncapped.sigma_kwh(p.check_kwh), 2) + p.estimate_var_kwh2);
    const double z = std::min(r / sigma, config_.max_z);
    s = std::max(0.0, s + z - config_.cusum_k);
    peak = std::max(peak, s);
  }
  *threshold = std::max(config_.cusum_h_min, config_.cusum_h_factor * peak);
  *day_threshold = std::max(config_.day_share_min, config_.day_share_factor * day_peak);
  return cal;
}

void TransformerBalance::finish_calibration() {
  calibration_ = fit(pending_, &cusum_h_, &day_threshold_);
  calibrated_ = true;
}

void TransformerBalance::maybe_recalibrate() {
  const size_t window = static_cast<size_t>(std::max(1, config_.calibration_intervals));
  if (config_.recalibrate_every_intervals <= 0 || recent_.size() < window) return;
  if (since_recalibration_ < config_.recalibrate_every_intervals) return;
  since_recalibration_ = 0;
  if (alert_) return;
  std::vector<BalanceInput> clean;
  for (size_t i = 0; i < recent_.size(); ++i) {
    if (recent_clean_[i]) clean.push_back(recent_[i]);
  }
  if (static_cast<double>(clean.size()) < config_.min_clean_share * static_cast<double>(window)) return;
  double threshold = 0, day_threshold = 0;
  LossCalibration next = fit(clean, &threshold, &day_threshold);
  // Compare expected loss shares on the same history, so a change in load does not look like a change in model.
  double old_loss = 0, new_loss = 0, check = 0;
  for (const auto& p : clean) {
    old_loss += calibration_.model.expected_kwh(p.check_kwh, config_.interval_h, p.hour);
    new_loss += next.model.expected_kwh(p.check_kwh, config_.interval_h, p.hour);
    check += p.check_kwh;
  }
  if (check <= 0 || (new_loss - old_loss) / check > config_.max_share_rise) return;
  calibration_ = next;
  cusum_h_ = threshold;
  day_threshold_ = day_threshold;
  ++recalibrations_;
}

int64_t TransformerBalance::day_onset() const {
  // Change point inside the day window: the start that maximises the excess over the threshold share from there
  // to now (the window is chronological from day_head_ once full).
  const size_t n = day_.size();
  double s = 0, best = -1.0;
  int64_t onset = n > 0 ? day_[day_head_ % n].index : 0;
  for (size_t j = 0; j < n; ++j) {
    const DayInterval& d = day_[(day_head_ + n - 1 - j) % n];  // newest first
    s += d.unexplained_kwh - day_threshold_ * d.check_kwh;
    if (s > best) {
      best = s;
      onset = d.index;
    }
  }
  return onset;
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
  // The day window: drop the oldest interval once full, add this one.
  const size_t day = static_cast<size_t>(day_intervals());
  const DayInterval now{step.unexplained_kwh, in.check_kwh, in.estimated_kwh, index};
  if (day_.size() < day) {
    day_.push_back(now);
  } else {
    day_[day_head_] = now;
    day_head_ = (day_head_ + 1) % day;
  }
  // Summed afresh (96 terms) rather than running, so rounding cannot drift over months.
  day_unexplained_sum_ = day_check_sum_ = day_estimated_sum_ = 0;
  for (const DayInterval& d : day_) {
    day_unexplained_sum_ += d.unexplained_kwh;
    day_check_sum_ += d.check_kwh;
    day_estimated_sum_ += d.estimated_kwh;
  }
  const bool by_cusum = cusum_ > cusum_h_;
  const bool by_day = day_excess();
  if (!alert_ && (by_cusum || by_day)) {
    alert_ = true;
    step.alert_raised = true;
    onset_ = by_cusum ? last_zero_ + 1 : day_onset();
    ++alerts_raised_;
  }
  if (alert_) {
    // Cap so the alert clears within hours once the excess stops, not days.
    cusum_ = std::min(cusum_, 1.5 * cusum_h_);
    if (cusum_ == 0.0 && !by_day) alert_ = false;
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
