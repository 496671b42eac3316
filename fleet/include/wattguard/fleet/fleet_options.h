// Choices shared by the commands that run a fleet (fleet, demo, bench ingest).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "wattguard/base/expected.h"
#include "wattguard/fleet/fleet.h"

namespace wattguard::fleet {

// The sample-level simulation costs about 30-40 ns per sample set (simulator + core, optimised
// build): a fleet may spend about kSampleBudgetPerS sample sets per second of real time before it
// should drop to a lower rate or to the fast fidelity.
inline constexpr double kSampleBudgetPerS = 4e6;

struct FidelityChoice {
  Fidelity fidelity = Fidelity::kSamples;
  uint32_t sample_rate_hz = 4000;
  std::string reason;  // one line for the log
};

// "auto": samples at 4 kHz while meters x speed x 4,000 fits the budget, else samples at 1 kHz
// while that fits, else fast. "samples" keeps samples (rate from `sample_rate_hz`, or chosen the
// same way, down to 1 kHz) even over budget; "fast" is fast. nullopt for an unknown name.
std::optional<FidelityChoice> choose_fidelity(const std::string& requested, std::size_t meters, double speed,
                                              uint32_t sample_rate_hz = 0);

// "host:port" or ":port" or "host" (port 1883). nullopt for a bad port.
struct BrokerAddress {
  std::string host = "127.0.0.1";
  int port = 1883;
};
std::optional<BrokerAddress> parse_broker_address(const std::string& text);

// "bypass,magnet" -> kinds; an error (kInvalidInput) names the unknown kind and lists the known ones.
Expected<std::vector<TheftKind>> parse_theft_kinds(const std::string& text);

// One status line: meters connected, readings made/acknowledged/queued/dropped/replayed.
std::string describe_stats(const FleetStats& stats, std::size_t meters);

}  // namespace wattguard::fleet
