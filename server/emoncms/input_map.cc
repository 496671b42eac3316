// The default input names and the reading a frame makes.
#include "wattguard/emoncms/input_map.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace wattguard::emoncms {
namespace {

constexpr int64_t kMaxIntegrationGapMs = 15 * 60 * 1000;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

constexpr std::array<std::pair<ReadingField, const char*>, 8> kFieldNames = {{
    {ReadingField::kVoltage, "voltage"},
    {ReadingField::kCurrent, "current"},
    {ReadingField::kPower, "power"},
    {ReadingField::kApparentPower, "apparent_power"},
    {ReadingField::kPowerFactor, "power_factor"},
    {ReadingField::kEnergyKwh, "energy_kwh"},
    {ReadingField::kEnergyWh, "energy_wh"},
    {ReadingField::kFrequency, "frequency"},
}};

}  // namespace

const char* reading_field_name(ReadingField field) {
  for (const auto& [f, name] : kFieldNames) {
    if (f == field) return name;
  }
  return "power";
}

std::optional<ReadingField> reading_field_from_name(std::string_view name) {
  for (const auto& [f, n] : kFieldNames) {
    if (name == n) return f;
  }
  return std::nullopt;
}

InputMap::InputMap() {
  for (const char* n : {"vrms", "v", "voltage", "volts", "vrms1", "v1"}) fields_[n] = ReadingField::kVoltage;
  for (const char* n : {"irms", "i", "current", "amps", "irms1", "i1", "ct1_current"}) {
    fields_[n] = ReadingField::kCurrent;
  }
  for (const char* n : {"power", "power1", "p", "p1", "watts", "realpower", "real_power", "ct1"}) {
    fields_[n] = ReadingField::kPower;
  }
  for (const char* n : {"va", "apparent", "apparentpower", "apparent_power", "s"}) {
    fields_[n] = ReadingField::kApparentPower;
  }
  for (const char* n : {"pf", "powerfactor", "power_factor", "pf1"}) fields_[n] = ReadingField::kPowerFactor;
  for (const char* n : {"kwh", "energy", "kwh1", "e", "energy_kwh", "kwhtotal"}) fields_[n] = ReadingField::kEnergyKwh;
  for (const char* n : {"wh", "wh1", "energy_wh", "whacc"}) fields_[n] = ReadingField::kEnergyWh;
  for (const char* n : {"freq", "frequency", "hz", "f"}) fields_[n] = ReadingField::kFrequency;
}

void InputMap::set(std::string_view input, ReadingField field) { fields_[lower(input)] = field; }

std::optional<ReadingField> InputMap::field_of(std::string_view input) const {
  auto it = fields_.find(lower(input));
  if (it == fields_.end()) return std::nullopt;
  return it->second;
}

Expected<protocol::Reading> frame_to_reading(const InputFrame& frame, const InputMap& map, const std::string& meter,
                                             int64_t time_ms, const protocol::Reading* previous) {
  std::array<std::optional<double>, kFieldNames.size()> v{};
  for (const auto& [name, value] : frame.values) {
    if (auto f = map.field_of(name)) v[static_cast<std::size_t>(*f)] = value;
  }
  const auto get = [&v](ReadingField f) { return v[static_cast<std::size_t>(f)]; };
  if (std::none_of(v.begin(), v.end(), [](const auto& x) { return x.has_value(); })) {
    std::string names;
    for (const auto& [name, value] : frame.values) names += (names.empty() ? "" : ", ") + name;
    return Error::invalid("values", names,
                          "none of the inputs (" + names +
                              ") is a known reading field; map them to the meter's "
                              "fields in [[emoncms.inputs]]");
  }
  protocol::Reading r;
  r.meter_id = meter;
  r.time_ms = time_ms;
  r.vrms = get(ReadingField::kVoltage).value_or(0.0);
  r.irms = get(ReadingField::kCurrent).value_or(0.0);
  r.p_w = get(ReadingField::kPower).value_or(0.0);
  r.freq_hz = get(ReadingField::kFrequency).value_or(0.0);
  // Apparent power: sent, else V x I, else |P|. Reactive power from the power triangle, taken as inductive:
  // these sketches do not measure its sign.
  if (auto s = get(ReadingField::kApparentPower)) {
    r.s_va = *s;
  } else if (get(ReadingField::kVoltage) && get(ReadingField::kCurrent)) {
    r.s_va = r.vrms * r.irms;
  } else {
    r.s_va = std::abs(r.p_w);
  }
  r.s_va = std::max(r.s_va, std::abs(r.p_w));
  r.q_var = std::sqrt(std::max(0.0, r.s_va * r.s_va - r.p_w * r.p_w));
  if (auto pf = get(ReadingField::kPowerFactor)) {
    r.pf = *pf;
  } else {
    r.pf = r.s_va > 0 ? r.p_w / r.s_va : 1.0;
  }
  if (auto kwh = get(ReadingField::kEnergyKwh)) {
    r.e_import_wh = *kwh * 1000.0;
    if (previous != nullptr) r.e_export_wh = previous->e_export_wh;
  } else if (auto wh = get(ReadingField::kEnergyWh)) {
    r.e_import_wh = *wh;
    if (previous != nullptr) r.e_export_wh = previous->e_export_wh;
  } else if (previous != nullptr) {
    // No register sent: integrate power over the time since the last reading, as the meter would have.
    r.e_import_wh = previous->e_import_wh;
    r.e_export_wh = previous->e_export_wh;
    const int64_t dt_ms = time_ms - previous->time_ms;
    if (dt_ms > 0 && dt_ms <= kMaxIntegrationGapMs) {
      const double wh = r.p_w * static_cast<double>(dt_ms) / 3'600'000.0;
      (wh >= 0 ? r.e_import_wh : r.e_export_wh) += std::abs(wh);
    }
  }
  return r;
}

}  // namespace wattguard::emoncms
