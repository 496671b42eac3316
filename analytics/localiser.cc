// Localiser: a ring of hourly rows; normal equations built over the requested window, solved by warm-started
// non-negative coordinate descent.
#include "analytics/localiser.h"

#include <algorithm>
#include <cmath>
#include <cmath>

#include "analytics/nnls.h"

namespace wattguard::analytics {

Localiser::Localiser(size_t consumers, LocaliserConfig config)
    : n_(consumers),
      p_(2 * consumers),
      config_(config),
      rows_(static_cast<size_t>(std::max(1, config.window_steps)) * (2 * consumers + 2), 0.0f),
      coef_(2 * consumers, 0.0),
      attributions_(consumers) {
  config_.window_steps = std::max(1, config_.window_steps);
}

void Localiser::push(double unexplained_kwh, const std::vector<double>& reported, const std::vector<double>& shortfall,
                     double weight) {
  const size_t width = p_ + 2;
  float* row = &rows_[static_cast<size_t>(head_) * width];
  for (size_t i = 0; i < n_; ++i) {
    row[i] = static_cast<float>(reported[i]);
    row[n_ + i] = static_cast<float>(shortfall[i]);
  }
  row[p_] = static_cast<float>(unexplained_kwh);
  row[p_ + 1] = static_cast<float>(weight);
  head_ = (head_ + 1) % config_.window_steps;
  kept_ = std::min(kept_ + 1, config_.window_steps);
}

const std::vector<Attribution>& Localiser::solve(int steps) {
  const int use = std::clamp(steps, 0, kept_);
  window_used_ = use;
  window_r_ = 0;
  const size_t width = p_ + 2;
  // Columns that take part: shortfall always, reported only when asked for.
  const size_t first = config_.use_reported ? 0 : n_;
  const size_t q = p_ - first;
  std::vector<double> gram(q * q, 0.0), rhs(q, 0.0), col_sum(q, 0.0), x(q);
  for (int s = 0; s < use; ++s) {
    const int r = (head_ - 1 - s + 2 * config_.window_steps) % config_.window_steps;
    const float* row = &rows_[static_cast<size_t>(r) * width];
    const double w = row[p_ + 1];
    const double y = row[p_];
    window_r_ += w * y;
    if (w <= 0) continue;
    for (size_t a = 0; a < q; ++a) x[a] = row[first + a];
    for (size_t a = 0; a < q; ++a) {
      const double wa = w * x[a];
      col_sum[a] += wa;
      rhs[a] += wa * y;
      if (wa == 0.0) continue;
      double* g = &gram[a * q];
      for (size_t b = a; b < q; ++b) g[b] += wa * x[b];
    }
  }
  for (size_t a = 0; a < q; ++a) {
    for (size_t b = 0; b < a; ++b) gram[a * q + b] = gram[b * q + a];
    gram[a * q + a] *= 1.0 + config_.ridge;
  }
  // Screening: regress the loss on each column alone; a consumer whose shortfall does not explain the loss
  // with a clear t statistic cannot be where the energy went.
  double yy = 0, wsum = 0;
  std::vector<double> abs_sum(q, 0.0);
  for (int s = 0; s < use; ++s) {
    const int r = (head_ - 1 - s + 2 * config_.window_steps) % config_.window_steps;
    const float* row = &rows_[static_cast<size_t>(r) * width];
    const double w = row[p_ + 1];
    if (w <= 0) continue;
    yy += w * row[p_] * row[p_];
    wsum += w;
    for (size_t a = 0; a < q; ++a) abs_sum[a] += w * std::abs(row[first + a]);
  }
  std::vector<double> upper(q), t_stat(q, 0.0);
  const double n_eff = std::max(1.0, wsum / 3.0);
  for (size_t a = 0; a < q; ++a) {
    const bool shortfall = first + a >= n_;
    upper[a] = shortfall ? config_.max_shortfall_coef : config_.max_reported_coef;
    const double xx = gram[a * q + a] / (1.0 + config_.ridge);
    if (xx <= 0 || wsum <= 0) {
      upper[a] = 0.0;
      continue;
    }
    const double b = rhs[a] / xx;
    const double rss = std::max(0.0, yy - b * rhs[a]);
    const double se = std::sqrt(rss / wsum / (xx / wsum) / n_eff);
    t_stat[a] = se > 0 ? b / se : 0.0;
    if (b <= 0 || t_stat[a] < config_.min_t) upper[a] = 0.0;
  }
  std::vector<double> c(coef_.begin() + static_cast<std::ptrdiff_t>(first), coef_.end());
  for (size_t a = 0; a < q; ++a) c[a] = std::min(c[a], upper[a]);
  NnlsOptions options;
  options.upper = upper;
  options.max_sweeps = 300;
  options.tolerance = 1e-7;
  solve_nnls_gram(gram, rhs, &c, options);
  std::fill(coef_.begin(), coef_.end(), 0.0);
  std::copy(c.begin(), c.end(), coef_.begin() + static_cast<std::ptrdiff_t>(first));
  // Share of the loss's sum of squares each consumer accounts for: c_j * sum(x_j y) adds up to the explained
  // part of the fit whether the loss is net positive (energy taken) or shifts sign (time-shifted reporting).
  double explained = 0;
  for (size_t a = 0; a < q; ++a) explained += std::max(0.0, coef_[first + a] * rhs[a]);
  const double denom = std::max({yy, explained, 1e-12});
  for (size_t i = 0; i < n_; ++i) {
    Attribution& a = attributions_[i];
    a.reported_coef = coef_[i];
    a.shortfall_coef = coef_[n_ + i];
    const size_t sa = n_ + i - first;
    const double reported_sum = first == 0 ? col_sum[i] : 0.0;
    a.attributed_kwh = std::max(0.0, a.reported_coef * reported_sum + a.shortfall_coef * col_sum[sa]);
    a.moved_kwh = a.reported_coef * (first == 0 ? abs_sum[i] : 0.0) + a.shortfall_coef * abs_sum[sa];
    double part = std::max(0.0, a.shortfall_coef * rhs[sa]);
    if (first == 0) part += std::max(0.0, a.reported_coef * rhs[i]);
    a.share = part / denom;
    a.t_stat = t_stat[sa];
  }
  return attributions_;
}

}  // namespace wattguard::analytics
