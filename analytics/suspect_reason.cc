// Plain-words reasons: the strongest fact about a consumer (or an alert) in one line with its numbers.
#include "analytics/suspect_reason.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "wattguard/base/floor_division.h"

namespace wattguard::analytics {
namespace {

constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
// A pattern feature counts as the reason from this theft-direction z on (about one honest week in a hundred).
constexpr double kReasonMinZ = 2.5;

std::string since(const SuspectFacts& f) {
  return f.since_end_s > 0 ? " since " + short_date(f.since_end_s, f.utc_offset_s, false) : "";
}

// The consumer's strongest pattern fact, or empty when nothing stands out.
std::string pattern_fact(const SuspectFacts& f) {
  if (!f.pattern_ready) return {};
  char buf[240];
  int best = -1;
  double best_z = kReasonMinZ;
  for (int k = 0; k < kPatternFeatureCount; ++k) {
    if (f.recent_z[static_cast<size_t>(k)] > best_z) {
      best_z = f.recent_z[static_cast<size_t>(k)];
      best = k;
    }
  }
  const int days = std::max(1, f.recent_days);
  switch (static_cast<PatternFeature>(best)) {
    case PatternFeature::kLevelDrop:
    case PatternFeature::kBaseDrop: {
      const double drop = f.usual_kwh_per_day > 0 ? 1.0 - f.recent_kwh_per_day / f.usual_kwh_per_day : 0.0;
      std::snprintf(buf, sizeof buf,
                    "uses %.0f %% less than usual over the last %d days (%.1f instead of %.1f kWh a day)", 100.0 * drop,
                    days, f.recent_kwh_per_day, f.usual_kwh_per_day);
      return buf;
    }
    case PatternFeature::kReversal:
      std::snprintf(buf, sizeof buf,
                    "its daily use has looked reversed in time for %d days (busy hours reported at night) with the "
                    "same daily energy (%.1f kWh a day)",
                    days, f.recent_kwh_per_day);
      return buf;
    case PatternFeature::kFlat:
      std::snprintf(buf, sizeof buf,
                    "reports an almost constant amount all day for %d days (%.1f kWh a day), unlike its usual day "
                    "with morning and evening peaks",
                    days, f.recent_kwh_per_day);
      return buf;
    case PatternFeature::kShapeChange:
      std::snprintf(buf, sizeof buf, "its daily pattern has not matched its usual one for %d days (%.1f kWh a day)",
                    days, f.recent_kwh_per_day);
      return buf;
    case PatternFeature::kZeroRun:
      std::snprintf(buf, sizeof buf, "reports zero for hours at a time while its meter is online (last %d days)", days);
      return buf;
    case PatternFeature::kJumpiness:
      std::snprintf(buf, sizeof buf,
                    "its readings jump up and down between intervals far more than usual (last %d days)", days);
      return buf;
    case PatternFeature::kMissing:
      std::snprintf(buf, sizeof buf, "many of its readings are missing over the last %d days", days);
      return buf;
    case PatternFeature::kCount: break;
  }
  return {};
}

}  // namespace

std::string short_date(int64_t unix_s, int32_t utc_offset_s, bool with_time) {
  const int64_t local = unix_s + utc_offset_s;
  int64_t days = floor_div(local, int64_t{86400});
  const int64_t sod = local - days * 86400;
  // civil_from_days (Howard Hinnant), month and day only
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  char buf[32];
  if (with_time) {
    std::snprintf(buf, sizeof buf, "%u %s %02lld:%02lld", d, kMonths[m - 1], static_cast<long long>(sod / 3600),
                  static_cast<long long>(sod / 60 % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%u %s", d, kMonths[m - 1]);
  }
  return buf;
}

std::string suspect_reason(const SuspectFacts& f) {
  using Decision = SuspectFacts::Decision;
  using Cause = SuspectFacts::Cause;
  char buf[320];
  if (f.decision == Decision::kUnknown) {
    std::snprintf(buf, sizeof buf, "too little history to judge yet: %.0f of the %d days of readings needed",
                  std::floor(f.history_days), f.needed_days);
    return buf;
  }
  const std::string pattern = pattern_fact(f);
  if (f.silent_days > 0 && (f.cause == Cause::kSilence || f.decision == Decision::kClear)) {
    std::snprintf(buf, sizeof buf,
                  "no readings for %.1f days while the transformer's check meter reports: its use is unmetered",
                  f.silent_days);
    return buf;
  }
  const bool loss = f.transformer_alert && f.loss_share >= 0.05 && f.attributed_kwh_per_day > 0;
  if (loss) {
    const double drop = f.usual_kwh_per_day > 0 ? 1.0 - f.recent_kwh_per_day / f.usual_kwh_per_day : 0.0;
    if (drop >= 0.1) {
      std::snprintf(buf, sizeof buf,
                    "uses %.0f %% less%s (%.1f instead of %.1f kWh a day) while the transformer's unexplained loss "
                    "rose by about the same: %.1f kWh a day, %.0f %% of that loss",
                    100.0 * drop, since(f).c_str(), f.recent_kwh_per_day, f.usual_kwh_per_day, f.attributed_kwh_per_day,
                    100.0 * f.loss_share);
    } else {
      std::snprintf(buf, sizeof buf,
                    "the transformer's unexplained loss%s follows its reported use hour by hour: about %.1f kWh a "
                    "day, %.0f %% of that loss, looks taken past its meter",
                    since(f).c_str(), f.attributed_kwh_per_day, 100.0 * f.loss_share);
    }
    return buf;
  }
  if (!pattern.empty()) {
    if (f.decision == Decision::kFlagged) {
      std::snprintf(buf, sizeof buf, "%s%s", pattern.c_str(),
                    f.transformer_alert
                        ? ""
                        : "; the transformer's balance shows no loss, as when the energy is only moved in time");
      return buf;
    }
    return pattern + " (not enough to flag)";
  }
  if (f.decision == Decision::kFlagged) return "flagged" + since(f) + "; the evidence has since weakened";
  std::snprintf(buf, sizeof buf, "nothing unusual: %.1f kWh a day against its usual %.1f", f.recent_kwh_per_day,
                f.usual_kwh_per_day);
  return buf;
}

std::string episode_reason(int64_t start_end_s, double energy_kwh, double day_share, double day_threshold,
                           int32_t utc_offset_s) {
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "since %s, %.1f kWh went missing: %.1f %% of the energy through the transformer in the last 24 hours "
                "is not explained by its consumers or technical losses (alert level %.1f %%)",
                short_date(start_end_s, utc_offset_s, true).c_str(), std::max(0.0, energy_kwh), 100.0 * day_share,
                100.0 * day_threshold);
  return buf;
}

}  // namespace wattguard::analytics
