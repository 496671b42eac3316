// Plain-words lines for people: why a consumer is (or is not) a suspect, and what a transformer's alert means,
// with the numbers a reviewer needs ("uses 62 % less since 12 Mar while ..."), never the detectors' statistics.
// Pure functions; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "wattguard/analytics/pattern_scorer.h"

namespace wattguard::analytics {

struct SuspectFacts {
  enum class Decision : uint8_t { kClear, kFlagged, kUnknown };
  enum class Cause : uint8_t { kNone, kBalance, kPattern, kSilence };
  Decision decision = Decision::kClear;
  Cause cause = Cause::kNone;
  bool pattern_ready = false;
  std::array<double, kPatternFeatureCount> recent_z{};
  int recent_days = 0;
  double usual_kwh_per_day = 0;
  double recent_kwh_per_day = 0;
  double loss_share = 0;              // share of the transformer's unexplained loss it explains
  double attributed_kwh_per_day = 0;  // that loss in kWh a day
  bool transformer_alert = false;
  int64_t since_end_s = -1;  // when its trouble began (the alert episode's start, or its first flag)
  double silent_days = 0;    // its meter silent this long while the check meter reports
  double history_days = 0;   // days of readings it has
  int needed_days = 0;       // ... and needs before it can be judged
  int32_t utc_offset_s = 0;
};

// One line, e.g. "uses 62 % less since 12 Mar (3.1 instead of 8.2 kWh a day) while the transformer's
// unexplained loss rose by about the same: 4.9 kWh a day".
std::string suspect_reason(const SuspectFacts& f);

// One line for an open alert episode, e.g. "since 12 Mar 14:00, 38 kWh went missing: 6.1 % of the energy
// through the transformer in the last 24 hours is not explained by its consumers or technical losses (alert
// level 3.0 %)".
std::string episode_reason(int64_t start_end_s, double energy_kwh, double day_share, double day_threshold,
                           int32_t utc_offset_s);

// "12 Mar" or "12 Mar 14:00" in local time.
std::string short_date(int64_t unix_s, int32_t utc_offset_s, bool with_time);

}  // namespace wattguard::analytics
