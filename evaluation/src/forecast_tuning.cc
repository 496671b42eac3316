// Fitting the forecast's parameters on the tuning split: least absolute deviations by iteratively reweighted
// least squares for the weights, then a search over residual quantiles and the total's spread scale.
#include "wattguard/evaluation/forecast_tuning.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

#include "wattguard/analytics/forecast_features.h"
#include "wattguard/evaluation/forecast_boosting.h"
#include "wattguard/evaluation/tuning_origins.h"

namespace wattguard::evaluation {
namespace {

namespace wa = wattguard::analytics;
using wa::kForecastFeatureCount;
using wa::kSlotsPerDay;

constexpr size_t kK = kForecastFeatureCount;
using Row = std::array<double, kK>;
// IRLS: residuals below this (kWh per half-hour) are weighted as if this large, so the weights stay finite.
constexpr double kIrlsFloorKwh = 1e-3;
constexpr int kIrlsIterations = 40;
// A day of every this many is used for the fit: neighbouring days repeat most of a feature row.
constexpr int kRowDayStride = 2;
// Coverage the intervals aim at (the middle of the 75-85 % target).
constexpr double kTargetCoverage = 0.80;
// The lower residual quantiles tried (the upper one is 1 - it).
constexpr std::array<double, 5> kLowerQuantiles = {0.12, 0.11, 0.10, 0.09, 0.08};

// Solves a k x k system by Gaussian elimination with partial pivoting; false when singular.
bool solve(std::array<std::array<double, kK + 1>, kK>& a, Row& x) {
  for (size_t c = 0; c < kK; ++c) {
    size_t pivot = c;
    for (size_t r = c + 1; r < kK; ++r) {
      if (std::abs(a[r][c]) > std::abs(a[pivot][c])) pivot = r;
    }
    if (std::abs(a[pivot][c]) < 1e-12) return false;
    std::swap(a[c], a[pivot]);
    for (size_t r = 0; r < kK; ++r) {
      if (r == c) continue;
      const double f = a[r][c] / a[c][c];
      for (size_t k = c; k <= kK; ++k) a[r][k] -= f * a[c][k];
    }
  }
  for (size_t c = 0; c < kK; ++c) x[c] = a[c][kK] / a[c][c];
  return true;
}

double mean_abs(const std::vector<Row>& rows, const std::vector<double>& y, const Row& w) {
  double sum = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    double p = 0;
    for (size_t k = 0; k < kK; ++k) p += w[k] * rows[i][k];
    sum += std::abs(y[i] - std::max(0.0, p));
  }
  return rows.empty() ? 0 : sum / static_cast<double>(rows.size());
}

// Every day-ahead half-hour of the tuning households the benchmark would score (every kRowDayStride-th day).
// Also the MAE of the best simple baseline, the median of the last 7 days' same slot, on the same half-hours.
void collect_rows(const std::vector<ForecastDataSet>& sets, std::vector<Row>& rows, std::vector<double>& y,
                  double& baseline_abs) {
  std::vector<double> week(7);
  for_each_tuning_origin(sets, kRowDayStride, [&](const TuningOrigin& o) {
    const wa::HalfHourHistory& history = o.history;
    const int64_t origin = o.origin;
    for (int64_t s = 0; s < kSlotsPerDay; ++s) {
      const wa::ForecastFeatures f = wa::forecast_features(history, origin, origin + s, o.summary, o.scratch);
      if (std::isnan(f[0])) continue;
      for (size_t k = 0; k < week.size(); ++k) {
        week[k] = history.kwh[static_cast<size_t>(origin + s - static_cast<int64_t>(k + 1) * kSlotsPerDay)];
      }
      std::sort(week.begin(), week.end());
      if (std::isnan(week[3])) continue;
      rows.push_back(f);
      y.push_back(o.day.kwh[static_cast<size_t>(s)]);
      baseline_abs += std::abs(y.back() - week[3]);
    }
  });
}

Row fit_lad(const std::vector<Row>& rows, const std::vector<double>& y, Row w) {
  for (int it = 0; it < kIrlsIterations; ++it) {
    std::array<std::array<double, kK + 1>, kK> a{};
    for (size_t i = 0; i < rows.size(); ++i) {
      double p = 0;
      for (size_t k = 0; k < kK; ++k) p += w[k] * rows[i][k];
      const double u = 1.0 / std::max(std::abs(y[i] - p), kIrlsFloorKwh);
      for (size_t r = 0; r < kK; ++r) {
        const double ur = u * rows[i][r];
        for (size_t c = 0; c < kK; ++c) a[r][c] += ur * rows[i][c];
        a[r][kK] += ur * y[i];
      }
    }
    Row next{};
    if (!solve(a, next)) break;
    w = next;
  }
  return w;
}

double pooled_coverage(const ForecastBenchResult& r) {
  double covered = 0, points = 0;
  for (const auto& set : r.sets) {
    if (set.tuning.points == 0) continue;
    covered += set.tuning.coverage_p10_p90 * static_cast<double>(set.tuning.points);
    points += static_cast<double>(set.tuning.points);
  }
  return points > 0 ? covered / points : 0;
}

}  // namespace

