// Pattern scorer: daily features against a lagged, exponentially weighted baseline, z-scored, peer-adjusted.
#include "wattguard/analytics/pattern_scorer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "analytics/median.h"

namespace wattguard::analytics {
namespace {

// Raw feature order inside the baseline (all but kMissing).
enum Raw { kRawLogTotal = 0, kRawLogBase, kRawCorr, kRawReversal, kRawLogCv, kRawZeroRun, kRawJumps };

// Tuning constants. Unless a later commit is named, each came with the first pattern scorer (6a5c7b9, whose
// commit gives no reasons) and has stayed since; the docs' section 4 (docs/theft-detection.md) says what the
// resulting features catch.

// Smallest spread allowed per raw feature, so a very regular history does not make tiny changes look huge;
// in the raw features' units (log kWh for level and base, correlation, log CV, hours, log jump).
constexpr std::array<double, 7> kDevFloor = {0.08, 0.10, 0.05, 0.05, 0.05, 0.5, 0.03};
// A day with readings in fewer than half its intervals gives no features (only its missing share counts).
constexpr double kMinPresentFraction = 0.5;
// Offsets inside the logs, so an empty day or an empty night hour gives a finite, not a huge, value: 0.1 kWh
// a day and 0.02 kWh an hour are well below any occupied home's use.
constexpr double kDayLogOffsetKwh = 0.1;
constexpr double kBaseLogOffsetKwh = 0.02;
// Offset inside the log of a coefficient of variation (the day's, and the profiles' in shape_flattening), so a
// constant report gives log(0.02), not minus infinity.
constexpr double kCvLogOffset = 0.02;
// Keeps the coefficient of variation finite on a day of zeros.
constexpr double kCvMeanFloorKwh = 1e-6;
// An interval below 4 W of mean power counts as a zero reading for the zero-run feature (a standby home
// draws more).
constexpr double kZeroPowerKw = 0.004;
// Offset (as 40 W of mean power) inside the log of the interval-to-interval jumps, so jumps between tiny
// readings do not look huge.
constexpr double kJumpLogOffsetKw = 0.04;
// Below this a profile is constant and has no correlation with anything (0 is returned).
constexpr double kMinCorrelationSpread = 1e-12;
// The bootstrap's spread from only n days is widened by 1 + 3/n (a62d294: a spread from a handful of days
// understates the real one) ...
constexpr double kBootstrapSpreadDays = 3.0;
// ... and the correlation features' by 1.3 more, since they are measured against a profile learned from the
// same days (in-sample).
constexpr double kBootstrapCorrelationWidening = 1.3;
// Weight of each new valid day in the recent days' mean profile (790b05e: about the last week, steadier than
// one noisy day, quick enough to see an h6 reversal).
constexpr double kRecentProfileWeight = 0.25;
// z of the missing feature for a day with no readings at all (scales with the missing share): a whole day
// offline is as strong as a 4-sigma feature.
constexpr double kMissingZPerDay = 4.0;
// Every feature's spread is widened by 1.25 when z-scoring: the mean absolute deviation is about 0.8 sigma
// for a normal spread, so this turns it into a standard deviation.
constexpr double kSpreadToSigma = 1.25;
// The peers' level against their usual is held within a factor of 2 (a62d294), so a day on which most meters
// were offline or mis-read cannot scale everyone's expected use wildly.
constexpr double kMinPeerLevel = 0.5;
constexpr double kMaxPeerLevel = 2.0;
// An empty-house (holiday) day: below 60 % of the usual day's energy (42b6aca), with its median hour within
// 1.5 x the usual base load + 0.03 kWh (fridge and standby intact, nothing running above them; the median, not
// the peak, so timers may still run), a base-load z under 1.5 (not a scaling theft, which lowers the base too)
// and a coefficient of variation above 0.05 (a fridge cycles; a falsified flat report does not).
constexpr double kVacantMaxDayShare = 0.6;
constexpr double kVacantMaxMedianHourPerBase = 1.5;
constexpr double kVacantMedianHourMarginKwh = 0.03;
constexpr double kVacantMaxBaseDropZ = 1.5;
constexpr double kVacantMinCv = 0.05;
// ... whose level, shape, flatness and reversal evidence is cut to 30 % (still counts if it goes on for long).
constexpr double kVacantEvidenceShare = 0.3;
// More use (level z below -1, one sigma above usual) with a new shape is a new appliance: its shape and
// flatness evidence is halved.
constexpr double kNewApplianceLevelZ = -1.0;
constexpr double kNewApplianceEvidenceShare = 0.5;
// Each feature adds at most 10 sigma to the daily score, so one wild feature cannot swamp the others.
constexpr double kMaxFeatureZ = 10.0;
// The recent days' mean profile needs 3 valid days before its shape is compared with the usual one.
constexpr int kMinRecentProfileDays = 3;
// Smallest difference between the usual shape and its reverse that shape_reversal divides by: a nearly
// symmetric day cannot show a reversal, and must not make a small difference look like one.
constexpr double kMinReversalContrast = 0.1;
// A profile with less mean use than this has no coefficient of variation (0).
constexpr double kProfileMeanFloorKwh = 1e-9;
// evidence() lists features at 2 sigma or more.
constexpr double kEvidenceMinZ = 2.0;

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
  if (sxx <= kMinCorrelationSpread || syy <= kMinCorrelationSpread) return 0.0;
  return sxy / std::sqrt(sxx * syy);
}

// The divisor of a raw feature's z-score: its learned spread, floored, as a standard deviation.
double z_scale(double raw_dev, int raw) { return kSpreadToSigma * std::max(raw_dev, kDevFloor[raw]); }

int feature(PatternFeature f) { return static_cast<int>(f); }

// Longest run of zero readings (hours) while readings arrive; a missing reading ends a run.
double longest_zero_run_h(const float* day, const uint8_t* present, int slots) {
  const double slot_h = 24.0 / slots;
  const double zero_kwh = kZeroPowerKw * slot_h;
  int run = 0, longest = 0;
  for (int t = 0; t < slots; ++t) {
    if (present[t] && day[t] <= zero_kwh) {
      longest = std::max(longest, ++run);
    } else {
      run = 0;
    }
  }
  return longest * slot_h;
}

// Typical jump between neighbouring intervals, on a log scale so it measures multiplicative noise.
double median_jump(const float* day, const uint8_t* present, int slots) {
  const double slot_h = 24.0 / slots;
  const double delta = kJumpLogOffsetKw * slot_h;
  std::vector<double> jumps;
  jumps.reserve(static_cast<size_t>(slots));
  for (int t = 1; t < slots; ++t) {
    if (!present[t] || !present[t - 1]) continue;
    jumps.push_back(std::abs(std::log(day[t] + delta) - std::log(day[t - 1] + delta)));
  }
  return median_of(std::move(jumps));
}

double present_fraction(const uint8_t* present, int slots) {
  int present_n = 0;
  for (int t = 0; t < slots; ++t) {
    if (present[t]) ++present_n;
  }
  return static_cast<double>(present_n) / slots;
}

}  // namespace

