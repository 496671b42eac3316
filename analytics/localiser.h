// Localisation of the thief on one transformer: non-negative regression of the unexplained loss on each
// consumer's reported energy and on its shortfall against its usual profile, over an exponentially weighted
// sliding window (Bandim et al. 2003 style "anomaly coefficients"). A consumer hiding a share f of its use
// makes the loss follow its reported profile with coefficient f/(1-f); one reporting (almost) nothing makes the
// loss follow its shortfall with coefficient about 1. Incremental: O(p^2) per step, p = 2 x consumers + 1.
// Not thread-safe.
#pragma once

#include <cstddef>
#include <vector>

namespace wattguard::analytics {

struct LocaliserConfig {
  double window_steps = 14 * 24;  // memory of the weighted window, in pushes (hours in the monitor)
  double ridge = 1e-3;            // relative ridge on the diagonal: keeps near-collinear profiles stable
};

struct Attribution {
  double reported_coef = 0;   // loss per kWh reported
  double shortfall_coef = 0;  // loss per kWh of shortfall against the usual profile
  double attributed_kwh = 0;  // loss this consumer explains over the window (weighted sum)
  double share = 0;           // attributed_kwh / unexplained loss over the window (0..1)
};

class Localiser {
 public:
  Localiser(size_t consumers, LocaliserConfig config = {});

  // One step: the transformer's unexplained loss, every consumer's reported energy and shortfall (usual minus
  // reported, floored at 0) over the same period, and the step's weight (0..1; lower when resting on estimates).
  // REQUIRES: reported.size() == shortfall.size() == consumers.
  void push(double unexplained_kwh, const std::vector<double>& reported, const std::vector<double>& shortfall,
            double weight);

  // Solves the regression (warm-started from the last solution) and returns one attribution per consumer.
  const std::vector<Attribution>& solve();
  const std::vector<Attribution>& last() const { return attributions_; }
  double window_unexplained_kwh() const { return sum_r_; }
  double window_weight() const { return sum_w_; }
  size_t size() const { return n_; }

 private:
  size_t n_;
  size_t p_;
  LocaliserConfig config_;
  double lambda_;
  std::vector<double> gram_;     // p x p
  std::vector<double> rhs_;      // p
  std::vector<double> col_sum_;  // weighted column sums (for attributed energy)
  std::vector<double> coef_;
  std::vector<double> x_;        // scratch row
  double sum_r_ = 0;
  double sum_w_ = 0;
  std::vector<Attribution> attributions_;
};

}  // namespace wattguard::analytics