wa::ForecastParams fit_forecast_weights(const std::vector<ForecastDataSet>& sets, const wa::ForecastParams& start,
                                        std::string& report) {
  wa::ForecastParams out = start;
  char line[256];
  std::vector<Row> rows;
  std::vector<double> y;
  double baseline_abs = 0;
  collect_rows(sets, rows, y, baseline_abs);
  const double before = mean_abs(rows, y, start.weights);
  out.weights = fit_lad(rows, y, start.weights);
  const double after = mean_abs(rows, y, out.weights);
  const double baseline = rows.empty() ? 0 : baseline_abs / static_cast<double>(rows.size());
  std::snprintf(line, sizeof line,
                "weights: %zu tuning half-hours, MAE %.5f with the start weights, %.5f fitted (%.3f of the 7-day "
                "median's %.5f)\n",
                rows.size(), before, after, after / baseline, baseline);
  report += line;
  for (size_t k = 0; k < kK; ++k) {
    std::snprintf(line, sizeof line, "  %-16s %.4f\n",
                  std::string(wa::forecast_feature_name(static_cast<int>(k))).c_str(), out.weights[k]);
    report += line;
  }
  return out;
}

ForecastTuning tune_forecast(const std::vector<ForecastDataSet>& sets, const wa::ForecastParams& start,
                             const ForecastProgress& progress) {
  ForecastTuning out;
  char line[256];
  out.params = fit_forecast_weights(sets, start, out.report);
  out.trees = fit_forecast_trees(sets, out.params, default_boosting_options(), out.report);
  out.params.trees = out.trees.data();
  out.params.tree_count = out.trees.size();
  // The residual quantiles: the pair whose pooled tuning coverage is nearest the target.
  double best_gap = 2;
  ForecastBenchResult best_run;
  for (const double q : kLowerQuantiles) {
    wa::ForecastParams p = out.params;
    p.lower_quantile = q;
    p.upper_quantile = 1 - q;
    const ForecastBenchResult r = run_forecast_bench(sets, p, /*tuning_only=*/true, progress);
    const double coverage = pooled_coverage(r);
    std::snprintf(line, sizeof line, "quantiles %.2f/%.2f: tuning coverage %.4f\n", q, 1 - q, coverage);
    out.report += line;
    if (std::abs(coverage - kTargetCoverage) < best_gap) {
      best_gap = std::abs(coverage - kTargetCoverage);
      out.params.lower_quantile = q;
      out.params.upper_quantile = 1 - q;
      best_run = r;
    }
  }
  // The total's spread: scaled so that 80 % of the tuning household-months' standardised errors fall inside.
  std::vector<double> z;
  for (const auto& set : best_run.sets) {
    z.insert(z.end(), set.tuning.cycle_standardised_errors.begin(), set.tuning.cycle_standardised_errors.end());
  }
  if (!z.empty()) {
    std::sort(z.begin(), z.end());
    const double q80 = z[static_cast<size_t>(kTargetCoverage * static_cast<double>(z.size() - 1))];
    out.params.total_spread_scale = out.params.total_spread_scale * q80;
    std::snprintf(line, sizeof line, "total spread scale: %zu tuning household-months, x %.3f -> %.3f\n", z.size(), q80,
                  out.params.total_spread_scale);
    out.report += line;
  }
  return out;
}

}  // namespace wattguard::evaluation
