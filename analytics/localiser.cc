// Localiser: exponentially weighted normal equations, solved by warm-started non-negative coordinate descent.
#include "analytics/localiser.h"

#include <algorithm>
#include <cmath>

#include "analytics/nnls.h"

namespace wattguard::analytics {

Localiser::Localiser(size_t consumers, LocaliserConfig config)
    : n_(consumers),
      p_(2 * consumers + 1),
      config_(config),
      lambda_(1.0 - 1.0 / std::max(2.0, config.window_steps)),
      gram_(p_ * p_, 0.0),
      rhs_(p_, 0.0),
      col_sum_(p_, 0.0),
      coef_(p_, 0.0),
      x_(p_, 0.0),
      attributions_(consumers) {}

void Localiser::push(double unexplained_kwh, const std::vector<double>& reported, const std::vector<double>& shortfall,
                     double weight) {
  // Columns: 0 = intercept (free sign), 1..n = reported, n+1..2n = shortfall.
  x_[0] = 1.0;
  for (size_t i = 0; i < n_; ++i) {
    x_[1 + i] = reported[i];
    x_[1 + n_ + i] = shortfall[i];
  }
  const double l = lambda_;
  for (size_t a = 0; a < p_; ++a) {
    const double wa = weight * x_[a];
    double* row = &gram_[a * p_];
    if (wa == 0.0) {
      for (size_t b = 0; b < p_; ++b) row[b] *= l;
    } else {
      for (size_t b = 0; b < p_; ++b) row[b] = l * row[b] + wa * x_[b];
    }
    rhs_[a] = l * rhs_[a] + wa * unexplained_kwh;
    col_sum_[a] = l * col_sum_[a] + wa;
  }
  sum_r_ = l * sum_r_ + weight * unexplained_kwh;
  sum_w_ = l * sum_w_ + weight;
}

const std::vector<Attribution>& Localiser::solve() {
  std::vector<double> g = gram_;
  for (size_t j = 0; j < p_; ++j) g[j * p_ + j] *= 1.0 + config_.ridge;
  NnlsOptions options;
  options.free.assign(p_, false);
  options.free[0] = true;
  options.max_sweeps = 300;
  options.tolerance = 1e-7;
  solve_nnls_gram(g, rhs_, &coef_, options);
  double explained = 0;
  for (size_t i = 0; i < n_; ++i) {
    Attribution& a = attributions_[i];
    a.reported_coef = coef_[1 + i];
    a.shortfall_coef = coef_[1 + n_ + i];
    a.attributed_kwh = a.reported_coef * col_sum_[1 + i] + a.shortfall_coef * col_sum_[1 + n_ + i];
    explained += a.attributed_kwh;
  }
  const double denom = std::max({sum_r_, explained, 1e-9});
  for (auto& a : attributions_) a.share = a.attributed_kwh / denom;
  return attributions_;
}

}  // namespace wattguard::analytics
