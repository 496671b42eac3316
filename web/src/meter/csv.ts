// CSV of the history currently shown (its range and step), one row per point, times in ISO 8601 UTC.

import type { ShownHistory } from "./history_chart";

export function history_csv(meter_id: string, shown: ShownHistory): string {
  const header = [
    "meter_id", "time_utc", "readings", "p_avg_w", "p_min_w", "p_max_w", "vrms_avg", "vrms_min", "vrms_max", "irms_avg",
    "s_avg_va", "q_avg_var", "pf_avg", "freq_avg_hz", "energy_import_wh", "energy_export_wh", "e_import_wh", "e_export_wh", "flags",
  ];
  const lines = [header.join(",")];
  const n = (v: number) => (Number.isFinite(v) ? String(Math.round(v * 1000) / 1000) : "");
  for (const p of shown.points) {
    lines.push([
      csv_field(meter_id), new Date(p.t_ms).toISOString(), p.count, n(p.p_avg_w), n(p.p_min_w), n(p.p_max_w), n(p.vrms_avg),
      n(p.vrms_min), n(p.vrms_max), n(p.irms_avg), n(p.s_avg_va), n(p.q_avg_var), n(p.pf_avg), n(p.freq_avg_hz),
      n(p.energy_import_wh), n(p.energy_export_wh), n(p.e_import_wh), n(p.e_export_wh), p.flags,
    ].join(","));
  }
  return lines.join("\r\n") + "\r\n";
}

function csv_field(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
