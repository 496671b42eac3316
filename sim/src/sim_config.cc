// Validation of a simulated meter's configuration.
#include "wattguard/sim/sim_config.h"

#include <cmath>
#include <sstream>

namespace wattguard::sim {
namespace {

bool in_range(double x, double lo, double hi) { return std::isfinite(x) && x >= lo && x <= hi; }

// The message keeps the whole story ("adc.bits = 17: expected 10..16") because the CLI prints it alone.
Error bad(const std::string& field, double value, const char* expected) {
  std::ostringstream shown;
  shown << value;
  return Error::invalid(field, shown.str(), field + " = " + shown.str() + ": expected " + expected);
}

Expected<void> check_clamp(const char* name, const CurrentSensorConfig& ct) {
  const std::string prefix(name);
  if (!in_range(ct.turns, 1, 1e6)) return bad(prefix + ".turns", ct.turns, "1..1e6");
  if (!in_range(ct.burden_ohm, 1e-3, 1e5)) return bad(prefix + ".burden_ohm", ct.burden_ohm, "0.001..1e5");
  if (!in_range(ct.phase_lead_deg, -20, 20)) return bad(prefix + ".phase_lead_deg", ct.phase_lead_deg, "-20..20");
  if (!in_range(ct.low_current_extra_lead_deg, -20, 20)) {
    return bad(prefix + ".low_current_extra_lead_deg", ct.low_current_extra_lead_deg, "-20..20");
  }
  if (!in_range(ct.low_current_knee_a, 1e-6, 1e4)) {
    return bad(prefix + ".low_current_knee_a", ct.low_current_knee_a, "> 0");
  }
  if (!in_range(ct.saturation_a, 0, 1e5)) return bad(prefix + ".saturation_a", ct.saturation_a, ">= 0");
  return {};
}

}  // namespace

Expected<void> validate(const SimConfig& c) {
  if (c.sample_rate_hz < 1000 || c.sample_rate_hz > 20000) {
    return bad("sample_rate_hz", c.sample_rate_hz, "1000..20000");
  }
  const GridConfig& g = c.grid;
  if (!in_range(g.vrms, 0, 1000)) return bad("grid.vrms", g.vrms, "0..1000 V");
  if (!in_range(g.frequency_hz, 1, 1000)) return bad("grid.frequency_hz", g.frequency_hz, "1..1000 Hz");
  if (!in_range(g.drift_hz_per_s, -10, 10)) return bad("grid.drift_hz_per_s", g.drift_hz_per_s, "-10..10 Hz/s");
  for (const auto& s : g.schedule) {
    if (!in_range(s.t_s, 0, 1e12)) return bad("grid.schedule.t_s", s.t_s, ">= 0");
    if (!in_range(s.frequency_hz, 1, 1000)) return bad("grid.schedule.frequency_hz", s.frequency_hz, "1..1000 Hz");
    if (!in_range(s.drift_hz_per_s, -10, 10))
      return bad("grid.schedule.drift_hz_per_s", s.drift_hz_per_s, "-10..10 Hz/s");
  }
  for (const auto& h : g.harmonics) {
    if (h.order < 2 || h.order > kMaxHarmonicOrder) return bad("grid.harmonics.order", h.order, "2..15");
    if (!in_range(h.percent, 0, 100)) return bad("grid.harmonics.percent", h.percent, "0..100");
    if (!std::isfinite(h.phase_deg)) return bad("grid.harmonics.phase_deg", h.phase_deg, "finite");
  }
  const VoltageSensorConfig& vs = c.voltage_sensor;
  if (!in_range(vs.ratio_v_per_v, 1e-9, 1))
    return bad("voltage_sensor.ratio_v_per_v", vs.ratio_v_per_v, "0..1 (exclusive of 0)");
  if (!in_range(vs.phase_lead_deg, -20, 20)) return bad("voltage_sensor.phase_lead_deg", vs.phase_lead_deg, "-20..20");
  if (!in_range(vs.bias_v, -100, 100)) return bad("voltage_sensor.bias_v", vs.bias_v, "finite");
  if (auto e = check_clamp("phase_clamp", c.phase_clamp); !e) return e;
  if (auto e = check_clamp("neutral_clamp", c.neutral_clamp); !e) return e;
  const BiasDivider& b = c.clamp_bias;
  if (!in_range(b.supply_v, 0, 100)) return bad("clamp_bias.supply_v", b.supply_v, "0..100 V");
  if (!in_range(b.r_top_ohm, 1e-3, 1e9)) return bad("clamp_bias.r_top_ohm", b.r_top_ohm, "> 0");
  if (!in_range(b.r_bottom_ohm, 1e-3, 1e9)) return bad("clamp_bias.r_bottom_ohm", b.r_bottom_ohm, "> 0");
  const AdcConfig& a = c.adc;
  if (a.bits < 10 || a.bits > 16) return bad("adc.bits", a.bits, "10..16");
  if (!in_range(a.full_scale_v, 0.01, 100)) return bad("adc.full_scale_v", a.full_scale_v, "0.01..100 V");
  if (!in_range(a.offset_counts, -65536, 65536)) return bad("adc.offset_counts", a.offset_counts, "-65536..65536");
  if (!in_range(a.gain_error_percent, -50, 50)) return bad("adc.gain_error_percent", a.gain_error_percent, "-50..50");
  if (!in_range(a.inl_end_counts, -1000, 1000)) return bad("adc.inl_end_counts", a.inl_end_counts, "-1000..1000");
  if (!in_range(a.noise_counts_rms, 0, 1000)) return bad("adc.noise_counts_rms", a.noise_counts_rms, "0..1000");
  if (!in_range(c.channel_skew_us, -1e4, 1e4)) return bad("channel_skew_us", c.channel_skew_us, "-10000..10000 us");
  if (!in_range(c.wiring.phase_clamp_fraction, -2, 2)) {
    return bad("wiring.phase_clamp_fraction", c.wiring.phase_clamp_fraction, "-2..2");
  }
  if (!in_range(c.wiring.neutral_clamp_fraction, -2, 2)) {
    return bad("wiring.neutral_clamp_fraction", c.wiring.neutral_clamp_fraction, "-2..2");
  }
  if (!in_range(c.nominal_frequency_hz, 1, 1000))
    return bad("nominal_frequency_hz", c.nominal_frequency_hz, "1..1000 Hz");
  if (c.truth_history < 1) return bad("truth_history", c.truth_history, ">= 1");
  return {};
}

}  // namespace wattguard::sim