// One push_day's working state: each consumer's measured day and its theft-direction z-scores.
struct PatternScorer::DayScores {
  std::vector<LaggedDay> days;
  std::vector<std::array<double, kPatternFeatureCount>> z;
  std::vector<uint8_t> scored;        // the consumer has a baseline: the day gets a score
  std::vector<uint8_t> valid_scored;  // ... and enough readings for the features beyond the missing share
};

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

PatternScorer::LaggedDay PatternScorer::measure_day(const float* day, const uint8_t* present, const State& s) const {
  const int slots = config_.slots_per_day;
  const int per_hour = slots / 24;
  LaggedDay out;
  out.valid = present_fraction(present, slots) >= kMinPresentFraction;
  if (!out.valid) return out;
  int present_n = 0;
  double sum = 0, sum2 = 0;
  for (int t = 0; t < slots; ++t) {
    if (!present[t]) continue;
    ++present_n;
    sum += day[t];
    sum2 += static_cast<double>(day[t]) * day[t];
  }
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
    out.hourly[static_cast<size_t>(h)] = static_cast<float>(n > 0 ? e * per_hour / n : day_mean_slot * per_hour);
  }
  double total = 0, min_hour = 1e300;
  for (float v : out.hourly) {
    total += v;
    min_hour = std::min(min_hour, static_cast<double>(v));
  }
  out.raw[kRawLogTotal] = std::log(total + kDayLogOffsetKwh);
  out.raw[kRawLogBase] = std::log(min_hour + kBaseLogOffsetKwh);
  if (s.baseline_days > 0) {
    out.raw[kRawCorr] = correlation(out.hourly, s.base_hourly, false);
    out.raw[kRawReversal] = correlation(out.hourly, s.base_hourly, true);
  }
  const double mean = sum / present_n;
  const double var = std::max(0.0, sum2 / present_n - mean * mean);
  out.raw[kRawLogCv] = std::log(std::sqrt(var) / (mean + kCvMeanFloorKwh) + kCvLogOffset);
  out.raw[kRawZeroRun] = longest_zero_run_h(day, present, slots);
  out.raw[kRawJumps] = median_jump(day, present, slots);
  return out;
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
  for (double& d : dev) d *= 1.0 + kBootstrapSpreadDays / n;
  dev[kRawCorr] *= kBootstrapCorrelationWidening;
  dev[kRawReversal] *= kBootstrapCorrelationWidening;
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

