// Transformer monitor: routes each interval to the balance, the day buffers of the pattern scorer and the hourly
// localiser steps, and turns their outputs into scores, ranks, flags and evidence.
#include "wattguard/analytics/transformer_monitor.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <numeric>

#include "analytics/suspect_reason.h"
#include "wattguard/analytics/csv_fields.h"
#include "wattguard/base/floor_division.h"

namespace wattguard::analytics {

MonitorConfig MonitorConfig::for_interval(int64_t interval_s, int calibration_days) {
  MonitorConfig c;
  c.interval_s = interval_s;
  const int slots = static_cast<int>(86400 / interval_s);
  c.balance.interval_h = static_cast<double>(interval_s) / 3600.0;
  c.balance.calibration_intervals = std::max(1, calibration_days) * slots;
  c.pattern.slots_per_day = slots;
  c.flag.localise_every_intervals = static_cast<int>(std::max<int64_t>(1, 3600 / interval_s));
  return c;
}

TransformerMonitor::TransformerMonitor(std::string id, std::vector<std::string> consumers, MonitorConfig config)
    : id_(std::move(id)),
      consumers_(std::move(consumers)),
      config_(config),
      balance_(config.balance),
      episodes_(config.episodes),
      pattern_(consumers_.size(), config.pattern),
      localiser_(consumers_.size(), config.localiser),
      slots_per_day_(static_cast<int>(86400 / config.interval_s)),
      slots_per_step_(static_cast<int>(std::max<int64_t>(1, 3600 / config.interval_s))),
      day_energy_(consumers_.size() * static_cast<size_t>(slots_per_day_), 0.0f),
      day_present_(consumers_.size() * static_cast<size_t>(slots_per_day_), 0),
      step_reported_(consumers_.size(), 0.0),
      step_shortfall_(consumers_.size(), 0.0),
      mean_kwh_(consumers_.size(), 0.0),
      mean_n_(consumers_.size(), 0.0),
      score_(consumers_.size(), 0.0),
      flagged_(consumers_.size(), 0),
      flag_cause_(consumers_.size(), FlagCause::kNone),
      first_flagged_(consumers_.size(), -1),
      evidence_hours_(consumers_.size(), 0),
      reported_intervals_(consumers_.size(), 0),
      quiet_step_(static_cast<int>(std::hash<std::string>{}(id_) % 24) % std::max(1, slots_per_day_ / slots_per_step_)),
      quiet_share_(consumers_.size(), 0.0),
      quiet_coef_(consumers_.size(), 0.0),
      silent_(consumers_.size(), 0),
      silent_intervals_(consumers_.size(), 0) {}

// One interval: the consumers' readings (or stand-ins) into the day and step buffers, the sum into the balance,
// then the end of an hourly step and of a day when this interval closes one, then the flags.
CycleResult TransformerMonitor::push(int64_t end_s, MeterValue check, std::span<const MeterValue> consumers) {
  CycleResult result;
  const int slot =
      static_cast<int>(floor_mod(end_s - config_.interval_s + config_.utc_offset_s, 86400) / config_.interval_s);
  if (intervals_ == 0) first_end_s_ = end_s;
  ++intervals_;

  const ConsumerSums sums = take_consumers(slot, check, consumers);
  result.balance = push_balance(slot, check, sums);
  const bool was_open = episodes_.open();
  const int64_t onset = balance_.onset_interval();
  episodes_.push(end_s, check.quality != Quality::kMissing, result.balance, balance_.calibrated(), balance_.day_share(),
                 balance_.day_share_threshold(), onset >= 0 ? first_end_s_ + onset * config_.interval_s : -1);
  result.episode_opened = !was_open && episodes_.open();
  result.episode_closed = was_open && !episodes_.open();
  if ((slot + 1) % slots_per_step_ == 0) end_step(end_s, slot);
  if (slot == slots_per_day_ - 1) end_day();
  if ((slot + 1) % slots_per_step_ == 0 || result.balance.alert_raised) {
    evaluate_flags(end_s, &result);
  }
  return result;
}

TransformerMonitor::ConsumerSums TransformerMonitor::take_consumers(int slot, MeterValue check,
                                                                    std::span<const MeterValue> consumers) {
  const size_t n = consumers_.size();
  double consumers_kwh = 0, estimate_var = 0, estimated = 0;
  for (size_t i = 0; i < n && i < consumers.size(); ++i) {
    const MeterValue& m = consumers[i];
    const double usual = pattern_.expected_slot_kwh(i, slot);
    double value = 0, var = 0;
    uint8_t present = 1;
    if (m.quality == Quality::kMeasured) {
      value = m.energy_kwh;
      mean_n_[i] = std::min(mean_n_[i] + 1.0, 7.0 * slots_per_day_);
      mean_kwh_[i] += (value - mean_kwh_[i]) / mean_n_[i];
    } else if (m.quality == Quality::kFilled) {
      // The register fixes the gap's total, not how it was spread: some uncertainty per interval.
      value = m.energy_kwh;
      var = std::pow(0.3 * value + 0.01, 2);
    } else {
      // Missing: stand in the consumer's usual use and widen the interval's sigma, so a meter that is merely
      // offline is not read as theft. The stand-in's error persists (a busy day stays busy), so the longer the
      // meter has been silent, the wider: an error that repeats for L intervals grows like L, not sqrt(L).
      value = usual >= 0 ? usual : mean_kwh_[i];
      silent_[i] = std::min(silent_[i] + 1, 4);
      var = std::pow(0.8 * value + 0.02, 2) * silent_[i];
      present = 0;
    }
    if (m.quality != Quality::kMissing) {
      silent_[i] = 0;
      ++reported_intervals_[i];
    }
    // Silence counts only while the check meter reports: with both silent (an area outage, or check readings
    // not imported yet) nothing says the consumer's use went unmetered, and nothing says it stopped either.
    if (m.quality != Quality::kMissing) {
      silent_intervals_[i] = 0;
    } else if (check.quality != Quality::kMissing) {
      ++silent_intervals_[i];
    }
    consumers_kwh += value;
    estimate_var += var;
    if (m.quality != Quality::kMeasured) estimated += value;
    const size_t cell = i * static_cast<size_t>(slots_per_day_) + static_cast<size_t>(slot);
    day_energy_[cell] = present ? static_cast<float>(value) : 0.0f;
    day_present_[cell] = present;
    step_reported_[i] += value;
    // An empty house (yesterday looked like a holiday) explains its own shortfall.
    if (present && usual >= 0 && !pattern_.last_day_vacant(i)) step_shortfall_[i] += usual - value;
  }
  day_touched_ = true;
  return ConsumerSums{consumers_kwh, estimate_var, estimated};
}

BalanceStep TransformerMonitor::push_balance(int slot, MeterValue check, const ConsumerSums& sums) {
  BalanceInput in;
  in.check_kwh = check.energy_kwh;
  in.check_present = check.quality != Quality::kMissing;
  in.consumers_kwh = sums.kwh;
  in.estimate_var_kwh2 = sums.estimate_var_kwh2;
  in.estimated_kwh = sums.estimated_kwh;
  in.hour = static_cast<int>(static_cast<int64_t>(slot) * config_.interval_s / 3600);
  const BalanceStep step = balance_.push(in);
  if (step.alert_raised) {
    // An alert that flickers off and on (theft only at night, say) is one episode: keep its first onset.
    const bool same_episode = last_alert_interval_ + slots_per_day_ >= intervals_ && episode_onset_ >= 0;
    if (!same_episode) episode_onset_ = step.onset_interval;
  }
  if (step.alert) last_alert_interval_ = intervals_;
  if (step.evaluated) {
    today_loss_ += step.unexplained_kwh;
    ++today_evaluated_;
    step_unexplained_ += step.unexplained_kwh;
    const double model_sigma = balance_.model().sigma_kwh(check.energy_kwh);
    step_sigma2_ += model_sigma * model_sigma;
    step_var_ += sums.estimate_var_kwh2;
    ++step_count_;
  } else if (balance_.calibrated()) {
    step_valid_ = false;
  }
  return step;
}

void TransformerMonitor::end_step(int64_t end_s, int slot) {
  // The quiet fit runs once a day, at an hour of its own per transformer, so a big fleet's fits are spread over
  // the day rather than all landing in one cycle.
  if ((slot + 1) / slots_per_step_ % std::max(1, slots_per_day_ / slots_per_step_) == quiet_step_) localise_quietly();
  if (balance_.calibrated() && step_valid_ && step_count_ == slots_per_step_) {
    const double weight = step_sigma2_ / (step_sigma2_ + step_var_);
    const int64_t local_s = end_s - config_.interval_s + config_.utc_offset_s;
    localiser_.push(step_unexplained_, step_reported_, step_shortfall_, weight,
                    slot * static_cast<int>(config_.interval_s) / 3600,
                    local_s >= 0 ? local_s / 86400 : (local_s - 86399) / 86400);
  }
  step_unexplained_ = step_sigma2_ = step_var_ = 0;
  step_count_ = 0;
  step_valid_ = true;
  std::fill(step_reported_.begin(), step_reported_.end(), 0.0);
  std::fill(step_shortfall_.begin(), step_shortfall_.end(), 0.0);
}

void TransformerMonitor::end_day() {
  const size_t n = consumers_.size();
  // While the area loses energy (or did within the last day), the baselines of consumers who look involved
  // (some share of the loss, or a drop in use) stop learning, so a theft never becomes their new normal;
  // everyone else keeps learning, so honest drift (weather, habits) does not pile up as false shortfall.
  const bool losing = balance_.alert() || last_alert_interval_ + slots_per_day_ > intervals_;
  for (size_t i = 0; i < n; ++i) {
    const bool involved = (localised_ && localiser_.last()[i].share >= 0.05) ||
                          pattern_.consumer(i).recent_z[static_cast<int>(PatternFeature::kLevelDrop)] >= 1.0;
    pattern_.set_learning(i, !(losing && involved));
  }
  pattern_.push_day(day_energy_, day_present_);
  update_pattern_threshold();
  day_loss_.push_back(2 * today_evaluated_ >= slots_per_day_ ? today_loss_ * slots_per_day_ / today_evaluated_
                                                             : std::numeric_limits<double>::quiet_NaN());
  if (static_cast<int>(day_loss_.size()) > std::max(1, config_.pattern.score_days)) day_loss_.erase(day_loss_.begin());
  today_loss_ = 0;
  today_evaluated_ = 0;
  std::fill(day_present_.begin(), day_present_.end(), 0);
  day_touched_ = false;
}

const char* flag_cause_name(FlagCause c) {
  switch (c) {
    case FlagCause::kBalance: return "balance";
    case FlagCause::kPattern: return "pattern";
    case FlagCause::kSilence: return "silence";
    case FlagCause::kNone: break;
  }
  return "none";
}

bool TransformerMonitor::offline(size_t i) const {
  const double days = config_.flag.offline_flag_days;
  return days > 0 && balance_.calibrated() && static_cast<double>(silent_intervals_[i]) >= days * slots_per_day_;
}

bool TransformerMonitor::drop_without_loss(size_t i) const {
  const FlagConfig& f = config_.flag;
  const ConsumerPattern& p = pattern_.consumer(i);
  if (f.pattern_drop_loss_share <= 0 || !p.ready || p.recent_days <= 0) return false;
  const double drop = p.baseline_kwh_per_day - p.recent_kwh_per_day;
  if (drop < f.min_attributed_kwh_per_day) return false;
  // The transformer's loss over the same recent days; without a calibrated balance there is nothing to check.
  const size_t days = std::min(day_loss_.size(), static_cast<size_t>(p.recent_days));
  double loss = 0;
  int counted = 0;
  for (size_t d = day_loss_.size() - days; d < day_loss_.size(); ++d) {
    if (std::isnan(day_loss_[d])) continue;
    loss += day_loss_[d];
    ++counted;
  }
  if (counted * 2 < static_cast<int>(std::max<size_t>(1, days))) return false;
  if (loss / counted < f.pattern_drop_loss_share * drop) return true;
  // The day totals can pass by chance: a transformer's unexplained loss wanders by kilowatt-hours a day (model
  // error, another thief), as much as a household's honest fall in use. Hour by hour the two differ: stolen
  // energy follows the consumer's missing use, an honest fall leaves the loss alone.
  return !follows_shortfall(i, static_cast<int>(days) * 24);
}

bool TransformerMonitor::follows_shortfall(size_t i, int steps) const {
  if (config_.flag.min_hourly_correlation <= 0) return true;
  const double r = shortfall_loss_correlation(i, steps);
  return std::isnan(r) || r >= config_.flag.min_hourly_correlation;
}

double TransformerMonitor::shortfall_loss_correlation(size_t i, int steps) const {
  const int n = std::min(steps, localiser_.steps_kept());
  if (n < 24) return std::numeric_limits<double>::quiet_NaN();
  double sx = 0, sy = 0;
  for (int age = 0; age < n; ++age) {
    double y = 0, reported = 0, x = 0;
    localiser_.step(age, i, &y, &reported, &x);
    sx += x;
    sy += y;
  }
  const double mx = sx / n, my = sy / n;
  double sxx = 0, sxy = 0, syy = 0;
  for (int age = 0; age < n; ++age) {
    double y = 0, reported = 0, x = 0;
    localiser_.step(age, i, &y, &reported, &x);
    sxx += (x - mx) * (x - mx);
    sxy += (x - mx) * (y - my);
    syy += (y - my) * (y - my);
  }
  // A shortfall that hardly varies (under 10 Wh an hour) cannot be told from the loss's own wandering.
  if (sxx < n * 0.01 * 0.01 || syy <= 0) return std::numeric_limits<double>::quiet_NaN();
  return sxy / std::sqrt(sxx * syy);
}

bool TransformerMonitor::history_known(size_t i) const {
  // Three quarters of the days' intervals: short communication gaps do not make a consumer unknown.
  const int64_t needed = static_cast<int64_t>(config_.flag.min_history_days) * slots_per_day_ * 3 / 4;
  return pattern_.consumer(i).ready && reported_intervals_[i] >= needed;
}

double TransformerMonitor::pattern_flag_threshold(size_t i) const {
  if (!history_known(i)) return std::numeric_limits<double>::infinity();
  return std::max(pattern_flag_floor(), pattern_threshold_);
}

double TransformerMonitor::pattern_flag_floor() const {
  const FlagConfig& f = config_.flag;
  const double p = std::clamp(f.pattern_alone, 1e-6, 1.0 - 1e-6);
  return f.pattern_center + f.pattern_width * std::log(p / (1.0 - p));
}

void TransformerMonitor::update_pattern_threshold() {
  const FlagConfig& f = config_.flag;
  std::vector<double> scores;
  for (size_t i = 0; i < consumers_.size(); ++i) {
    if (pattern_.consumer(i).ready) scores.push_back(pattern_.consumer(i).score);
  }
  if (static_cast<int>(scores.size()) < f.pattern_min_peers) {
    // Too few neighbours to learn how noisy they are: the floor, raised by as many units as the z.
    pattern_threshold_ = pattern_flag_floor() + f.pattern_flag_z;
    return;
  }
  auto median = [](std::vector<double> v) {
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    return v[v.size() / 2];
  };
  const double mid = median(scores);
  std::vector<double> dev;
  dev.reserve(scores.size());
  for (double x : scores) dev.push_back(std::abs(x - mid));
  pattern_threshold_ = mid + f.pattern_flag_z * 1.4826 * median(dev);
}

double TransformerMonitor::pattern_probability(size_t i) const {
  const ConsumerPattern& p = pattern_.consumer(i);
  if (!p.ready) return 0.0;
  // A young baseline (one or two weeks) exaggerates differences: trust it gradually.
  const double maturity = std::min(1.0, pattern_.baseline_days(i) / 14.0);
  return maturity / (1.0 + std::exp(-(p.score - config_.flag.pattern_center) / config_.flag.pattern_width));
}

void TransformerMonitor::localise_quietly() {
  std::fill(quiet_share_.begin(), quiet_share_.end(), 0.0);
  const FlagConfig& f = config_.flag;
  if (f.quiet_weight <= 0 || !balance_.calibrated() || localised_ || !f.use_reported_fit || f.min_drop <= 0) return;
  constexpr int kRecentSteps = 72;
  if (localiser_.steps_kept() < kRecentSteps) return;
  const auto& att = localiser_.solve(config_.localiser.window_steps, kRecentSteps);
  for (size_t i = 0; i < consumers_.size(); ++i) {
    // As for a B flag: a loss that follows someone's reports is theft only if the reports fell, since a big
    // honest consumer's own cable loss follows its use too.
    const double fell = std::clamp(att[i].drop / f.min_drop, 0.0, 1.0);
    quiet_share_[i] = f.quiet_weight * fell * std::clamp(att[i].reported_share, 0.0, 1.0);
    quiet_coef_[i] = att[i].reported_coef;
  }
}

TransformerMonitor::Localisation TransformerMonitor::compute_scores(bool solve) {
  const size_t n = consumers_.size();
  Localisation out;
  out.share.assign(n, 0.0);
  out.per_day.assign(n, 0.0);
  const double h = balance_.threshold();
  const bool suspicious = balance_.calibrated() && (balance_.alert() || balance_.cusum() > 0.3 * h);
  // Regress over the loss episode (from a day before the balance's onset estimate to now) but over at least six
  // days and a day of context, i.e. the localiser's whole week by default. A fit over the few hours since a
  // fresh onset let chance fits flag honest consumers (on the benchmark, a third more false flags), while the
  // clean hours before an onset do not dilute a thief in regression A: its shortfall and the loss are both about
  // zero there, the contrast that shows the step. A fall in reports is measured over the same span (measuring it over
  // the episode alone flagged two thieves fewer and raised false flags slightly on the benchmark).
  constexpr int kContextSteps = 24;
  constexpr int kMinEpisodeSteps = 6 * 24;
  int post_steps = kMinEpisodeSteps;
  if (balance_.alert()) {
    post_steps = std::max(kMinEpisodeSteps, static_cast<int>((intervals_ - episode_onset_) / slots_per_step_) + 1);
  }
  const int steps = std::min(config_.localiser.window_steps, post_steps + kContextSteps);
  if (suspicious && solve) {
    localiser_.solve(steps, post_steps);
    localised_ = true;
    localised_post_steps_ = std::max(1, std::min(post_steps, steps));
  } else if (!suspicious) {
    localised_ = false;
  }
  const double strength = balance_.alert() ? 1.0 : (h > 0 ? std::clamp(balance_.cusum() / h, 0.0, 1.0) * 0.5 : 0);
  const double steps_per_day = 86400.0 / (config_.interval_s * slots_per_step_);
  for (size_t i = 0; i < n; ++i) {
    double loc = 0;
    if (localised_) {
      const Attribution& a = localiser_.last()[i];
      out.share[i] = std::clamp(a.share, 0.0, 1.0);
      out.per_day[i] =
          std::max(a.attributed_kwh, 0.5 * a.moved_kwh) * steps_per_day / std::max(4, localiser_.window_steps());
      loc = out.share[i] * strength;
    }
    // Between alerts, a small theft (too small for the balance to alert) can still show as a loss that
    // follows the thief's reports; weighed as half an alert, like a rising CUSUM.
    if (!localised_) loc = std::max(loc, quiet_share_[i]);
    const double p = pattern_probability(i);
    // A meter silent for days while the check meter reports is flagged for it; the rank must agree, or every
    // honest neighbour with an odd week outranks it (the balance cannot see its theft, so loc stays 0).
    const double silence = offline(i) ? std::clamp(config_.flag.offline_score, 0.0, 1.0) : 0.0;
    score_[i] = 1.0 - (1.0 - loc) * (1.0 - 0.8 * p) * (1.0 - silence);
  }
  return out;
}

void TransformerMonitor::evaluate_flags(int64_t end_s, CycleResult* result) {
  const Localisation loc = compute_scores(true);
  const std::vector<double>& share = loc.share;
  const std::vector<double>& per_day = loc.per_day;
  result->evaluated_flags = true;
  const FlagConfig& f = config_.flag;
  for (size_t i = 0; i < consumers_.size(); ++i) {
    // A thief's shortfall reappears one for one as loss: a coefficient far below 1 is a partial, chance fit.
    const Attribution& at = localiser_.last()[i];
    // Regression A: its shortfall reappears as loss. Regression B: the loss follows its own reports hour by
    // hour, which big honest consumers can mimic through their own cable losses, so B also needs its reports
    // to have fallen against its usual use.
    const bool by_a = at.shortfall_coef >= f.min_coefficient && at.shortfall_coef <= f.max_coefficient &&
                      at.shortfall_share >= f.min_share && follows_shortfall(i, localised_post_steps_ + 24);
    const bool by_b = f.use_reported_fit && at.reported_coef >= 0.2 && at.reported_share >= 1.5 * f.min_share &&
                      at.reported_t >= 1.5 * config_.localiser.min_t && at.drop >= f.min_drop;
    const bool physical = localised_ && (by_a || by_b);
    const bool balance_evidence = balance_.alert() && physical && per_day[i] >= f.min_attributed_kwh_per_day;
    // Chance fits come and go from one hour to the next; a thief's fit persists.
    evidence_hours_[i] = balance_evidence ? evidence_hours_[i] + 1 : std::max(0, evidence_hours_[i] - 1);
    const bool by_balance = balance_evidence && evidence_hours_[i] >= f.persist_evaluations;
    const double pattern_score = pattern_.consumer(i).score;
    const double pattern_threshold = pattern_flag_threshold(i);
    const bool by_pattern = pattern_score >= pattern_threshold && !drop_without_loss(i);
    const bool by_silence = offline(i);
    // Hysteresis: a flag is kept while the balance still points at it or its pattern stays near the threshold.
    const bool keep = flagged_[i] &&
                      ((balance_.alert() && share[i] >= 0.5 * f.min_share) || pattern_score >= 0.8 * pattern_threshold);
    const bool now = by_balance || by_pattern || by_silence || keep;
    if (now && !flagged_[i]) {
      flag_cause_[i] = by_balance ? FlagCause::kBalance : by_pattern ? FlagCause::kPattern : FlagCause::kSilence;
      result->newly_flagged.push_back(i);
      if (first_flagged_[i] < 0) first_flagged_[i] = end_s;
    }
    flagged_[i] = now ? 1 : 0;
    if (!now) flag_cause_[i] = FlagCause::kNone;
  }
}

TransformerReport TransformerMonitor::report() {
  TransformerReport r;
  r.transformer = id_;
  r.calibrated = balance_.calibrated();
  r.alert = episodes_.open();
  r.balance_alert = balance_.alert();
  r.state = episodes_.state(balance_.calibrated());
  r.check_silent_hours = episodes_.check_silent_hours(config_.interval_s);
  r.episodes = episodes_.episodes();
  r.day_loss_share = balance_.day_share();
  r.day_threshold = balance_.day_share_threshold();
  r.alerts_raised = episodes_.opened();
  if (r.alert) r.alert_onset_end_s = r.episodes.back().start_end_s;
  r.unexplained_kwh = balance_.unexplained_total_kwh();
  r.check_kwh = balance_.check_total_kwh();
  r.technical_kwh = balance_.expected_loss_total_kwh();
  r.loss_share = r.check_kwh > 0 ? r.unexplained_kwh / r.check_kwh : 0.0;
  r.cusum = balance_.cusum();
  r.threshold = balance_.threshold();
  r.model = balance_.model();
  r.loss_capped = balance_.calibration().capped;
  r.calibrated_loss_share = balance_.calibration().mean_loss_share;

  const Localisation loc = compute_scores(true);
  const size_t n = consumers_.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return score_[a] > score_[b]; });
  for (size_t k = 0; k < n; ++k) r.suspects.push_back(suspect_report(order[k], static_cast<int>(k + 1), loc));
  add_model_evidence(r);
  return r;
}

