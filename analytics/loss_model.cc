// Loss-model calibration: Huber-weighted non-negative regression, then a noise model from the residuals.
#include "wattguard/analytics/loss_model.h"

#include <algorithm>
#include <cmath>

#include "analytics/median.h"
#include "analytics/nnls.h"

namespace wattguard::analytics {

LossCalibration calibrate_loss_model(const std::vector<BalanceSample>& samples, double interval_h,
                                     const LossCalibrationOptions& options) {
  LossCalibration out;
  out.samples = static_cast<int>(samples.size());
  if (samples.size() < 8) return out;
  const size_t n = samples.size();
  // Scale columns so the 3x3 system is well conditioned whatever the transformer size.
  double mean_check = 0;
  for (const auto& s : samples) mean_check += s.check_kwh;
  mean_check = std::max(1e-6, mean_check / static_cast<double>(n));
  const double s1 = interval_h, s2 = mean_check, s3 = mean_check * mean_check / interval_h;
  auto features = [&](const BalanceSample& s, double f[3]) {
    f[0] = interval_h / s1;
    f[1] = s.check_kwh / s2;
    f[2] = s.check_kwh * s.check_kwh / interval_h / s3;
  };
  std::vector<double> robust_w(n, 1.0);
  double robust_sigma = 0;
  std::vector<double> coef(3, 0.0);
  std::vector<double> residual(n, 0.0);
  for (int iter = 0; iter < options.huber_iterations; ++iter) {
    std::vector<double> gram(9, 0.0), rhs(3, 0.0);
    for (size_t i = 0; i < n; ++i) {
      double f[3];
      features(samples[i], f);
      const double w = samples[i].weight * robust_w[i];
      const double y = samples[i].check_kwh - samples[i].consumers_kwh;
      for (int a = 0; a < 3; ++a) {
        rhs[a] += w * f[a] * y;
        for (int b = 0; b < 3; ++b) gram[a * 3 + b] += w * f[a] * f[b];
      }
    }
    for (int a = 0; a < 3; ++a) gram[a * 3 + a] += 1e-9 * (gram[a * 3 + a] + 1e-12);
    solve_nnls_gram(gram, rhs, &coef);
    std::vector<double> abs_r(n);
    for (size_t i = 0; i < n; ++i) {
      double f[3];
      features(samples[i], f);
      const double y = samples[i].check_kwh - samples[i].consumers_kwh;
      residual[i] = y - (coef[0] * f[0] + coef[1] * f[1] + coef[2] * f[2]);
      abs_r[i] = std::abs(residual[i]);
    }
    const double sigma = std::max(1e-9, 1.4826 * median_of(abs_r));
    robust_sigma = sigma;
    for (size_t i = 0; i < n; ++i) {
      const double u = abs_r[i] / (options.huber_k * sigma);
      robust_w[i] = u <= 1.0 ? 1.0 : 1.0 / u;
    }
  }
  out.model.no_load_kw = coef[0] / s1;
  out.model.share = coef[1] / s2;
  out.model.quadratic_per_kw = coef[2] / s3;

  // Time-of-day correction: the median residual of each hour, where an hour has enough samples.
  {
    std::array<std::vector<double>, 24> by_hour;
    for (size_t i = 0; i < n; ++i) {
      if (samples[i].hour >= 0 && samples[i].hour < 24 && samples[i].weight > 0.5) {
        by_hour[static_cast<size_t>(samples[i].hour)].push_back(residual[i]);
      }
    }
    for (size_t h = 0; h < 24; ++h) {
      if (by_hour[h].size() >= 8) out.model.hour_offset_kwh[h] = median_of(by_hour[h]);
    }
    for (size_t i = 0; i < n; ++i) {
      if (samples[i].hour >= 0 && samples[i].hour < 24)
        residual[i] -= out.model.hour_offset_kwh[static_cast<size_t>(samples[i].hour)];
    }
    std::vector<double> abs_r(n);
    for (size_t i = 0; i < n; ++i) abs_r[i] = std::abs(residual[i]);
    robust_sigma = std::max(1e-9, 1.4826 * median_of(abs_r));
  }
  double offset_sum = 0;
  for (const auto& s : samples) {
    if (s.hour >= 0 && s.hour < 24) offset_sum += out.model.hour_offset_kwh[static_cast<size_t>(s.hour)];
  }

  double loss_sum = 0, check_sum = 0;
  for (const auto& s : samples) {
    loss_sum += out.model.expected_kwh(s.check_kwh, interval_h);
    check_sum += s.check_kwh;
  }
  loss_sum += offset_sum;
  out.fitted_share = check_sum > 0 ? loss_sum / check_sum : 0.0;
  out.mean_loss_share = out.fitted_share;
  if (out.fitted_share > options.max_share) {
    // Technical loss cannot be this high: keep the shape, cap the level, let the excess show as unexplained.
    const double f = options.max_share / out.fitted_share;
    out.model.no_load_kw *= f;
    out.model.share *= f;
    out.model.quadratic_per_kw *= f;
    for (double& o : out.model.hour_offset_kwh) o *= f;
    out.mean_loss_share = options.max_share;
    out.capped = true;
  }

  // Noise model: |residual| ~ a + b * check (L1-flavoured: a least-squares fit of absolute residuals, then
  // scaled to a Gaussian sigma). Residuals measured around the uncapped fit so a cap does not inflate noise.
  std::vector<double> gram(4, 0.0), rhs(2, 0.0), ab(2, 0.0);
  for (size_t i = 0; i < n; ++i) {
    const double f0 = 1.0, f1 = samples[i].check_kwh / s2;
    const double y = std::min(std::abs(residual[i]), 5.0 * robust_sigma);  // outliers must not set the noise
    const double w = samples[i].weight;
    gram[0] += w * f0 * f0;
    gram[1] += w * f0 * f1;
    gram[2] += w * f1 * f0;
    gram[3] += w * f1 * f1;
    rhs[0] += w * f0 * y;
    rhs[1] += w * f1 * y;
  }
  solve_nnls_gram(gram, rhs, &ab);
  const double kMeanAbsToSigma = 1.2533;  // sqrt(pi/2) for Gaussian residuals
  out.model.noise_floor_kwh = std::max(1e-4, kMeanAbsToSigma * ab[0]);
  out.model.noise_share = std::max(1e-4, kMeanAbsToSigma * ab[1] / s2);
  return out;
}

}  // namespace wattguard::analytics
