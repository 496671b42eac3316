// Alert episodes: open on the balance's alert, absorb its flapping, close once the loss has clearly stopped.
#include "wattguard/analytics/alert_episodes.h"

#include <algorithm>

namespace wattguard::analytics {

const char* transformer_state_name(TransformerState s) {
  switch (s) {
    case TransformerState::kCalibrating: return "calibrating";
    case TransformerState::kNotEvaluable: return "not_evaluable";
    case TransformerState::kClean: return "clean";
    case TransformerState::kAlert: return "alert";
  }
  return "clean";
}

TransformerState AlertEpisodes::state(bool calibrated) const {
  // An open episode outranks a silent check meter: the loss was seen and nothing shows it stopped.
  if (open()) return TransformerState::kAlert;
  if (!evaluable()) return TransformerState::kNotEvaluable;
  return calibrated ? TransformerState::kClean : TransformerState::kCalibrating;
}

void AlertEpisodes::push(int64_t end_s, bool check_present, const BalanceStep& step, bool calibrated, double day_share,
                         double day_threshold, int64_t onset_end_s) {
  check_silent_ = check_present ? 0 : check_silent_ + 1;
  if (!calibrated || !step.evaluated) return;
  if (step.alert) {
    if (!open()) {
      AlertEpisode e;
      e.start_end_s = onset_end_s > 0 ? std::min(onset_end_s, end_s) : end_s;
      episodes_.push_back(e);
      ++opened_;
      if (episodes_.size() > config_.max_kept) episodes_.erase(episodes_.begin());
      tail_kwh_ = 0;
    }
    AlertEpisode& e = episodes_.back();
    // The quiet stretch between two alerts of one episode belongs to it.
    e.energy_kwh += tail_kwh_ + step.unexplained_kwh;
    tail_kwh_ = 0;
    e.end_end_s = end_s;
    e.peak_loss_share = std::max(e.peak_loss_share, day_share);
    quiet_ = 0;
    return;
  }
  if (!open()) return;
  AlertEpisode& e = episodes_.back();
  tail_kwh_ += step.unexplained_kwh;
  ++quiet_;
  const bool stopped = day_threshold <= 0 || day_share < config_.close_below_threshold_share * day_threshold;
  if (quiet_ >= config_.close_after_intervals && stopped) {
    e.open = false;
    e.energy_kwh = std::max(0.0, e.energy_kwh);
    tail_kwh_ = 0;
    quiet_ = 0;
  }
}

}  // namespace wattguard::analytics
