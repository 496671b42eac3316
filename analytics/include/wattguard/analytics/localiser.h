// Localisation of the thief on one transformer, over a sliding window of hourly steps, by two non-negative
// regressions of the unexplained loss (Bandim et al. 2003 style "anomaly coefficients"):
//  A. on each consumer's shortfall against its own usual profile (usual minus reported, signed): energy a thief
//     stops reporting reappears as loss one for one, hour by hour, while an honest consumer's shortfall is noise
//     around zero or, after a real fall in use, a level the loss does not follow (window means are removed first,
//     so a level alone earns nothing). This finds thieves whose reports fell (zero or flat reporting, bypass,
//     switched-off windows).
//  B. on each consumer's reported energy after removing hour-of-day and day means from every series (two-way
//     fixed effects): a thief hiding a share f makes the loss follow its own reported use x f/(1-f) hour by hour,
//     while the daily shape all households share, and weather that moves them all, is taken out first. This
//     finds thieves who still report a scaled version of their use (h1, h3, partial bypass), even when the theft
//     predates the history.
// Each regression screens its columns first (a consumer's column alone must explain the loss with a clear t
// statistic), then solves a box-constrained least squares. The window can start where the balance says the loss
// began, so a new theft is not diluted by weeks of clean history. Memory: window x (2 x consumers + 4) floats.
// Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace wattguard::analytics {

struct LocaliserConfig {
  int window_steps = 7 * 24;  // steps kept (hours in the monitor)
  double ridge = 1e-3;        // relative ridge on the diagonal: keeps near-collinear profiles stable
  // Physical bounds: stolen energy reappears one for one as loss, so a shortfall coefficient well above 1 is a
  // chance fit (allowing for a usual profile that underestimates); a share hidden of at most 90 % bounds the
  // reported coefficient at f/(1-f) = 9.
  double max_shortfall_coef = 1.5;
  double max_reported_coef = 9.0;
  // Screening: only consumers whose column alone explains the loss with at least this t statistic (one
  // independent value per 3 hourly steps) take part; the many honest consumers then cannot soak up noise.
  double min_t = 4.0;
};

struct Attribution {
  double reported_coef = 0;         // loss per kWh reported (regression B)
  double shortfall_coef = 0;        // loss per kWh of shortfall against the usual profile (A; about 1 for a thief)
  double attributed_kwh = 0;        // net loss this consumer explains over the solved window (kWh)
  double moved_kwh = 0;             // energy it explains counting both signs (time-shifted reporting moves energy)
  double share = 0;                 // share of the loss's variation (sum of squares) it explains, 0..1 (best of A, B)
  double shortfall_share = 0;       // the same from regression A alone
  double reported_share = 0;        // the same from regression B alone
  double t_stat = 0;                // its own column's t statistic (best of A, B)
  double reported_t = 0;            // t statistic of its reported column in regression B
  double drop = 0;                  // share of its usual use missing from its reports over the recent steps
  double recent_shortfall_kwh = 0;  // its shortfall summed over the recent steps
};

class Localiser {
 public:
  Localiser(size_t consumers, LocaliserConfig config = {});

  // One step: the transformer's unexplained loss, every consumer's reported energy and shortfall over the same
  // period, the step's weight (0..1; lower when resting on estimates), its local hour of day and a day number.
  // REQUIRES: reported.size() == shortfall.size() == consumers.
  void push(double unexplained_kwh, const std::vector<double>& reported, const std::vector<double>& shortfall,
            double weight, int hour_of_day = 0, int64_t day = 0);

  // Solves the regressions over the last `steps` steps (all kept steps when larger) and returns one attribution
  // per consumer; `recent_steps` (the loss episode, without the context before it) sets the span of `drop`.
  const std::vector<Attribution>& solve(int steps, int recent_steps = -1);
  const std::vector<Attribution>& last() const { return attributions_; }
  // Unexplained loss and number of steps in the last solved window; the loss over its recent steps.
  double window_unexplained_kwh() const { return window_r_; }
  double recent_unexplained_kwh() const { return recent_r_; }
  int window_steps() const { return window_used_; }
  int steps_kept() const { return kept_; }
  size_t size() const { return n_; }
  // A kept step (0 = newest): unexplained loss, and consumer i's reported energy and shortfall. For inspection.
  void step(int age, size_t i, double* unexplained, double* reported, double* shortfall) const {
    const int r = (head_ - 1 - age + 2 * config_.window_steps) % config_.window_steps;
    const float* row = &rows_[static_cast<size_t>(r) * (p_ + 4)];
    *unexplained = row[p_];
    *reported = row[i];
    *shortfall = row[n_ + i];
  }

 private:
  size_t n_;
  size_t p_;  // columns: n reported + n shortfall
  LocaliserConfig config_;
  std::vector<float> rows_;  // ring: window_steps x (p + 4): columns, target, weight, hour, day
  int head_ = 0;             // next row to write
  int kept_ = 0;
  std::vector<double> coef_;
  double window_r_ = 0;
  double recent_r_ = 0;
  int window_used_ = 0;
  std::vector<Attribution> attributions_;
};

}  // namespace wattguard::analytics