// One finished day, in six steps: measure each consumer's day and z-score it against its baseline; learn
// from the peers how the day went for everyone; cap the base-load evidence by the day's fall; subtract what
// moved all peers; discount honest changes and record each consumer's score; teach the baselines.
void PatternScorer::push_day(const std::vector<float>& energy, const std::vector<uint8_t>& present) {
  DayScores day = score_features(energy, present);
  const double peer_log_level = update_peer_level(day);
  if (config_.base_drop_margin >= 0) cap_base_drop(day, peer_log_level);
  subtract_peer_median(day);
  for (size_t i = 0; i < states_.size(); ++i) {
    State& s = states_[i];
    s.last_day_vacant = false;
    if (day.scored[i]) {
      if (day.valid_scored[i]) discount_honest_changes(s, day.days[i], day.z[i]);
      record_score(s, day.days[i], day.z[i]);
    }
    teach_baseline(i, day.days[i]);
  }
  ++days_;
}

PatternScorer::DayScores PatternScorer::score_features(const std::vector<float>& energy,
                                                       const std::vector<uint8_t>& present) {
  const size_t n = states_.size();
  const size_t slots = static_cast<size_t>(config_.slots_per_day);
  DayScores out;
  out.days.resize(n);
  out.z.resize(n);
  out.scored.assign(n, 0);
  out.valid_scored.assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    State& s = states_[i];
    LaggedDay& d = out.days[i];
    d = measure_day(&energy[i * slots], &present[i * slots], s);
    if (d.valid) {
      const double w = s.recent_profile_days == 0 ? 1.0 : kRecentProfileWeight;
      for (int h = 0; h < 24; ++h) s.recent_hourly[h] += w * (d.hourly[h] - s.recent_hourly[h]);
      ++s.recent_profile_days;
    }
    out.z[i].fill(0.0);
    if (s.baseline_days == 0) continue;
    out.scored[i] = 1;
    out.z[i][feature(PatternFeature::kMissing)] =
        kMissingZPerDay * (1.0 - present_fraction(&present[i * slots], config_.slots_per_day));
    if (!d.valid) continue;
    out.valid_scored[i] = 1;
    fill_feature_z(i, d, out.z[i]);
  }
  return out;
}

void PatternScorer::fill_feature_z(size_t i, const LaggedDay& day, std::array<double, kPatternFeatureCount>& z) const {
  const State& s = states_[i];
  auto zf = [&](int raw) { return (day.raw[raw] - s.raw_mean[raw]) / z_scale(s.raw_dev[raw], raw); };
  z[feature(PatternFeature::kLevelDrop)] = -zf(kRawLogTotal);
  z[feature(PatternFeature::kBaseDrop)] = -zf(kRawLogBase);
  z[feature(PatternFeature::kShapeChange)] = -zf(kRawCorr);
  // One day of a noisy household says little about its shape; the recent days' mean profile says much more.
  double reversal = zf(kRawReversal);
  if (config_.weekly_reversal_scale > 0) {
    reversal = std::max(reversal, config_.weekly_reversal_scale * shape_reversal(i));
  }
  z[feature(PatternFeature::kReversal)] = reversal;
  double flat = -zf(kRawLogCv);
  if (config_.weekly_flat_scale > 0) flat = std::max(flat, config_.weekly_flat_scale * shape_flattening(i));
  z[feature(PatternFeature::kFlat)] = flat;
  z[feature(PatternFeature::kZeroRun)] = zf(kRawZeroRun);
  z[feature(PatternFeature::kJumpiness)] = zf(kRawJumps);
}

