// Consumption-pattern anomaly score per consumer, from its own history and its peers on the same transformer.
// Fed one finished day at a time; each day is compared with a slowly learned baseline of the consumer's own
// earlier days (level, base load, daily shape, flatness, zero runs, jumpiness, missing readings), peer-adjusted
// so that weather, seasons and public holidays that move everyone do not count. Not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace wattguard::analytics {

// Theft-direction evidence: each feature's z-score is signed so that positive means "more like theft".
enum class PatternFeature : int {
  kLevelDrop = 0,  // the day's energy below its usual level (h1, h3, h4, bypass, zero reporting)
  kBaseDrop,       // the night-time base load below usual (scaling attacks; holidays keep the fridge)
  kShapeChange,    // daily shape no longer correlates with the usual one (h4, h5, flat reporting)
  kReversal,       // the day correlates with the usual shape reversed in time (h6)
  kFlat,           // too little variation within the day (h5, flat reporting)
  kZeroRun,        // hours of zero while the meter is online (h2, intermittent bypass)
  kJumpiness,      // interval-to-interval jumps beyond usual (h3, h4 random factors)
  kMissing,        // share of the day without readings (meter taken offline)
  kCount
};
inline constexpr int kPatternFeatureCount = static_cast<int>(PatternFeature::kCount);
const char* pattern_feature_name(PatternFeature f);

struct PatternConfig {
  int slots_per_day = 96;
  int bootstrap_days = 7;          // the first days teach the baseline directly; scoring starts after them
  int lag_days = 7;                // later days teach the baseline only after this delay ...
  double freeze_score = 4.0;       // ... and only if they did not look anomalous,
  int max_freeze_days = 42;        // unless the baseline has been frozen this long (an honest permanent change)
  int baseline_span_days = 21;     // memory of the exponentially weighted baseline
  int score_days = 7;              // consumer score = mean daily score over this many recent days
  int min_peers = 4;               // peers needed for the peer adjustment
  double base_drop_margin = 0.35;  // base-load fall (log) counted beyond the day's fall; < 0 counts it all
  // The reversal z is at least this times shape_reversal() (the recent days' mean profile against the usual
  // one), so a full reversal is worth 5 sigma even when single noisy days hide it; <= 0 uses single days only.
  double weekly_reversal_scale = 5.0;
  // The flatness z is at least this times shape_flattening(), so a fully flattened profile (h5, flat reporting,
  // the averaged-out noise of h4) is worth about 5 sigma even when its single days look ordinary; <= 0 disables.
  double weekly_flat_scale = 1.5;
};

struct ConsumerPattern {
  bool ready = false;  // baseline learned; score meaningful
  double score = 0;    // mean daily anomaly score over the recent days (about 1 honest, 3+ suspicious)
  std::array<double, kPatternFeatureCount> recent_z{};  // mean theft-direction z per feature, recent days
  int recent_days = 0;
  double recent_kwh_per_day = 0;    // mean reported energy per day, recent days
  double baseline_kwh_per_day = 0;  // usual energy per day from the baseline
};

class PatternScorer {
 public:
  PatternScorer(size_t consumers, PatternConfig config = {});

  // One finished day for all consumers. energy and present are consumers x slots_per_day, row-major;
  // present[i] == 0 marks a missing reading (its energy is ignored).
  void push_day(const std::vector<float>& energy, const std::vector<uint8_t>& present);

  size_t size() const { return states_.size(); }
  int days() const { return days_; }
  const ConsumerPattern& consumer(size_t i) const { return states_[i].pattern; }
  // Usual energy of consumer i in slot s of the day (kWh), scaled by how the peers' use compares with their
  // usual on the last day (weather, season); negative when there is no baseline yet.
  double expected_slot_kwh(size_t i, int slot) const;
  // While false, no day teaches consumer i's baseline (its transformer loses energy and it is among the
  // suspects: its recent behaviour must not become the new normal). Days that would have taught are dropped.
  void set_learning(size_t i, bool learning) { states_[i].learning = learning; }
  // The last finished day of consumer i looked like an empty house (holiday): little use, base load intact,
  // nothing above it, and the small variation a fridge makes (unlike a flat, falsified report).
  bool last_day_vacant(size_t i) const { return states_[i].last_day_vacant; }
  // Days of baseline history consumer i has.
  int baseline_days(size_t i) const { return states_[i].baseline_days; }
  // How much more the recent days' mean profile of consumer i looks like its usual profile reversed in time
  // than like the usual profile itself: about -1 for an unchanged shape, +1 for a full reversal (h6), 0 without
  // enough history.
  double shape_reversal(size_t i) const;
  // How much flatter the recent days' mean profile of consumer i is than its usual profile: the log ratio of
  // their coefficients of variation over the day (about 0 unchanged, 3 or more for a constant report as in h5).
  double shape_flattening(size_t i) const;
  // Peers' use relative to their usual on the last day (median), 1 when unknown.
  double peer_level() const { return peer_level_; }
  // Human-readable evidence for consumer i (strongest first), e.g. "use 62% below its usual level for 7 days".
  std::vector<std::string> evidence(size_t i) const;

 private:
  static constexpr int kRaw = 7;  // raw features learned in the baseline (all but missing)
  struct LaggedDay {
    std::array<float, 24> hourly{};
    std::array<double, kRaw> raw{};
    double score = 0;
    bool valid = false;
  };
  struct State {
    std::array<double, 24> base_hourly{};
    std::array<double, kRaw> raw_mean{};
    std::array<double, kRaw> raw_dev{};
    int baseline_days = 0;
    int frozen_days = 0;
    std::deque<LaggedDay> lag;                                        // days waiting to teach the baseline
    std::deque<std::array<double, kPatternFeatureCount + 2>> recent;  // z..., daily score, kWh
    ConsumerPattern pattern;
    bool last_day_vacant = false;
    bool learning = true;
    std::array<double, 24> recent_hourly{};  // profile of the recent valid days (weight 1/4 per new day)
    int recent_profile_days = 0;
  };

  struct DayScores;  // one push_day's days and z-scores (pattern_scorer.cc)

  // The day's hourly profile and raw features against s's baseline; not valid when under half is present.
  LaggedDay measure_day(const float* day, const uint8_t* present, const State& s) const;
  // The steps of push_day, in order.
  DayScores score_features(const std::vector<float>& energy, const std::vector<uint8_t>& present);
  void fill_feature_z(size_t i, const LaggedDay& day, std::array<double, kPatternFeatureCount>& z) const;
  double update_peer_level(const DayScores& day);  // the peers' log level against their usual, 0 if unknown
  void cap_base_drop(DayScores& day, double peer_log_level) const;
  void subtract_peer_median(DayScores& day) const;
  void discount_honest_changes(State& s, const LaggedDay& day, std::array<double, kPatternFeatureCount>& z) const;
  void record_score(State& s, LaggedDay& day, const std::array<double, kPatternFeatureCount>& z) const;
  void teach_baseline(size_t i, const LaggedDay& day);
  void learn(State& s, const LaggedDay& day) const;
  void bootstrap(State& s) const;

  PatternConfig config_;
  std::vector<State> states_;
  int days_ = 0;
  double peer_level_ = 1.0;
};

}  // namespace wattguard::analytics
