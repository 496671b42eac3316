// Localiser: a ring of hourly rows; two screened, box-constrained least-squares fits over the requested window.
#include "wattguard/analytics/localiser.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "analytics/nnls.h"

namespace wattguard::analytics {
namespace {

struct Fit {
  std::vector<double> coef;    // per column
  std::vector<double> share;   // per column: coef * x'y / y'y
  std::vector<double> t_stat;  // per column, alone
};

// Forward-selection rounds of screened_fit: the second lets a second thief on the same transformer join once the
// first one's swings are fitted (each thief's loss is noise to the other's column alone). While regression A ran
// through the origin, a second round let honest falls in use in as often as thieves; with A centred it adds a
// thief now and then and no honest flag (benchmark, 2026-12-02). More rounds changed nothing.
constexpr int kRounds = 2;

// Screened box-constrained least squares on the weighted design matrix `columns` (rows x q, row-major) against y, by
// forward selection: a column joins when, alone, it explains what the columns already in leave unexplained with a clear
// t statistic; then all joined columns are refitted together.

Fit screened_fit(const std::vector<double>& columns, const std::vector<double>& y, const std::vector<double>& w,
                 size_t q, double upper_bound, double min_t, std::vector<double>* warm) {
  const size_t rows = y.size();
  std::vector<double> gram(q * q, 0.0), rhs(q, 0.0);
  double yy = 0, wsum = 0;
  for (size_t r = 0; r < rows; ++r) {
    if (w[r] <= 0) continue;
    wsum += w[r];
    yy += w[r] * y[r] * y[r];
    const double* x = &columns[r * q];
    for (size_t a = 0; a < q; ++a) {
      const double wa = w[r] * x[a];
      if (wa == 0.0) continue;
      rhs[a] += wa * y[r];
      double* g = &gram[a * q];
      for (size_t b = a; b < q; ++b) g[b] += wa * x[b];
    }
  }
  for (size_t a = 0; a < q; ++a) {
    for (size_t b = 0; b < a; ++b) gram[a * q + b] = gram[b * q + a];
  }
  Fit fit;
  fit.coef.assign(q, 0.0);
  fit.share.assign(q, 0.0);
  fit.t_stat.assign(q, 0.0);
  std::vector<double> upper(q, 0.0);
  std::vector<double> ridged = gram;
  for (size_t a = 0; a < q; ++a) ridged[a * q + a] *= 1.001;  // a little ridge for near-collinear profiles
  if (warm->size() != q) warm->assign(q, 0.0);
  std::vector<double> c(q, 0.0);
  // Hourly values are autocorrelated over a few hours: count about one independent value per 3 steps.
  const double n_eff = std::max(1.0, wsum / 3.0);
  NnlsOptions options;
  options.max_sweeps = 300;
  options.tolerance = 1e-7;
  for (int round = 0; round < kRounds; ++round) {
    // What the joined columns leave: y'r and r'r through the Gram matrix, x_a'r = rhs_a - (G c)_a.
    double rr = yy;
    std::vector<double> gc(q, 0.0);
    for (size_t a = 0; a < q; ++a) {
      if (c[a] == 0.0) continue;
      for (size_t b = 0; b < q; ++b) gc[b] += gram[a * q + b] * c[a];
    }
    for (size_t a = 0; a < q; ++a) rr += c[a] * (gc[a] - 2.0 * rhs[a]);
    rr = std::max(rr, 0.0);
    bool joined = false;
    for (size_t a = 0; a < q; ++a) {
      if (upper[a] > 0) continue;
      const double xx = gram[a * q + a];
      if (xx <= 0 || wsum <= 0) continue;
      const double xr = rhs[a] - gc[a];
      const double b = xr / xx;
      const double rss = std::max(0.0, rr - b * xr);
      const double se = std::sqrt(rss / xx / n_eff);
      const double t = se > 0 ? b / se : (b > 0 ? 1e9 : 0.0);
      if (round == 0) fit.t_stat[a] = t;
      if (b > 0 && t >= min_t) {
        upper[a] = upper_bound;
        fit.t_stat[a] = std::max(fit.t_stat[a], t);
        joined = true;
      }
    }
    if (!joined) break;
    for (size_t a = 0; a < q; ++a) c[a] = std::min((*warm)[a], upper[a]);
    options.upper = upper;
    solve_nnls_gram(ridged, rhs, &c, options);
  }
  *warm = c;
  fit.coef = c;
  for (size_t a = 0; a < q; ++a) fit.share[a] = yy > 0 ? std::max(0.0, fit.coef[a] * rhs[a]) / yy : 0.0;
  return fit;
}

}  // namespace

Localiser::Localiser(size_t consumers, LocaliserConfig config)
    : n_(consumers),
      p_(2 * consumers),
      config_(config),
      rows_(static_cast<size_t>(std::max(1, config.window_steps)) * (2 * consumers + 4), 0.0f),
      coef_(2 * consumers, 0.0),
      attributions_(consumers) {
  config_.window_steps = std::max(1, config_.window_steps);
}

void Localiser::push(double unexplained_kwh, const std::vector<double>& reported, const std::vector<double>& shortfall,
                     double weight, int hour_of_day, int64_t day) {
  const size_t width = p_ + 4;
  float* row = &rows_[static_cast<size_t>(head_) * width];
  for (size_t i = 0; i < n_; ++i) {
    row[i] = static_cast<float>(reported[i]);
    row[n_ + i] = static_cast<float>(shortfall[i]);
  }
  row[p_] = static_cast<float>(unexplained_kwh);
  row[p_ + 1] = static_cast<float>(weight);
  row[p_ + 2] = static_cast<float>(hour_of_day);
  row[p_ + 3] = static_cast<float>(day % 1000000);
  head_ = (head_ + 1) % config_.window_steps;
  kept_ = std::min(kept_ + 1, config_.window_steps);
}

const std::vector<Attribution>& Localiser::solve(int steps, int recent_steps) {
  const int use = std::clamp(steps, 0, kept_);
  window_used_ = use;
  window_r_ = 0;
  recent_r_ = 0;
  const size_t width = p_ + 4;
  const size_t rows = static_cast<size_t>(use);
  std::vector<double> y(rows), w(rows), shortfall(rows * n_), reported(rows * n_);
  std::vector<int> hour(rows), day(rows);
  std::vector<double> reported_sum(n_, 0.0), shortfall_sum(n_, 0.0), shortfall_abs(n_, 0.0);
  std::vector<double> recent_reported(n_, 0.0), recent_shortfall(n_, 0.0);
  const size_t recent = recent_steps < 0 ? rows : std::min(rows, static_cast<size_t>(recent_steps));
  for (size_t s = 0; s < rows; ++s) {
    const int r = (head_ - 1 - static_cast<int>(s) + 2 * config_.window_steps) % config_.window_steps;
    const float* row = &rows_[static_cast<size_t>(r) * width];
    y[s] = row[p_];
    w[s] = row[p_ + 1];
    hour[s] = static_cast<int>(row[p_ + 2]);
    day[s] = static_cast<int>(row[p_ + 3]);
    window_r_ += w[s] * y[s];
    if (s < recent) recent_r_ += w[s] * y[s];
    for (size_t i = 0; i < n_; ++i) {
      reported[s * n_ + i] = row[i];
      shortfall[s * n_ + i] = row[n_ + i];
      reported_sum[i] += w[s] * row[i];
      shortfall_sum[i] += w[s] * row[n_ + i];
      shortfall_abs[i] += w[s] * std::abs(row[n_ + i]);
      if (s < recent) {
        recent_reported[i] += w[s] * row[i];
        recent_shortfall[i] += w[s] * row[n_ + i];
      }
    }
  }
  // A: loss on shortfalls, both with their window means removed, so only moving together counts. Through the
  // origin, a level alone was evidence: any household whose use really fell (real households halve their use
  // for weeks) was credited with whatever steady loss the transformer had, another thief's or the model's.
  // Stolen energy rises and falls with the thief's missing use, and the episode's start (the window opens a day
  // before it) is such a move, so a thief still fits.
  std::vector<double> ya = y;
  {
    double wsum = 0, ysum = 0;
    for (size_t s = 0; s < rows; ++s) {
      wsum += w[s];
      ysum += w[s] * y[s];
    }
    if (wsum > 0) {
      for (size_t s = 0; s < rows; ++s) {
        ya[s] -= ysum / wsum;
        for (size_t i = 0; i < n_; ++i) shortfall[s * n_ + i] -= shortfall_sum[i] / wsum;
      }
    }
  }
  std::vector<double> warm_a(coef_.begin() + static_cast<std::ptrdiff_t>(n_), coef_.end());
  const Fit fit_a = screened_fit(shortfall, ya, w, n_, config_.max_shortfall_coef, config_.min_t, &warm_a);

  // B: loss on reported energy with hour-of-day and day means removed from every series.
  std::vector<double> yc = y, rc = reported;
  {
    std::map<int, size_t> day_index;
    for (size_t s = 0; s < rows; ++s) day_index.emplace(day[s], day_index.size());
    const size_t days = day_index.size();
    const size_t cols = n_ + 1;  // reported columns, then y
    std::vector<double> hour_mean(24 * cols, 0.0), hour_w(24, 0.0), day_mean(days * cols, 0.0), day_w(days, 0.0),
        grand(cols, 0.0);
    double grand_w = 0;
    auto value = [&](size_t s, size_t c) { return c < n_ ? reported[s * n_ + c] : y[s]; };
    for (size_t s = 0; s < rows; ++s) {
      if (w[s] <= 0) continue;
      const size_t h = static_cast<size_t>(std::clamp(hour[s], 0, 23));
      const size_t d = day_index[day[s]];
      hour_w[h] += w[s];
      day_w[d] += w[s];
      grand_w += w[s];
      for (size_t c = 0; c < cols; ++c) {
        const double v = w[s] * value(s, c);
        hour_mean[h * cols + c] += v;
        day_mean[d * cols + c] += v;
        grand[c] += v;
      }
    }
    for (size_t s = 0; s < rows; ++s) {
      const size_t h = static_cast<size_t>(std::clamp(hour[s], 0, 23));
      const size_t d = day_index[day[s]];
      for (size_t c = 0; c < cols; ++c) {
        const double centred = value(s, c) - (hour_w[h] > 0 ? hour_mean[h * cols + c] / hour_w[h] : 0.0) -
                               (day_w[d] > 0 ? day_mean[d * cols + c] / day_w[d] : 0.0) +
                               (grand_w > 0 ? grand[c] / grand_w : 0.0);
        if (c < n_) {
          rc[s * n_ + c] = centred;
        } else {
          yc[s] = centred;
        }
      }
    }
  }
  std::vector<double> warm_b(coef_.begin(), coef_.begin() + static_cast<std::ptrdiff_t>(n_));
  const Fit fit_b = screened_fit(rc, yc, w, n_, config_.max_reported_coef, config_.min_t, &warm_b);

  std::copy(warm_b.begin(), warm_b.end(), coef_.begin());
  std::copy(warm_a.begin(), warm_a.end(), coef_.begin() + static_cast<std::ptrdiff_t>(n_));
  for (size_t i = 0; i < n_; ++i) {
    Attribution& a = attributions_[i];
    a.reported_coef = fit_b.coef[i];
    a.shortfall_coef = fit_a.coef[i];
    a.shortfall_share = fit_a.share[i];
    a.reported_share = fit_b.share[i];
    a.share = std::max(a.shortfall_share, a.reported_share);
    a.t_stat = std::max(fit_a.t_stat[i], fit_b.t_stat[i]);
    a.reported_t = fit_b.t_stat[i];
    const double usual = recent_reported[i] + recent_shortfall[i];
    a.drop = usual > 1e-9 ? recent_shortfall[i] / usual : 0.0;
    a.recent_shortfall_kwh = recent_shortfall[i];
    const double from_a = a.shortfall_coef * shortfall_sum[i];
    const double from_b = a.reported_coef * reported_sum[i];
    a.attributed_kwh = std::max({0.0, from_a, from_b});
    a.moved_kwh = std::max(a.shortfall_coef * shortfall_abs[i], from_b);
  }
  return attributions_;
}

}  // namespace wattguard::analytics
