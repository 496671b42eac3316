// Theft scenarios: sensor effects, and a seeded choice of thieves across a fleet.
#include "wattguard/fleet/theft_plan.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "wattguard/sim/random.h"

namespace wattguard::fleet {

const char* theft_kind_name(TheftKind kind) {
  switch (kind) {
    case TheftKind::kNone: return "none";
    case TheftKind::kBypass: return "bypass";
    case TheftKind::kEarthReturn: return "earth_return";
    case TheftKind::kVoltageLink: return "voltage_link";
    case TheftKind::kReversedCt: return "reversed_ct";
    case TheftKind::kMagnet: return "magnet";
    case TheftKind::kRegisterReset: return "register_reset";
    case TheftKind::kOffline: return "offline";
  }
  return "unknown";
}

std::optional<TheftKind> theft_kind_from_name(std::string_view name) {
  if (name == "none") return TheftKind::kNone;
  for (TheftKind k : kAllTheftKinds) {
    if (name == theft_kind_name(k)) return k;
  }
  return std::nullopt;
}

SensorTampering tampering_for(TheftKind kind) {
  SensorTampering t;
  switch (kind) {
    case TheftKind::kBypass: t.wiring.phase_clamp_fraction = 0.3; break;
    case TheftKind::kEarthReturn: t.wiring.neutral_clamp_fraction = 0.2; break;
    case TheftKind::kVoltageLink: t.voltage_connected = false; break;
    case TheftKind::kReversedCt: t.wiring.phase_clamp_fraction = -1.0; break;
    case TheftKind::kMagnet:
      // The sim has no run-time saturation control: a saturated core passing 40 % is modelled as
      // both clamps seeing 40 % of the current (no phase/neutral mismatch, so only the Hall
      // sensor gives it away).
      t.wiring.phase_clamp_fraction = 0.4;
      t.wiring.neutral_clamp_fraction = 0.4;
      t.inputs.magnet = true;
      break;
    case TheftKind::kNone:
    case TheftKind::kRegisterReset:
    case TheftKind::kOffline: break;
  }
  return t;
}

double under_reported_share(TheftKind kind) {
  switch (kind) {
    case TheftKind::kBypass: return 0.7;
    case TheftKind::kVoltageLink:
    case TheftKind::kReversedCt: return 1.0;
    case TheftKind::kMagnet: return 0.6;
    case TheftKind::kRegisterReset:  // a one-off rollback, then honest
    case TheftKind::kNone:
    case TheftKind::kEarthReturn:
    case TheftKind::kOffline: return 0.0;
  }
  return 0.0;
}

std::vector<TheftPlan> plan_thefts(std::size_t meters, const TheftPlanOptions& options) {
  std::vector<TheftPlan> plans(meters);
  const double fraction = std::clamp(options.fraction, 0.0, 1.0);
  const auto thieves = static_cast<std::size_t>(std::llround(fraction * static_cast<double>(meters)));
  if (thieves == 0) return plans;
  std::vector<TheftKind> kinds = options.kinds;
  if (kinds.empty()) kinds.assign(kAllTheftKinds.begin(), kAllTheftKinds.end());
  sim::Rng rng(sim::mix_seed(options.seed, 0x7E1F));
  // A seeded partial Fisher-Yates shuffle picks which meters steal.
  std::vector<std::size_t> order(meters);
  std::iota(order.begin(), order.end(), std::size_t{0});
  for (std::size_t k = 0; k < thieves; ++k) {
    const auto j = k + static_cast<std::size_t>(rng.uniform() * static_cast<double>(meters - k));
    std::swap(order[k], order[std::min(j, meters - 1)]);
  }
  const double lo = std::max(0.0, options.onset_min_s);
  const double hi = std::max(lo, options.onset_max_s);
  for (std::size_t k = 0; k < thieves; ++k) {
    TheftPlan& plan = plans[order[k]];
    plan.kind = kinds[k % kinds.size()];
    plan.onset_s = lo + rng.uniform() * (hi - lo);
  }
  return plans;
}

}  // namespace wattguard::fleet
