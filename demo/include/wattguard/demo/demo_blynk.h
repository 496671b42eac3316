// The demo's Blynk meter: one meter a real (or simulated) Blynk sketch can log in as, with a fresh token printed
// by `wattguard demo --blynk-port P`.
#pragma once

#include <cstdint>
#include <string>

#include "wattguard/base/expected.h"
#include "wattguard/serve/server.h"

namespace wattguard::demo {

inline constexpr const char* kDemoBlynkMeter = "blynk-1";

struct DemoBlynkMeter {
  std::string meter_id;
  std::string token;  // shown once; a new one each run (the store keeps only its hash)
};

// Registers the meter if the store does not have it, and gives it a new Blynk token.
Expected<DemoBlynkMeter> enrol_demo_blynk_meter(serve::Server& server, int64_t now_ms);

// The lines the demo prints: the token and the one line to change in the sketch.
std::string demo_blynk_instructions(const DemoBlynkMeter& meter, uint16_t port);

}  // namespace wattguard::demo
