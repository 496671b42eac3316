// Pattern scorer: daily features against a lagged, exponentially weighted baseline, z-scored, peer-adjusted.
#include "wattguard/analytics/pattern_scorer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

namespace wattguard::analytics {
namespace {

// Raw feature order inside the baseline (all but kMissing).
enum Raw { kRawLogTotal = 0, kRawLogBase, kRawCorr, kRawReversal, kRawLogCv, kRawZeroRun, kRawJumps };
// Smallest spread allowed per raw feature, so a very regular history does not make tiny changes look huge.
constexpr std::array<double, 7> kDevFloor = {0.08, 0.10, 0.05, 0.05, 0.05, 0.5, 0.03};

double correlation(const std::array<float, 24>& x, const std::array<double, 24>& y, bool reverse_y) {
  double mx = 0, my = 0;
  for (int h = 0; h < 24; ++h) {
    mx += x[h];
    my += y[h];
  }
  mx /= 24;
  my /= 24;
  double sxy = 0, sxx = 0, syy = 0;
  for (int h = 0; h < 24; ++h) {
    const double dx = x[h] - mx;
    const double dy = y[reverse_y ? 23 - h : h] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx <= 1e-12 || syy <= 1e-12) return 0.0;
  return sxy / std::sqrt(sxx * syy);
}

double median_of(std::vector<double> v) {
  if (v.empty()) return 0.0;
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  return v[mid];
}

}  // namespace

const char* pattern_feature_name(PatternFeature f) {
  switch (f) {
    case PatternFeature::kLevelDrop: return "level_drop";
    case PatternFeature::kBaseDrop: return "base_load_drop";
    case PatternFeature::kShapeChange: return "shape_change";
    case PatternFeature::kReversal: return "time_reversed";
    case PatternFeature::kFlat: return "flat";
    case PatternFeature::kZeroRun: return "zero_run";
    case PatternFeature::kJumpiness: return "jumpiness";
    case PatternFeature::kMissing: return "missing";
    case PatternFeature::kCount: break;
  }
  return "?";
}

PatternScorer::PatternScorer(size_t consumers, PatternConfig config) : config_(config), states_(consumers) {
  if (config_.slots_per_day < 24 || config_.slots_per_day % 24 != 0) config_.slots_per_day = 96;
}

double PatternScorer::expected_slot_kwh(size_t i, int slot) const {
  const State& s = states_[i];
  if (s.baseline_days == 0) return -1.0;
  const int per_hour = config_.slots_per_day / 24;
  return peer_level_ * s.base_hourly[static_cast<size_t>(slot / per_hour)] / per_hour;
}

void PatternScorer::compute_raw(const float* day, const uint8_t* present, const State& s, LaggedDay* out,
                                double* present_fraction, double* max_hourly) const {
  const int slots = config_.slots_per_day;
  const int per_hour = slots / 24;
  const double slot_h = 24.0 / slots;
  int present_n = 0;
  double sum = 0, sum2 = 0;
  for (int t = 0; t < slots; ++t) {
    if (!present[t]) continue;
    ++present_n;
    sum += day[t];
    sum2 += static_cast<double>(day[t]) * day[t];
  }
  *present_fraction = static_cast<double>(present_n) / slots;
  out->valid = *present_fraction >= 0.5;
  if (!out->valid) return;
  const double day_mean_slot = sum / present_n;
  for (int h = 0; h < 24; ++h) {
    double e = 0;
    int n = 0;
    for (int k = 0; k < per_hour; ++k) {
      const int t = h * per_hour + k;
      if (!present[t]) continue;
      e += day[t];
      ++n;
    }
    // Hours without readings borrow the day's mean so they neither add a drop nor a peak.
    out->hourly[static_cast<size_t>(h)] = static_cast<float>(n > 0 ? e * per_hour / n : day_mean_slot * per_hour);
  }
  double total = 0, min_hour = 1e300;
  *max_hourly = 0;
  for (float v : out->hourly) {
    total += v;
    min_hour = std::min(min_hour, static_cast<double>(v));
    *max_hourly = std::max(*max_hourly, static_cast<double>(v));
  }
  out->raw[kRawLogTotal] = std::log(total + 0.1);
  out->raw[kRawLogBase] = std::log(min_hour + 0.02);
  if (s.baseline_days > 0) {
    out->raw[kRawCorr] = correlation(out->hourly, s.base_hourly, false);
    out->raw[kRawReversal] = correlation(out->hourly, s.base_hourly, true);
  }
  const double mean = sum / present_n;
  const double var = std::max(0.0, sum2 / present_n - mean * mean);
  out->raw[kRawLogCv] = std::log(std::sqrt(var) / (mean + 1e-6) + 0.02);
  // Zero runs (hours) while readings arrive; a missing reading ends a run.
  const double zero_kwh = 0.004 * slot_h;
  int run = 0, longest = 0;
  for (int t = 0; t < slots; ++t) {
    if (present[t] && day[t] <= zero_kwh) {
      longest = std::max(longest, ++run);
    } else {
      run = 0;
    }
  }
  out->raw[kRawZeroRun] = longest * slot_h;
  // Typical jump between neighbouring intervals, on a log scale so it measures multiplicative noise.
  const double delta = 0.04 * slot_h;
  std::vector<double> jumps;
  jumps.reserve(static_cast<size_t>(slots));
  for (int t = 1; t < slots; ++t) {
    if (!present[t] || !present[t - 1]) continue;
    jumps.push_back(std::abs(std::log(day[t] + delta) - std::log(day[t - 1] + delta)));
  }
  out->raw[kRawJumps] = median_of(std::move(jumps));
}

void PatternScorer::bootstrap(State& s) const {
  int n = 0;
  std::array<double, 24> hourly{};
  for (const auto& d : s.lag) {
    if (!d.valid) continue;
    ++n;
    for (int h = 0; h < 24; ++h) hourly[h] += d.hourly[h];
  }
  if (n == 0) {
    s.lag.clear();
    return;
  }
  for (double& v : hourly) v /= n;
  s.base_hourly = hourly;
  s.baseline_days = n;
  std::array<double, kRaw> mean{};
  for (auto& d : s.lag) {
    if (!d.valid) continue;
    d.raw[kRawCorr] = correlation(d.hourly, s.base_hourly, false);
    d.raw[kRawReversal] = correlation(d.hourly, s.base_hourly, true);
    for (int f = 0; f < kRaw; ++f) mean[f] += d.raw[f] / n;
  }
  std::array<double, kRaw> dev{};
  for (const auto& d : s.lag) {
    if (!d.valid) continue;
    for (int f = 0; f < kRaw; ++f) dev[f] += std::abs(d.raw[f] - mean[f]) / n;
  }
  // A spread from a handful of days, and in-sample correlations, understate the real spread: widen them.
  for (double& d : dev) d *= 1.0 + 3.0 / n;
  dev[kRawCorr] *= 1.3;
  dev[kRawReversal] *= 1.3;
  s.raw_mean = mean;
  s.raw_dev = dev;
  s.lag.clear();
}

void PatternScorer::learn(State& s, const LaggedDay& d) const {
  const double alpha = 1.0 / std::min(s.baseline_days + 1, config_.baseline_span_days);
  for (int h = 0; h < 24; ++h) s.base_hourly[h] += alpha * (d.hourly[h] - s.base_hourly[h]);
  for (int f = 0; f < kRaw; ++f) {
    const double diff = d.raw[f] - s.raw_mean[f];
    s.raw_mean[f] += alpha * diff;
    s.raw_dev[f] += alpha * (std::abs(diff) - s.raw_dev[f]);
  }
  ++s.baseline_days;
}

void PatternScorer::push_day(const std::vector<float>& energy, const std::vector<uint8_t>& present) {
  const size_t n = states_.size();
  const size_t slots = static_cast<size_t>(config_.slots_per_day);
  constexpr int kF = kPatternFeatureCount;
  std::vector<LaggedDay> days(n);
  std::vector<std::array<double, kF>> z(n);
  std::vector<uint8_t> scored(n, 0), valid_scored(n, 0);
  std::vector<double> present_fraction(n, 0), max_hourly(n, 0);
  for (size_t i = 0; i < n; ++i) {
    State& s = states_[i];
    compute_raw(&energy[i * slots], &present[i * slots], s, &days[i], &present_fraction[i], &max_hourly[i]);
    if (days[i].valid) {
      const double w = s.recent_profile_days == 0 ? 1.0 : 0.25;
      for (int h = 0; h < 24; ++h) s.recent_hourly[h] += w * (days[i].hourly[h] - s.recent_hourly[h]);
      ++s.recent_profile_days;
    }
    z[i].fill(0.0);
    if (s.baseline_days == 0) continue;
    scored[i] = 1;
    z[i][static_cast<int>(PatternFeature::kMissing)] = 4.0 * (1.0 - present_fraction[i]);
    if (!days[i].valid) continue;
    valid_scored[i] = 1;
    auto zf = [&](int raw) {
      return (days[i].raw[raw] - s.raw_mean[raw]) / (1.25 * std::max(s.raw_dev[raw], kDevFloor[raw]));
    };
    z[i][static_cast<int>(PatternFeature::kLevelDrop)] = -zf(kRawLogTotal);
    z[i][static_cast<int>(PatternFeature::kBaseDrop)] = -zf(kRawLogBase);
    z[i][static_cast<int>(PatternFeature::kShapeChange)] = -zf(kRawCorr);
    // One day of a noisy household says little about its shape; the recent days' mean profile says much more.
    double reversal = zf(kRawReversal);
    if (config_.weekly_reversal_scale > 0) reversal = std::max(reversal, config_.weekly_reversal_scale * shape_reversal(i));
    z[i][static_cast<int>(PatternFeature::kReversal)] = reversal;
    double flat = -zf(kRawLogCv);
    if (config_.weekly_flat_scale > 0) flat = std::max(flat, config_.weekly_flat_scale * shape_flattening(i));
    z[i][static_cast<int>(PatternFeature::kFlat)] = flat;
    z[i][static_cast<int>(PatternFeature::kZeroRun)] = zf(kRawZeroRun);
    z[i][static_cast<int>(PatternFeature::kJumpiness)] = zf(kRawJumps);
  }
  double peer_log_level = 0;  // log of the peers' use against their usual today (0 when too few peers)
  {
    std::vector<double> ratios;
    for (size_t i = 0; i < n; ++i) {
      if (!valid_scored[i]) continue;
      const double usual = std::exp(states_[i].raw_mean[kRawLogTotal]);
      ratios.push_back(std::exp(days[i].raw[kRawLogTotal]) / usual);
    }
    if (static_cast<int>(ratios.size()) >= config_.min_peers) {
      peer_level_ = std::clamp(median_of(ratios), 0.5, 2.0);
      peer_log_level = std::log(peer_level_);
    }
  }
  // Scaling the reports (h1, h3, a partial bypass) lowers the base load and the day's energy by the same factor;
  // an honest additive change (a night-time appliance switched off or replaced) lowers the base far more than
  // the day. Only the part of the base's fall that the day's fall (against the peers, so the season's rise in
  // use does not hide a theft) can account for counts as evidence.
  if (config_.base_drop_margin >= 0) {
    for (size_t i = 0; i < n; ++i) {
      if (!valid_scored[i]) continue;
      const State& s = states_[i];
      const double day_fall = std::max(0.0, s.raw_mean[kRawLogTotal] - days[i].raw[kRawLogTotal] + peer_log_level);
      const double base_scale = 1.25 * std::max(s.raw_dev[kRawLogBase], kDevFloor[kRawLogBase]);
      double& base_z = z[i][static_cast<int>(PatternFeature::kBaseDrop)];
      base_z = std::min(base_z, (day_fall + config_.base_drop_margin) / base_scale);
    }
  }
  // Peer adjustment: what moves most consumers of the transformer that day (weather, season, a public holiday)
  // is not evidence against any one of them.
  std::vector<double> column;
  for (int f = 0; f < kF; ++f) {
    if (f == static_cast<int>(PatternFeature::kMissing)) continue;
    column.clear();
    for (size_t i = 0; i < n; ++i) {
      if (valid_scored[i]) column.push_back(z[i][f]);
    }
    if (static_cast<int>(column.size()) < config_.min_peers) continue;
    const double common = median_of(column);
    for (size_t i = 0; i < n; ++i) {
      if (valid_scored[i]) z[i][f] -= common;
    }
  }
  for (size_t i = 0; i < n; ++i) {
    State& s = states_[i];
    s.last_day_vacant = false;
    if (scored[i]) {
      auto& zi = z[i];
      if (valid_scored[i]) {
        const double usual_total = std::exp(s.raw_mean[kRawLogTotal]) - 0.1;
        const double usual_base = std::exp(s.raw_mean[kRawLogBase]) - 0.02;
        const double total = std::exp(days[i].raw[kRawLogTotal]) - 0.1;
        // An empty house (holiday): little use, but the base load (fridge, standby) is intact and nothing
        // rises above it. Theft by scaling lowers the base load too, so this does not excuse it.
        // Timers (pool pump, off-peak water heater) may still run, so look at the typical hour, not the peak.
        std::array<float, 24> sorted_hours = days[i].hourly;
        std::nth_element(sorted_hours.begin(), sorted_hours.begin() + 12, sorted_hours.end());
        const double median_hour = sorted_hours[12];
        const bool vacant_like = total < 0.6 * usual_total && median_hour <= 1.5 * usual_base + 0.03 &&
                                 zi[static_cast<int>(PatternFeature::kBaseDrop)] < 1.5 &&
                                 days[i].raw[kRawLogCv] > std::log(0.05 + 0.02);
        s.last_day_vacant = vacant_like;
        if (vacant_like) {
          for (PatternFeature f : {PatternFeature::kLevelDrop, PatternFeature::kShapeChange, PatternFeature::kFlat,
                                   PatternFeature::kReversal}) {
            zi[static_cast<int>(f)] *= 0.3;
          }
        }
        // More use with a new shape is a new appliance, not theft.
        if (zi[static_cast<int>(PatternFeature::kLevelDrop)] < -1.0) {
          zi[static_cast<int>(PatternFeature::kShapeChange)] *= 0.5;
          zi[static_cast<int>(PatternFeature::kFlat)] *= 0.5;
        }
      }
      double sq = 0;
      for (int f = 0; f < kF; ++f) {
        const double v = std::clamp(zi[f], 0.0, 10.0);
        sq += v * v;
      }
      days[i].score = std::sqrt(sq);
      std::array<double, kF + 2> row{};
      for (int f = 0; f < kF; ++f) row[f] = zi[f];
      row[kF] = days[i].score;
      row[kF + 1] = days[i].valid ? std::exp(days[i].raw[kRawLogTotal]) - 0.1 : -1.0;
      s.recent.push_back(row);
      while (static_cast<int>(s.recent.size()) > config_.score_days) s.recent.pop_front();
      ConsumerPattern& p = s.pattern;
      p.ready = true;
      p.recent_days = static_cast<int>(s.recent.size());
      p.recent_z.fill(0.0);
      p.score = 0;
      double kwh = 0;
      int kwh_n = 0;
      for (const auto& r : s.recent) {
        for (int f = 0; f < kF; ++f) p.recent_z[f] += r[f] / p.recent_days;
        p.score += r[kF] / p.recent_days;
        if (r[kF + 1] >= 0) {
          kwh += r[kF + 1];
          ++kwh_n;
        }
      }
      p.recent_kwh_per_day = kwh_n > 0 ? kwh / kwh_n : 0.0;
      p.baseline_kwh_per_day = std::max(0.0, std::exp(s.raw_mean[kRawLogTotal]) - 0.1);
    }
    // Teach the baseline: directly while bootstrapping, later with a delay and only with unremarkable days.
    s.lag.push_back(days[i]);
    if (s.baseline_days == 0) {
      if (static_cast<int>(s.lag.size()) >= config_.bootstrap_days) bootstrap(s);
      continue;
    }
    while (static_cast<int>(s.lag.size()) > config_.lag_days) {
      const LaggedDay old = s.lag.front();
      s.lag.pop_front();
      if (!old.valid || !s.learning) continue;
      // A household whose recent days look more like its usual shape reversed than like the usual shape teaches
      // nothing, even on days that scored low: otherwise a reversal (h6) slowly becomes its new normal.
      const bool reversed_now = config_.weekly_reversal_scale > 0 && shape_reversal(i) > 0;
      if ((old.score < config_.freeze_score && !reversed_now) || s.frozen_days >= config_.max_freeze_days) {
        learn(s, old);
        s.frozen_days = 0;
      } else {
        ++s.frozen_days;
      }
    }
  }
  ++days_;
}

double PatternScorer::shape_reversal(size_t i) const {
  const State& s = states_[i];
  if (s.baseline_days == 0 || s.recent_profile_days < 3) return 0.0;
  std::array<float, 24> recent{};
  std::array<float, 24> usual{};
  for (int h = 0; h < 24; ++h) {
    recent[h] = static_cast<float>(s.recent_hourly[h]);
    usual[h] = static_cast<float>(s.base_hourly[h]);
  }
  const double forward = correlation(recent, s.base_hourly, false);
  const double reversed = correlation(recent, s.base_hourly, true);
  // How far apart the usual shape and its reverse are: a nearly symmetric day cannot show a reversal.
  const double symmetry = correlation(usual, s.base_hourly, true);
  return (reversed - forward) / std::max(1.0 - symmetry, 0.1);
}

double PatternScorer::shape_flattening(size_t i) const {
  const State& s = states_[i];
  if (s.baseline_days == 0 || s.recent_profile_days < 3) return 0.0;
  auto variation = [](const auto& profile) {
    double mean = 0, square = 0;
    for (double x : profile) {
      mean += x / 24;
      square += x * x / 24;
    }
    return mean > 1e-9 ? std::sqrt(std::max(0.0, square - mean * mean)) / mean : 0.0;
  };
  return std::log(variation(s.base_hourly) + 0.02) - std::log(variation(s.recent_hourly) + 0.02);
}

std::vector<std::string> PatternScorer::evidence(size_t i) const {
  const ConsumerPattern& p = states_[i].pattern;
  std::vector<std::string> out;
  if (!p.ready) {
    out.emplace_back("pattern: not enough history yet (needs " + std::to_string(config_.bootstrap_days + 1) +
                     " days)");
    return out;
  }
  std::vector<int> order(kPatternFeatureCount);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) { return p.recent_z[a] > p.recent_z[b]; });
  char buf[200];
  for (int f : order) {
    const double zv = p.recent_z[f];
    if (zv < 2.0) break;
    switch (static_cast<PatternFeature>(f)) {
      case PatternFeature::kLevelDrop: {
        const double drop = p.baseline_kwh_per_day > 0 ? 1.0 - p.recent_kwh_per_day / p.baseline_kwh_per_day : 0;
        std::snprintf(buf, sizeof buf, "use %.0f%% below its usual level (%.1f vs %.1f kWh/day, z=%.1f)",
                      100.0 * drop, p.recent_kwh_per_day, p.baseline_kwh_per_day, zv);
        break;
      }
      case PatternFeature::kBaseDrop:
        std::snprintf(buf, sizeof buf, "base load (quietest hour) below usual (z=%.1f)", zv);
        break;
      case PatternFeature::kShapeChange:
        std::snprintf(buf, sizeof buf, "daily shape no longer matches its usual profile (z=%.1f)", zv);
        break;
      case PatternFeature::kReversal:
        std::snprintf(buf, sizeof buf, "daily profile looks reversed in time (z=%.1f)", zv);
        break;
      case PatternFeature::kFlat:
        std::snprintf(buf, sizeof buf, "readings unusually flat within the day (z=%.1f)", zv);
        break;
      case PatternFeature::kZeroRun:
        std::snprintf(buf, sizeof buf, "hours of zero readings while online (z=%.1f)", zv);
        break;
      case PatternFeature::kJumpiness:
        std::snprintf(buf, sizeof buf, "erratic jumps between intervals (z=%.1f)", zv);
        break;
      case PatternFeature::kMissing:
        std::snprintf(buf, sizeof buf, "readings missing on %.0f%% of recent intervals", 100.0 * zv / 4.0);
        break;
      case PatternFeature::kCount:
        continue;
    }
    out.emplace_back(buf);
  }
  std::snprintf(buf, sizeof buf, "pattern score %.2f over %d days", p.score, p.recent_days);
  out.emplace_back(buf);
  return out;
}

}  // namespace wattguard::analytics