SuspectReport TransformerMonitor::suspect_report(size_t i, int rank, const Localisation& loc) const {
  const std::vector<double>& share = loc.share;
  const std::vector<double>& per_day = loc.per_day;
  char buf[256];
  SuspectReport s;
  s.consumer = i;
  s.meter = consumers_[i];
  s.score = score_[i];
  s.rank = rank;
  s.flagged = flagged_[i] != 0;
  s.pattern_score = pattern_.consumer(i).score;
  s.loss_share = share[i];
  s.attributed_kwh_per_day = per_day[i];
  s.first_flagged_end_s = first_flagged_[i];
  if (localised_ && share[i] >= 0.05) {
    const Attribution& a = localiser_.last()[i];
    std::snprintf(buf, sizeof buf, "explains %.0f%% of the transformer's unexplained loss (about %.1f kWh/day)",
                  100.0 * share[i], per_day[i]);
    s.evidence.emplace_back(buf);
    if (a.reported_coef > 0.02) {
      std::snprintf(buf, sizeof buf,
                    "loss follows its reported use x%.2f: consistent with hiding about %.0f%% of its consumption",
                    a.reported_coef, 100.0 * a.reported_coef / (1.0 + a.reported_coef));
      s.evidence.emplace_back(buf);
    }
    if (a.shortfall_coef > 0.05) {
      std::snprintf(buf, sizeof buf, "loss follows its shortfall against its usual profile x%.2f", a.shortfall_coef);
      s.evidence.emplace_back(buf);
    }
  }
  if (!localised_ && quiet_share_[i] >= 0.05) {
    std::snprintf(buf, sizeof buf,
                  "below the alert level, the loss of the last week follows its reported use x%.2f (about %.0f%% "
                  "of its consumption hidden), while its reports fell",
                  quiet_coef_[i], 100.0 * quiet_coef_[i] / (1.0 + quiet_coef_[i]));
    s.evidence.emplace_back(buf);
  }
  if (offline(i)) {
    std::snprintf(buf, sizeof buf, "no readings for %.1f days while the check meter reports: its use is unmetered",
                  static_cast<double>(silent_intervals_[i]) / slots_per_day_);
    s.evidence.emplace_back(buf);
  }
  for (auto& e : pattern_.evidence(i)) s.evidence.push_back(std::move(e));

  SuspectFacts f;
  const ConsumerPattern& p = pattern_.consumer(i);
  using Decision = SuspectFacts::Decision;
  f.decision = s.flagged ? Decision::kFlagged : history_known(i) ? Decision::kClear : Decision::kUnknown;
  // Silence or balance evidence judge a consumer without its own history.
  if (f.decision == Decision::kUnknown && (offline(i) || (localised_ && share[i] >= 0.2)))
    f.decision = Decision::kClear;
  switch (flag_cause_[i]) {
    case FlagCause::kBalance: f.cause = SuspectFacts::Cause::kBalance; break;
    case FlagCause::kPattern: f.cause = SuspectFacts::Cause::kPattern; break;
    case FlagCause::kSilence: f.cause = SuspectFacts::Cause::kSilence; break;
    case FlagCause::kNone: break;
  }
  f.pattern_ready = p.ready;
  f.recent_z = p.recent_z;
  f.recent_days = p.recent_days;
  f.usual_kwh_per_day = p.baseline_kwh_per_day;
  f.recent_kwh_per_day = p.recent_kwh_per_day;
  f.loss_share = share[i];
  f.attributed_kwh_per_day = per_day[i];
  f.transformer_alert = episodes_.open();
  f.since_end_s = episodes_.open() ? episodes_.episodes().back().start_end_s : first_flagged_[i];
  f.silent_days = offline(i) ? static_cast<double>(silent_intervals_[i]) / slots_per_day_ : 0.0;
  f.history_days = static_cast<double>(reported_intervals_[i]) / slots_per_day_;
  f.needed_days = config_.flag.min_history_days;
  f.utc_offset_s = config_.utc_offset_s;
  s.decision = f.decision == Decision::kFlagged ? "flagged" : f.decision == Decision::kUnknown ? "unknown" : "clear";
  s.reason = suspect_reason(f);
  return s;
}

