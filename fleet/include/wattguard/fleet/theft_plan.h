// Simulated thieves: which meters steal, how, and from when (meter-side tamper scenarios).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "wattguard/fleet/meter_model.h"

namespace wattguard::fleet {

enum class TheftKind : uint8_t {
  kNone,
  kBypass,         // a wire around the phase clamp carries 70 % of the load: under-reports 70 %
  kEarthReturn,    // 80 % of the current returns through earth, not the neutral clamp: billing unaffected
                   // (this meter bills on the phase clamp) but the mismatch is a tamper
  kVoltageLink,    // voltage link removed: no voltage measured, no energy registered
  kReversedCt,     // phase clamp fitted backwards: consumption registers as export
  kMagnet,         // a magnet on the meter: Hall sensor active, clamps saturate to 40 % of the current
  kRegisterReset,  // cover opened and the import register set back by half
  kOffline,        // communications module removed: the meter goes silent (broker sends its last will)
};
inline constexpr std::array<TheftKind, 7> kAllTheftKinds = {TheftKind::kBypass,      TheftKind::kEarthReturn,
                                                            TheftKind::kVoltageLink, TheftKind::kReversedCt,
                                                            TheftKind::kMagnet,      TheftKind::kRegisterReset,
                                                            TheftKind::kOffline};

const char* theft_kind_name(TheftKind kind);  // "bypass", "earth_return", ... ("none")
std::optional<TheftKind> theft_kind_from_name(std::string_view name);

// What the sensors see once the theft is in place (kRegisterReset and kOffline leave them honest).
SensorTampering tampering_for(TheftKind kind);

// Share of the household's energy the meter fails to register while the theft is in place.
double under_reported_share(TheftKind kind);

struct TheftPlan {
  TheftKind kind = TheftKind::kNone;
  double onset_s = 0.0;  // seconds after the meter's boot
};

struct TheftPlanOptions {
  double fraction = 0.0;      // share of meters that steal, 0..1
  double onset_min_s = 60.0;  // each thief starts at a seeded time in [min, max]
  double onset_max_s = 600.0;
  std::vector<TheftKind> kinds;  // empty: all of kAllTheftKinds, spread evenly
  uint64_t seed = 1;
};

// One plan per meter. Exactly round(fraction * meters) thieves, chosen and timed from the seed.
std::vector<TheftPlan> plan_thefts(std::size_t meters, const TheftPlanOptions& options);

}  // namespace wattguard::fleet
