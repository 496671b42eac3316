// The forecasting model: p50 from the weighted slot features, p10/p90 from the meter's own recent day-ahead
// residuals, and totals with a bias correction and an interval for day-to-day correlated errors.
#include "wattguard/analytics/forecast_session.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <span>
#include <string>

#include "wattguard/analytics/csv_fields.h"
#include "wattguard/analytics/forecast_features.h"
#include "wattguard/analytics/forecast_trees.h"

namespace wattguard::analytics {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int64_t kSlotS = 1800;
// Residuals come from day-ahead forecasts made at the same time of day on each of the last 28 days: a month is
// long enough for 196 values per slot window, short enough to follow the seasons.
constexpr int kResidualDays = 28;
// An earlier origin's forecast counts for the residuals when it had this many days of data behind it.
constexpr double kMinResidualOriginDays = 7.0;
// A slot's spread pools the residuals of its neighbours (+-3 half-hours) ...
constexpr int kResidualHalfWidth = 3;
// ... and falls back to every slot's residuals when fewer than this many are known there.
constexpr size_t kMinPooledResiduals = 20;
// Fewer known residuals than one day's worth: the spread cannot be estimated.
constexpr size_t kMinResiduals = kSlotsPerDay;
// A day's total residual counts when at least this many of its half-hours are known (3/4 of the day).
constexpr int kMinKnownSlotsPerDayTotal = 36;
// Days with a known daily-total residual a total's interval needs (a standard deviation and a correlation).
constexpr size_t kMinDailyResiduals = 5;
// Normal quantile of 0.9: the half-width of a central 80 % interval in standard deviations.
constexpr double kZ90 = 1.2815515655446004;
// Day-to-day correlation of daily errors is estimated from at most a month: clamp it so one odd month cannot
// claim perfect correlation (or a negative one, which would shrink the interval).
constexpr double kMaxDailyCorrelation = 0.9;

// Linear-interpolation quantile of v (sorted in place); REQUIRES: v not empty.
double quantile_of(std::vector<double>& v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = std::clamp(q, 0.0, 1.0) * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<size_t>(pos);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

Error insufficient(std::string message, double days) {
  char value[32];
  std::snprintf(value, sizeof value, "%.1f days", days);
  return Error::invalid("history", value, std::move(message)).because("insufficient_history");
}

}  // namespace

const ForecastParams& default_forecast_params() {
  static const ForecastParams kParams = [] {
    // Fitted by `wattguard bench forecast --tune` on the tuning split (641,063 day-ahead half-hours of 226
    // households; LAD MAE 0.1275 kWh against 0.1361 for the 7-day median of the same slot), in the order of
    // ForecastFeature. Negative weights are contrasts (the 28-day median against its level-scaled twin). The
    // boosted trees (forecast_tree_table.cc) were fitted on top of these weights.
    ForecastParams p;
    p.weights = {0.2117, -0.1111, 0.1111, 0.2175, 0.0215, 0.0300, 0.1107, 0.1687, 0.0388, -0.0117, 0.1542, 0.0761};
    // Tuning-split p10-p90 coverage 0.8005 with 0.10/0.90 and the trees (0.800 without them; 0.761 at
    // 0.12/0.88, 0.839 at 0.08/0.92).
    p.lower_quantile = 0.10;
    p.upper_quantile = 0.90;
    // 80 % of 1,033 tuning household-months of the mid-month total fall within 1.806 normal half-widths (with
    // the trees; 1.721 with the linear blend alone).
    p.total_spread_scale = 1.806;
    const std::span<const ForecastTree> trees = default_forecast_trees();
    p.trees = trees.data();
    p.tree_count = trees.size();
    return p;
  }();
  return kParams;
}

ForecastSession::ForecastSession(const HalfHourHistory& history, ForecastParams params)
    : history_(history), params_(params), known_before_(history.kwh.size() + 1, 0) {
  for (size_t i = 0; i < history.kwh.size(); ++i)
    known_before_[i + 1] = known_before_[i] + (std::isnan(history.kwh[i]) ? 0 : 1);
}

double ForecastSession::history_days(int64_t origin) const {
  const auto size = static_cast<int64_t>(history_.kwh.size());
  const auto clamp = [&](int64_t i) { return static_cast<size_t>(std::clamp<int64_t>(i, 0, size)); };
  const int32_t known =
      known_before_[clamp(origin)] - known_before_[clamp(origin - int64_t{kHistoryWindowDays} * kSlotsPerDay)];
  return static_cast<double>(known) / kSlotsPerDay;
}

Expected<void> ForecastSession::check_history(int64_t origin) const {
  const double days = history_days(origin);
  if (days >= kMinHistoryDays) return {};
  char text[160];
  std::snprintf(text, sizeof text, "only %.1f days of readings in the %d days before %s; a forecast needs at least %d",
                days, kHistoryWindowDays,
                format_time(history_.start_s + origin * kSlotS, history_.utc_offset_s).c_str(), kMinHistoryDays);
  return insufficient(text, days);
}

const std::array<double, kSlotsPerDay>& ForecastSession::day_points(int64_t origin) {
  auto it = day_points_.find(origin);
  if (it == day_points_.end()) {
    const std::vector<double> p = point_forecast(history_, origin, kSlotsPerDay, params_);
    std::array<double, kSlotsPerDay> day{};
    std::copy(p.begin(), p.end(), day.begin());
    it = day_points_.emplace(origin, day).first;
  }
  return it->second;
}

ForecastSession::RecentResiduals ForecastSession::recent_residuals(int64_t origin) {
  RecentResiduals out;
  const auto size = static_cast<int64_t>(history_.kwh.size());
  for (int k = kResidualDays; k >= 1; --k) {  // oldest first, for the day-to-day correlation
    const int64_t earlier = origin - int64_t{k} * kSlotsPerDay;
    if (earlier < 0 || history_days(earlier) < kMinResidualOriginDays) continue;
    const auto& points = day_points(earlier);
    std::array<double, kSlotsPerDay> r{};
    double total = 0;
    int known = 0;
    for (int j = 0; j < kSlotsPerDay; ++j) {
      const int64_t i = earlier + j;
      const double actual = i < size ? history_.kwh[static_cast<size_t>(i)] : kNaN;
      r[static_cast<size_t>(j)] = actual - points[static_cast<size_t>(j)];
      if (!std::isnan(r[static_cast<size_t>(j)])) total += r[static_cast<size_t>(j)], ++known;
    }
    out.by_day.push_back(r);
    // A day with a few half-hours lost still tells the daily error: its known mean times 48.
    if (known >= kMinKnownSlotsPerDayTotal) out.day_totals.push_back(total * kSlotsPerDay / known);
  }
  return out;
}

Expected<IntervalForecast> ForecastSession::intervals(int64_t origin, int32_t steps) {
  if (steps < 1 || steps > kMaxForecastSteps) {
    return Error::invalid("horizon_steps", std::to_string(steps),
                          "a horizon must be 1 to " + std::to_string(kMaxForecastSteps) + " half-hours");
  }
  if (auto ok = check_history(origin); !ok.ok()) return std::move(ok).error();
  IntervalForecast out;
  out.at_s = history_.start_s + origin * kSlotS;
  if (steps <= kSlotsPerDay) {
    const auto& day = day_points(origin);
    out.p50.assign(day.begin(), day.begin() + steps);
  } else {
    out.p50 = point_forecast(history_, origin, steps, params_);
  }
  // The spread of each slot of the day, from the residuals at the same slot (+-kResidualHalfWidth).
  const RecentResiduals recent = recent_residuals(origin);
  std::vector<double> all;
  for (const auto& day : recent.by_day) {
    for (double r : day) {
      if (!std::isnan(r)) all.push_back(r);
    }
  }
  const double days = history_days(origin);
  if (all.size() < kMinResiduals) {
    return insufficient("too few recent days with readings to learn how far the forecasts stray (" +
                            std::to_string(all.size()) + " known residuals, at least " + std::to_string(kMinResiduals) +
                            " needed)",
                        days);
  }
  std::array<double, kSlotsPerDay> lower{}, upper{};
  std::vector<double> pool;
  for (int p = 0; p < kSlotsPerDay; ++p) {
    pool.clear();
    for (const auto& day : recent.by_day) {
      for (int d = -kResidualHalfWidth; d <= kResidualHalfWidth; ++d) {
        const double r = day[static_cast<size_t>((p + d + kSlotsPerDay) % kSlotsPerDay)];
        if (!std::isnan(r)) pool.push_back(r);
      }
    }
    if (pool.size() < kMinPooledResiduals) pool = all;
    lower[static_cast<size_t>(p)] = quantile_of(pool, params_.lower_quantile);
    upper[static_cast<size_t>(p)] = quantile_of(pool, params_.upper_quantile);
  }
  out.p10.resize(out.p50.size());
  out.p90.resize(out.p50.size());
  for (size_t i = 0; i < out.p50.size(); ++i) {
    double& p50 = out.p50[i];
    if (std::isnan(p50)) {
      return insufficient("no readings at the time of day of slot " + std::to_string(i) + " to forecast it from", days);
    }
    const size_t p = i % kSlotsPerDay;
    out.p10[i] = std::max(0.0, std::min(p50, p50 + lower[p]));
    out.p90[i] = std::max(p50, p50 + upper[p]);
  }
  return out;
}

Expected<QuantileTotal> ForecastSession::energy_until(int64_t origin, double until_slot) {
  const double span = until_slot - static_cast<double>(origin);
  if (span <= 0) return QuantileTotal{};
  if (span > kMaxTotalSteps) {
    return Error::invalid("until", std::to_string(span / kSlotsPerDay) + " days",
                          "a total can be forecast for at most " + std::to_string(kMaxTotalSteps / kSlotsPerDay) +
                              " days");
  }
  if (auto ok = check_history(origin); !ok.ok()) return std::move(ok).error();
  const auto steps = static_cast<int64_t>(std::ceil(span));
  std::vector<double> points;
  if (steps <= kSlotsPerDay) {  // a day or less: the remembered day-ahead forecast
    const auto& day = day_points(origin);
    points.assign(day.begin(), day.begin() + steps);
  } else {
    points = point_forecast(history_, origin, steps, params_);
  }
  double sum = 0;
  for (int64_t i = 0; i < steps; ++i) {
    const double weight = std::min(1.0, span - static_cast<double>(i));  // the last slot may be partial
    sum += weight * points[static_cast<size_t>(i)];
  }
  const RecentResiduals recent = recent_residuals(origin);
  const std::vector<double>& e = recent.day_totals;
  if (std::isnan(sum) || e.size() < kMinDailyResiduals) {
    return insufficient("too few recent days with 3/4 of their readings to learn the error of daily totals (" +
                            std::to_string(e.size()) + ", at least " + std::to_string(kMinDailyResiduals) + " needed)",
                        history_days(origin));
  }
  const auto count = static_cast<double>(e.size());
  double mean = 0;
  for (double x : e) mean += x;
  mean /= count;
  double var = 0, lag1 = 0;
  for (size_t i = 0; i < e.size(); ++i) {
    var += (e[i] - mean) * (e[i] - mean);
    if (i > 0) lag1 += (e[i] - mean) * (e[i - 1] - mean);
  }
  const double rho = var > 0 ? std::clamp(lag1 / var, 0.0, kMaxDailyCorrelation) : 0.0;
  var /= count - 1;
  // Variance of a sum of n days of AR(1) errors, n + 2 * sum_k (n - k) rho^k, plus the uncertainty of the bias
  // correction itself, which grows with n^2.
  const double n = span / kSlotsPerDay;
  double effective = n;
  double rho_k = 1;
  for (int k = 1; k < static_cast<int>(std::ceil(n)); ++k) {
    rho_k *= rho;
    effective += 2.0 * (n - k) * rho_k;
  }
  const double sd = std::sqrt(var * (effective + n * n / count));
  QuantileTotal out;
  out.p50 = std::max(0.0, sum + mean * n);
  const double half_width = kZ90 * params_.total_spread_scale * sd;
  out.p10 = std::max(0.0, out.p50 - half_width);
  out.p90 = out.p50 + half_width;
  return out;
}

}  // namespace wattguard::analytics
