// Pin map and pin value parsing.
#include "wattguard/blynk/pin_map.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <vector>

namespace wattguard::blynk {
namespace {

constexpr std::array<std::pair<PinField, const char*>, kPinFieldCount> kNames = {{
    {PinField::kNone, "none"},
    {PinField::kVoltage, "vrms"},
    {PinField::kCurrent, "irms"},
    {PinField::kRealPower, "p_w"},
    {PinField::kApparentPower, "s_va"},
    {PinField::kPowerFactor, "pf"},
    {PinField::kEnergyKwh, "energy_kwh"},
    {PinField::kFrequency, "freq_hz"},
    {PinField::kReactivePower, "q_var"},
    {PinField::kRelay, "relay"},
}};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

const char* pin_field_name(PinField field) {
  for (const auto& [f, name] : kNames) {
    if (f == field) return name;
  }
  return "none";
}

std::optional<double> pin_field_value(const protocol::Reading& r, PinField f) {
  switch (f) {
    case PinField::kVoltage: return r.vrms;
    case PinField::kCurrent: return r.irms;
    case PinField::kRealPower: return r.p_w;
    case PinField::kApparentPower: return r.s_va;
    case PinField::kPowerFactor: return r.pf;
    case PinField::kEnergyKwh: return r.e_import_wh / 1000.0;
    case PinField::kFrequency: return r.freq_hz;
    case PinField::kReactivePower: return r.q_var;
    case PinField::kNone:
    case PinField::kRelay: break;
  }
  return std::nullopt;
}

std::string format_pin_value(double value) {
  std::array<char, 48> buf{};
  std::snprintf(buf.data(), buf.size(), "%.3f", value);
  return buf.data();
}

std::optional<PinField> pin_field_from_name(std::string_view name) {
  for (const auto& [f, n] : kNames) {
    if (name == n) return f;
  }
  return std::nullopt;
}

PinMap PinMap::standard() {
  auto parsed = parse("V0=vrms,V1=irms,V2=p_w,V3=s_va,V4=pf,V5=energy_kwh,V10=relay");
  return parsed.value();
}

Expected<PinMap> PinMap::parse(std::string_view text) {
  PinMap map;
  std::array<bool, kPinFieldCount> seen{};
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    const std::string_view entry = trim(text.substr(start, comma - start));
    start = comma + 1;
    if (entry.empty()) continue;
    const std::size_t eq = entry.find('=');
    auto bad = [&](const std::string& why) {
      return Error::invalid("blynk.pin_map", std::string(entry), "pin map entry '" + std::string(entry) + "': " + why);
    };
    if (eq == std::string_view::npos) return bad("expected Vn=field");
    std::string_view pin_text = trim(entry.substr(0, eq));
    if (!pin_text.empty() && (pin_text.front() == 'V' || pin_text.front() == 'v')) pin_text.remove_prefix(1);
    const auto pin = parse_pin(pin_text);
    if (!pin) return bad("the pin must be V0..V255");
    const auto field = pin_field_from_name(trim(entry.substr(eq + 1)));
    if (!field) {
      return bad("unknown field (vrms, irms, p_w, s_va, pf, energy_kwh, freq_hz, q_var, relay, none)");
    }
    if (*field != PinField::kNone) {
      if (seen[static_cast<std::size_t>(*field)]) return bad("the field is mapped twice");
      seen[static_cast<std::size_t>(*field)] = true;
    }
    if (map.fields_[static_cast<std::size_t>(*pin)] != PinField::kNone) return bad("the pin is mapped twice");
    map.fields_[static_cast<std::size_t>(*pin)] = *field;
  }
  for (PinField f : map.fields_) {
    if (f != PinField::kNone && f != PinField::kRelay) ++map.measurement_pins_;
  }
  return map;
}

PinField PinMap::field_of(int pin) const {
  if (pin < 0 || pin >= kVirtualPinCount) return PinField::kNone;
  return fields_[static_cast<std::size_t>(pin)];
}

std::optional<int> PinMap::pin_of(PinField field) const {
  for (int pin = 0; pin < kVirtualPinCount; ++pin) {
    if (fields_[static_cast<std::size_t>(pin)] == field) return pin;
  }
  return std::nullopt;
}

std::string PinMap::to_string() const {
  std::string out;
  for (int pin = 0; pin < kVirtualPinCount; ++pin) {
    const PinField f = fields_[static_cast<std::size_t>(pin)];
    if (f == PinField::kNone) continue;
    if (!out.empty()) out += ",";
    out += "V" + std::to_string(pin) + "=" + pin_field_name(f);
  }
  return out;
}

std::optional<int> parse_pin(std::string_view text) {
  int pin = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), pin);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  if (pin < 0 || pin >= kVirtualPinCount) return std::nullopt;
  return pin;
}

std::optional<double> parse_pin_value(std::string_view text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  // from_chars takes no leading '+', which some printf formats emit.
  if (text.front() == '+') text.remove_prefix(1);
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}

}  // namespace wattguard::blynk
