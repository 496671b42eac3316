// QueuedReading -> protocol::Reading.
#include "wattguard/fleet/queued_reading.h"

#include <string>

namespace wattguard::fleet {

protocol::Reading to_protocol(std::string_view meter_id, const QueuedReading& r, bool replayed) {
  protocol::Reading out;
  out.meter_id = std::string(meter_id);
  out.seq = r.seq;
  out.time_ms = r.time_ms;
  out.vrms = r.vrms;
  out.irms = r.irms;
  out.p_w = r.p_w;
  out.s_va = r.s_va;
  out.q_var = r.q_var;
  out.pf = r.pf;
  out.freq_hz = r.freq_hz;
  out.e_import_wh = static_cast<double>(r.import_uwh) * 1e-6;
  out.e_export_wh = static_cast<double>(r.export_uwh) * 1e-6;
  out.flags = r.flags | (replayed ? protocol::kFlagReplayed : 0u);
  return out;
}

}  // namespace wattguard::fleet