double PatternScorer::update_peer_level(const DayScores& day) {
  std::vector<double> ratios;
  for (size_t i = 0; i < states_.size(); ++i) {
    if (!day.valid_scored[i]) continue;
    const double usual = std::exp(states_[i].raw_mean[kRawLogTotal]);
    ratios.push_back(std::exp(day.days[i].raw[kRawLogTotal]) / usual);
  }
  if (static_cast<int>(ratios.size()) < config_.min_peers) return 0.0;
  peer_level_ = std::clamp(median_of(ratios), kMinPeerLevel, kMaxPeerLevel);
  return std::log(peer_level_);
}

// Scaling the reports (h1, h3, a partial bypass) lowers the base load and the day's energy by the same factor;
// an honest additive change (a night-time appliance switched off or replaced) lowers the base far more than
// the day. Only the part of the base's fall that the day's fall (against the peers, so the season's rise in
// use does not hide a theft) can account for counts as evidence.
void PatternScorer::cap_base_drop(DayScores& day, double peer_log_level) const {
  for (size_t i = 0; i < states_.size(); ++i) {
    if (!day.valid_scored[i]) continue;
    const State& s = states_[i];
    const double day_fall = std::max(0.0, s.raw_mean[kRawLogTotal] - day.days[i].raw[kRawLogTotal] + peer_log_level);
    const double base_scale = z_scale(s.raw_dev[kRawLogBase], kRawLogBase);
    double& base_z = day.z[i][feature(PatternFeature::kBaseDrop)];
    base_z = std::min(base_z, (day_fall + config_.base_drop_margin) / base_scale);
  }
}

// Peer adjustment: what moves most consumers of the transformer that day (weather, season, a public holiday)
// is not evidence against any one of them.
void PatternScorer::subtract_peer_median(DayScores& day) const {
  const size_t n = states_.size();
  std::vector<double> column;
  for (int f = 0; f < kPatternFeatureCount; ++f) {
    if (f == feature(PatternFeature::kMissing)) continue;
    column.clear();
    for (size_t i = 0; i < n; ++i) {
      if (day.valid_scored[i]) column.push_back(day.z[i][f]);
    }
    if (static_cast<int>(column.size()) < config_.min_peers) continue;
    const double common = median_of(column);
    for (size_t i = 0; i < n; ++i) {
      if (day.valid_scored[i]) day.z[i][f] -= common;
    }
  }
}

void PatternScorer::discount_honest_changes(State& s, const LaggedDay& day,
                                            std::array<double, kPatternFeatureCount>& z) const {
  const double usual_total = std::exp(s.raw_mean[kRawLogTotal]) - kDayLogOffsetKwh;
  const double usual_base = std::exp(s.raw_mean[kRawLogBase]) - kBaseLogOffsetKwh;
  const double total = std::exp(day.raw[kRawLogTotal]) - kDayLogOffsetKwh;
  // An empty house (holiday): little use, but the base load (fridge, standby) is intact and nothing
  // rises above it. Theft by scaling lowers the base load too, so this does not excuse it.
  // Timers (pool pump, off-peak water heater) may still run, so look at the typical hour, not the peak.
  std::array<float, 24> sorted_hours = day.hourly;
  std::nth_element(sorted_hours.begin(), sorted_hours.begin() + 12, sorted_hours.end());
  const double median_hour = sorted_hours[12];
  const bool vacant_like = total < kVacantMaxDayShare * usual_total &&
                           median_hour <= kVacantMaxMedianHourPerBase * usual_base + kVacantMedianHourMarginKwh &&
                           z[feature(PatternFeature::kBaseDrop)] < kVacantMaxBaseDropZ &&
                           day.raw[kRawLogCv] > std::log(kVacantMinCv + kCvLogOffset);
  s.last_day_vacant = vacant_like;
  if (vacant_like) {
    for (PatternFeature f :
         {PatternFeature::kLevelDrop, PatternFeature::kShapeChange, PatternFeature::kFlat, PatternFeature::kReversal}) {
      z[feature(f)] *= kVacantEvidenceShare;
    }
  }
  // More use with a new shape is a new appliance, not theft.
  if (z[feature(PatternFeature::kLevelDrop)] < kNewApplianceLevelZ) {
    z[feature(PatternFeature::kShapeChange)] *= kNewApplianceEvidenceShare;
    z[feature(PatternFeature::kFlat)] *= kNewApplianceEvidenceShare;
  }
}

