// A transformer's loss alerts as episodes with hysteresis: one episode from the balance's first alert until the
// loss has clearly stopped, with its start, end, energy and peak share; and whether the transformer can be judged
// at all (a check meter that stopped reporting leaves it "not evaluable", never "clean"). Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wattguard/analytics/transformer_balance.h"

namespace wattguard::analytics {

struct EpisodeConfig {
  // The balance's alert comes and goes with an intermittent thief (an h4 thief's random reports let the CUSUM
  // touch zero now and then: 17 raise/clear cycles for one 18-day theft). An episode therefore stays open until
  // the balance has been quiet for this long ...
  int close_after_intervals = 24 * 4;
  // ... and the last 24 hours' unexplained share is below this fraction of the day test's threshold (the loss
  // has clearly stopped, not merely dipped under the CUSUM's allowance).
  double close_below_threshold_share = 0.5;
  // A check meter silent this long makes the transformer not evaluable (its balance cannot be computed).
  int not_evaluable_after_intervals = 4 * 4;
  size_t max_kept = 64;  // closed episodes kept (oldest dropped)
};

struct AlertEpisode {
  int64_t start_end_s = 0;     // end of the first interval of the excess loss (the balance's onset estimate)
  int64_t end_end_s = 0;       // end of the last alerting interval (so far, while open)
  double energy_kwh = 0;       // unexplained energy from the start to the last alerting interval
  double peak_loss_share = 0;  // highest 24-hour unexplained share of the check meter's energy
  bool open = true;
};

enum class TransformerState : uint8_t {
  kCalibrating = 0,  // the loss model is still being learned
  kNotEvaluable,     // the check meter has not reported for a while
  kClean,
  kAlert,  // an episode is open
};
const char* transformer_state_name(TransformerState s);

class AlertEpisodes {
 public:
  explicit AlertEpisodes(EpisodeConfig config = {}) : config_(config) {}

  // One interval's balance step. day_share and day_threshold: the balance's 24-hour unexplained share and its
  // day-test threshold after this step; onset_end_s: the balance's estimate of where the excess began.
  // REQUIRES: called once per interval, in order.
  void push(int64_t end_s, bool check_present, const BalanceStep& step, bool calibrated, double day_share,
            double day_threshold, int64_t onset_end_s);

  bool open() const { return !episodes_.empty() && episodes_.back().open; }
  bool evaluable() const { return check_silent_ < config_.not_evaluable_after_intervals; }
  TransformerState state(bool calibrated) const;
  // Every episode kept, oldest first (the last may be open).
  const std::vector<AlertEpisode>& episodes() const { return episodes_; }
  int opened() const { return opened_; }
  // Hours since the check meter's last reading (0 while it reports).
  double check_silent_hours(int64_t interval_s) const {
    return static_cast<double>(check_silent_) * static_cast<double>(interval_s) / 3600.0;
  }

 private:
  EpisodeConfig config_;
  std::vector<AlertEpisode> episodes_;
  int opened_ = 0;
  int quiet_ = 0;         // evaluated intervals without a balance alert since the last alerting one
  double tail_kwh_ = 0;   // unexplained energy since the last alerting interval (added if the alert returns)
  int check_silent_ = 0;  // consecutive intervals without a check reading
};

}  // namespace wattguard::analytics
