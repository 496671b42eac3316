// Formats period readings and calibrations as key=value lines.
#include "firmware/src/reading_line.h"

#include <cstring>

namespace wattguard::firmware {

void format_reading(const core::PeriodReading& r, TextBuffer* out) {
  out->append("reading seq=").append_uint(r.sequence);
  out->append(" end_sample=").append_uint(r.end_sample);
  out->append(" t_end_s=").append_fixed(r.t_end_s, 4);
  out->append(" vrms=").append_fixed(r.vrms, 3);
  out->append(" irms=").append_fixed(r.irms, 4);
  out->append(" neutral_irms=").append_fixed(r.neutral_irms, 4);
  out->append(" p_w=").append_fixed(r.p_w, 2);
  out->append(" q_var=").append_fixed(r.q_var, 2);
  out->append(" s_va=").append_fixed(r.s_va, 2);
  out->append(" pf=").append_fixed(r.pf, 4);
  out->append(" freq_hz=").append_fixed(r.freq_hz, 4);
  out->append(" cycles=").append_uint(r.cycles);
  out->append(" import_uwh=").append_uint(r.import_uwh);
  out->append(" export_uwh=").append_uint(r.export_uwh);
  out->append(" period_import_wh=").append_fixed(r.period_import_wh, 6);
  out->append(" flags=").append_hex(r.flags);
}

namespace {

uint32_t float_bits(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits;
}

}  // namespace

void format_reading_bits(const core::PeriodReading& r, TextBuffer* out) {
  out->append("bits seq=").append_uint(r.sequence);
  out->append(" vrms=").append_hex(float_bits(r.vrms));
  out->append(" irms=").append_hex(float_bits(r.irms));
  out->append(" neutral_irms=").append_hex(float_bits(r.neutral_irms));
  out->append(" p_w=").append_hex(float_bits(r.p_w));
  out->append(" q_var=").append_hex(float_bits(r.q_var));
  out->append(" s_va=").append_hex(float_bits(r.s_va));
  out->append(" pf=").append_hex(float_bits(r.pf));
  out->append(" freq_hz=").append_hex(float_bits(r.freq_hz));
}

void format_calibration(core::Status status, const core::Calibration& cal, TextBuffer* out) {
  out->append("calibration status=").append(status == core::Status::kOk ? "ok" : "error");
  out->append(" v_per_count=").append_fixed(cal.v_per_count, 7);
  out->append(" i_per_count=").append_fixed(cal.i_per_count, 8);
  out->append(" phase_deg=").append_fixed(cal.phase_deg, 4);
}

}  // namespace wattguard::firmware