void PatternScorer::record_score(State& s, LaggedDay& day, const std::array<double, kPatternFeatureCount>& z) const {
  constexpr int kF = kPatternFeatureCount;
  double sq = 0;
  for (int f = 0; f < kF; ++f) {
    const double v = std::clamp(z[f], 0.0, kMaxFeatureZ);
    sq += v * v;
  }
  day.score = std::sqrt(sq);
  std::array<double, kF + 2> row{};
  for (int f = 0; f < kF; ++f) row[f] = z[f];
  row[kF] = day.score;
  row[kF + 1] = day.valid ? std::exp(day.raw[kRawLogTotal]) - kDayLogOffsetKwh : -1.0;
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
  p.baseline_kwh_per_day = std::max(0.0, std::exp(s.raw_mean[kRawLogTotal]) - kDayLogOffsetKwh);
}

// Teach the baseline: directly while bootstrapping, later with a delay and only with unremarkable days.
void PatternScorer::teach_baseline(size_t i, const LaggedDay& day) {
  State& s = states_[i];
  s.lag.push_back(day);
  if (s.baseline_days == 0) {
    if (static_cast<int>(s.lag.size()) >= config_.bootstrap_days) bootstrap(s);
    return;
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
double PatternScorer::shape_reversal(size_t i) const {
  const State& s = states_[i];
  if (s.baseline_days == 0 || s.recent_profile_days < kMinRecentProfileDays) return 0.0;
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
  return (reversed - forward) / std::max(1.0 - symmetry, kMinReversalContrast);
}

double PatternScorer::shape_flattening(size_t i) const {
  const State& s = states_[i];
  if (s.baseline_days == 0 || s.recent_profile_days < kMinRecentProfileDays) return 0.0;
  auto variation = [](const auto& profile) {
    double mean = 0, square = 0;
    for (double x : profile) {
      mean += x / 24;
      square += x * x / 24;
    }
    return mean > kProfileMeanFloorKwh ? std::sqrt(std::max(0.0, square - mean * mean)) / mean : 0.0;
  };
  return std::log(variation(s.base_hourly) + kCvLogOffset) - std::log(variation(s.recent_hourly) + kCvLogOffset);
}

std::vector<std::string> PatternScorer::evidence(size_t i) const {
  const ConsumerPattern& p = states_[i].pattern;
  std::vector<std::string> out;
  if (!p.ready) {
    out.emplace_back("pattern: not enough history yet (needs " + std::to_string(config_.bootstrap_days + 1) + " days)");
    return out;
  }
  std::vector<int> order(kPatternFeatureCount);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) { return p.recent_z[a] > p.recent_z[b]; });
  char buf[200];
  for (int f : order) {
    const double zv = p.recent_z[f];
    if (zv < kEvidenceMinZ) break;
    switch (static_cast<PatternFeature>(f)) {
      case PatternFeature::kLevelDrop: {
        const double drop = p.baseline_kwh_per_day > 0 ? 1.0 - p.recent_kwh_per_day / p.baseline_kwh_per_day : 0;
        std::snprintf(buf, sizeof buf, "use %.0f%% below its usual level (%.1f vs %.1f kWh/day, z=%.1f)", 100.0 * drop,
                      p.recent_kwh_per_day, p.baseline_kwh_per_day, zv);
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
        std::snprintf(buf, sizeof buf, "readings missing on %.0f%% of recent intervals", 100.0 * zv / kMissingZPerDay);
        break;
      case PatternFeature::kCount: continue;
    }
    out.emplace_back(buf);
  }
  std::snprintf(buf, sizeof buf, "pattern score %.2f over %d days", p.score, p.recent_days);
  out.emplace_back(buf);
  return out;
}

}  // namespace wattguard::analytics
