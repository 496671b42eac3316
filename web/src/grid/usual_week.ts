// A suspect's use in the last week against its own usual week: for every hour of the last 7 days, the
// median of the same hour of the week in the weeks before. A thief who bypasses the meter shows a
// recent line well below the usual one from the day the theft began. Data in, data out: no DOM.

import type { AggregatePoint } from "../api";

const kHourMs = 3600_000;
const kWeekMs = 7 * 24 * kHourMs;

export interface UsualWeek {
  t_ms: number[];               // hour starts of the last week
  recent_kwh: (number | null)[];
  usual_kwh: (number | null)[]; // null when no earlier week has that hour
  change: number | null;        // (recent - usual) / usual over the hours both have; null without enough data
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// points: hourly buckets (step 1 h), oldest first, covering `weeks` weeks before end_ms and the last one.
export function usual_week(points: readonly AggregatePoint[], end_ms: number, weeks = 3): UsualWeek {
  const by_hour = new Map<number, number>();
  for (const p of points) if (p.count > 0) by_hour.set(p.t_ms, p.energy_import_wh / 1000);
  const start = Math.floor((end_ms - kWeekMs) / kHourMs) * kHourMs;
  const out: UsualWeek = { t_ms: [], recent_kwh: [], usual_kwh: [], change: null };
  let recent_sum = 0, usual_sum = 0, both = 0;
  for (let t = start; t < end_ms; t += kHourMs) {
    const recent = by_hour.get(t) ?? null;
    const earlier: number[] = [];
    for (let k = 1; k <= weeks; k++) {
      const v = by_hour.get(t - k * kWeekMs);
      if (v !== undefined) earlier.push(v);
    }
    const usual = earlier.length ? median(earlier) : null;
    out.t_ms.push(t);
    out.recent_kwh.push(recent);
    out.usual_kwh.push(usual);
    if (recent !== null && usual !== null) {
      recent_sum += recent;
      usual_sum += usual;
      both += 1;
    }
  }
  // A day of overlap at least, and a usual week that used energy at all.
  if (both >= 24 && usual_sum > 0) out.change = (recent_sum - usual_sum) / usual_sum;
  return out;
}

// "62 % less than its usual week", "18 % more ...", "about as usual" (within 10 %).
export function change_text(change: number | null): string {
  if (change === null) return "not enough history for a usual week";
  const pct = Math.round(Math.abs(change) * 100);
  if (pct < 10) return "about as much as in its usual week";
  return `${pct} % ${change < 0 ? "less" : "more"} than in its usual week`;
}