void TransformerMonitor::add_model_evidence(TransformerReport& r) const {
  char buf[256];
  if (!r.calibrated) {
    r.evidence.emplace_back("loss model not calibrated yet (needs " +
                            std::to_string(config_.balance.calibration_intervals) + " intervals with a check reading)");
  } else {
    std::snprintf(buf, sizeof buf,
                  "technical loss model: no-load %.3f kW + %.2f%% of load + %.5f kW per kW^2 (%.2f%% of energy "
                  "during calibration)",
                  r.model.no_load_kw, 100.0 * r.model.share, r.model.quadratic_per_kw, 100.0 * r.calibrated_loss_share);
    r.evidence.emplace_back(buf);
    if (r.loss_capped) {
      std::snprintf(buf, sizeof buf,
                    "loss during calibration was %.1f%% of energy, above the %.1f%% a network can lose: capped, "
                    "the excess counts as unexplained (theft from the start?)",
                    100.0 * balance_.calibration().fitted_share, 100.0 * config_.balance.calibration.max_share);
      r.evidence.emplace_back(buf);
    }
    if (r.alert) {
      const AlertEpisode& e = r.episodes.back();
      r.evidence.push_back(episode_reason(e.start_end_s - config_.interval_s, e.energy_kwh, r.day_loss_share,
                                          r.day_threshold, config_.utc_offset_s));
    }
    if (r.state == TransformerState::kNotEvaluable) {
      std::snprintf(buf, sizeof buf,
                    "not evaluable: the check meter has sent no readings for %.1f hours, so the balance cannot be "
                    "computed (this is not a clean result)",
                    r.check_silent_hours);
      r.evidence.emplace_back(buf);
    }
  }
}

}  // namespace wattguard::analytics
