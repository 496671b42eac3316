// Number, energy and time formatting for display. Missing values render as "no data", never as 0.

export const kNoData = "no data";

export function fixed(value: number | null | undefined, digits: number): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return kNoData;
  return value.toFixed(digits);
}

// Power with an adaptive unit: 950 W, 3.21 kW.
export function power(value_w: number | null | undefined): string {
  if (value_w === null || value_w === undefined || !Number.isFinite(value_w)) return kNoData;
  const abs = Math.abs(value_w);
  if (abs >= 10_000) return `${(value_w / 1000).toFixed(1)} kW`;
  if (abs >= 1000) return `${(value_w / 1000).toFixed(2)} kW`;
  return `${value_w.toFixed(0)} W`;
}

export function kwh(value_wh: number | null | undefined, digits = 2): string {
  if (value_wh === null || value_wh === undefined || !Number.isFinite(value_wh)) return kNoData;
  return `${(value_wh / 1000).toFixed(digits)} kWh`;
}

const time_format = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const date_time_format = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit",
});
const day_format = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
const month_format = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short" });

export function clock_time(ms: number): string {
  return ms > 0 ? time_format.format(ms) : kNoData;
}

// Today's times as a clock time, older ones with their date.
export function when(ms: number, now_ms = Date.now()): string {
  if (!(ms > 0)) return "never";
  return now_ms - ms < 20 * 3600_000 ? time_format.format(ms) : date_time_format.format(ms);
}

export function full_time(ms: number): string {
  return ms > 0 ? date_time_format.format(ms) : kNoData;
}

export function day_label(ms: number): string {
  return day_format.format(ms);
}

export function month_label(ms: number): string {
  return month_format.format(ms);
}

// "42 s", "5 min", "3 h", "2 d".
export function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}
