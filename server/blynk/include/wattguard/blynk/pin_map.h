// Which Blynk virtual pin carries which reading field, and the lenient number parsing of pin values.
// Thread safety: a PinMap is an immutable value after construction; share it freely.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "wattguard/base/expected.h"
#include "wattguard/protocol/messages.h"

namespace wattguard::blynk {

// What a pin's value means. Measurements become fields of a protocol::Reading; the relay pin is a state.
enum class PinField : uint8_t {
  kNone,           // not mapped: stored for sync answers only
  kVoltage,        // "vrms", V
  kCurrent,        // "irms", A
  kRealPower,      // "p_w", W
  kApparentPower,  // "s_va", VA
  kPowerFactor,    // "pf"
  kEnergyKwh,      // "energy_kwh": the device's import register, kWh
  kFrequency,      // "freq_hz"
  kReactivePower,  // "q_var"
  kRelay,          // "relay": 1 closed (on), 0 open (off)
};
inline constexpr std::size_t kPinFieldCount = 10;
const char* pin_field_name(PinField field);
// The number a reading holds for a measurement field (energy in kWh, as the pin carries it); nullopt for kNone
// and kRelay, which are not numbers of the reading.
std::optional<double> pin_field_value(const protocol::Reading& reading, PinField field);
// A pin value as the server writes it to a device or a script: three decimals, like the library's floats.
std::string format_pin_value(double value);
std::optional<PinField> pin_field_from_name(std::string_view name);

// Virtual pins V0..V255.
inline constexpr int kVirtualPinCount = 256;

class PinMap {
 public:
  // The map of the sketch this project grew from: V0 voltage, V1 current, V2 real power, V3 apparent power,
  // V4 power factor, V5 energy in kWh, V10 the relay.
  static PinMap standard();
  // "V0=vrms,V1=irms,V2=p_w,V3=s_va,V4=pf,V5=energy_kwh,V10=relay" (the `blynk.pin_map` setting). Every field
  // at most once; kInvalidInput naming the entry otherwise.
  static Expected<PinMap> parse(std::string_view text);

  PinField field_of(int pin) const;
  // The pin of a field, or nullopt when no pin carries it.
  std::optional<int> pin_of(PinField field) const;
  // Measurement pins mapped (every mapped pin but the relay): a period is complete when all were written.
  int measurement_pins() const { return measurement_pins_; }
  std::string to_string() const;

 private:
  std::array<PinField, kVirtualPinCount> fields_{};
  int measurement_pins_ = 0;
};

// A pin number from its text ("10"), or nullopt for anything but 0..255.
std::optional<int> parse_pin(std::string_view text);
// A pin value as the library prints it: "231.5", "231.500", "231.5000000", "1e3", "-2", " 7" is refused.
// nullopt for text that is not a finite number.
std::optional<double> parse_pin_value(std::string_view text);

}  // namespace wattguard::blynk
