// Which emoncms input names are which reading fields, and the reading a frame of values makes. The default map
// knows the names emonESP, emonTx, emonPi and IoTaWatt users give (vrms/V, irms/I/current, power/power1/P, pf,
// kwh/energy, freq); a meter's own entries come first. Pure; thread-safe for concurrent reads.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "wattguard/base/expected.h"
#include "wattguard/emoncms/input_request.h"
#include "wattguard/protocol/messages.h"

namespace wattguard::emoncms {

enum class ReadingField : uint8_t {
  kVoltage,
  kCurrent,
  kPower,
  kApparentPower,
  kPowerFactor,
  kEnergyKwh,
  kEnergyWh,
  kFrequency
};
const char* reading_field_name(ReadingField field);  // "voltage", "current", "power", "apparent_power", ...
std::optional<ReadingField> reading_field_from_name(std::string_view name);

class InputMap {
 public:
  // The default names (matched without regard to case).
  InputMap();
  // Adds or replaces `input` (case-insensitive) as `field`.
  void set(std::string_view input, ReadingField field);
  std::optional<ReadingField> field_of(std::string_view input) const;

 private:
  std::map<std::string, ReadingField> fields_;  // lower-case input name -> field
};

// The reading a frame makes for `meter` at `time_ms`, or why not (no mapped value: field "values"; a value out
// of range: that field). Unmapped names are ignored. The energy register comes from kwh/wh; without one it is
// integrated from power since `previous` (the meter's last reading), at most over 15 minutes of silence.
// seq is left 0 (ingest numbers it).
Expected<protocol::Reading> frame_to_reading(const InputFrame& frame, const InputMap& map, const std::string& meter,
                                             int64_t time_ms, const protocol::Reading* previous);

}  // namespace wattguard::emoncms
