// Localisation of the thief on one transformer: non-negative regression of the unexplained loss on each
// consumer's shortfall against its own usual profile (usual minus reported, signed), and optionally on its
// reported energy, over a sliding window of hourly steps (Bandim et al. 2003 style "anomaly coefficients").
// Energy a thief stops reporting reappears as unexplained loss, so the loss follows the thief's shortfall with
// coefficient about 1, while an honest consumer's shortfall is noise around zero. The reported columns (loss
// follows reported use x f/(1-f) for a thief hiding a share f) serve areas where theft predates the history, so
// there is no honest "usual" to fall short of. The window can start where the balance says the loss began, so
// a new theft is not diluted by weeks of clean history. Memory: window x (2 x consumers + 2) floats.
// Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace wattguard::analytics {

struct LocaliserConfig {
  int window_steps = 7 * 24;      // steps kept (hours in the monitor)
  double ridge = 1e-3;            // relative ridge on the diagonal: keeps near-collinear profiles stable
  bool use_reported = false;      // also regress on reported energy (theft older than the history)
  // Physical bounds: stolen energy reappears one for one as loss, so a shortfall coefficient well above 1 is a
  // chance fit (allowing for a usual profile that underestimates); a share hidden of at most 90 % bounds the
  // reported coefficient at f/(1-f) = 9.
  double max_shortfall_coef = 1.5;
  double max_reported_coef = 9.0;
  // Screening: only consumers whose shortfall alone explains the loss with at least this t statistic (one
  // independent value per 3 hourly steps) take part; the many honest consumers then cannot soak up noise.
  double min_t = 3.0;
};

struct Attribution {
  double reported_coef = 0;   // loss per kWh reported
  double shortfall_coef = 0;  // loss per kWh of shortfall against the usual profile (about 1 for a thief)
  double attributed_kwh = 0;  // net loss this consumer explains over the solved window (kWh)
  double moved_kwh = 0;       // energy it explains counting both signs (time-shifted reporting moves energy)
  double share = 0;           // share of the loss's variation (sum of squares) it explains, 0..1
  double t_stat = 0;          // its own regression's t statistic (loss on its shortfall alone)
};

class Localiser {
 public:
  Localiser(size_t consumers, LocaliserConfig config = {});

  // One step: the transformer's unexplained loss, every consumer's reported energy and shortfall over the same
  // period, and the step's weight (0..1; lower when resting on estimates).
  // REQUIRES: reported.size() == shortfall.size() == consumers.
  void push(double unexplained_kwh, const std::vector<double>& reported, const std::vector<double>& shortfall,
            double weight);

  // Solves the regression over the last `steps` steps (all kept steps when larger) and returns one attribution
  // per consumer.
  const std::vector<Attribution>& solve(int steps);
  const std::vector<Attribution>& last() const { return attributions_; }
  // Unexplained loss and number of steps in the last solved window.
  double window_unexplained_kwh() const { return window_r_; }
  int window_steps() const { return window_used_; }
  int steps_kept() const { return kept_; }
  void set_use_reported(bool use) { config_.use_reported = use; }
  size_t size() const { return n_; }

 private:
  size_t n_;
  size_t p_;                       // columns: n reported + n shortfall
  LocaliserConfig config_;
  std::vector<float> rows_;        // ring: window_steps x (p + 2): columns, target, weight
  int head_ = 0;                   // next row to write
  int kept_ = 0;
  std::vector<double> coef_;
  double window_r_ = 0;
  int window_used_ = 0;
  std::vector<Attribution> attributions_;
};

}  // namespace wattguard::analytics
