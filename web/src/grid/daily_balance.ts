// A transformer's energy balance per day from stored readings: what its check meter measured against
// the sum of its consumers' meters. Both are net energy (import less export), since a consumer's rooftop
// export feeds its neighbours before it reaches the check meter. Data in, data out: no DOM, no clock.

import type { AggregatePoint } from "../api";

export interface DayBalance {
  t_ms: number;                  // start of the day bucket (as the server aligned it)
  check_kwh: number | null;      // null: the check meter has no reading that day
  consumers_kwh: number;         // sum over the consumers that reported
  consumers_reporting: number;
  consumers_total: number;
  difference_kwh: number | null;  // check - consumers: technical loss plus anything unexplained
}

const net_kwh = (p: AggregatePoint): number => (p.energy_import_wh - p.energy_export_wh) / 1000;

// REQUIRES: every series was asked for with the same from, to and step.
export function daily_balance(check: readonly AggregatePoint[], consumers: readonly (readonly AggregatePoint[])[]): DayBalance[] {
  const days = new Map<number, DayBalance>();
  const day = (t_ms: number): DayBalance => {
    let d = days.get(t_ms);
    if (!d) {
      d = { t_ms, check_kwh: null, consumers_kwh: 0, consumers_reporting: 0, consumers_total: consumers.length, difference_kwh: null };
      days.set(t_ms, d);
    }
    return d;
  };
  for (const p of check) if (p.count > 0) day(p.t_ms).check_kwh = net_kwh(p);
  for (const series of consumers) {
    for (const p of series) {
      if (p.count <= 0) continue;
      const d = day(p.t_ms);
      d.consumers_kwh += net_kwh(p);
      d.consumers_reporting += 1;
    }
  }
  const out = [...days.values()].sort((a, b) => a.t_ms - b.t_ms);
  for (const d of out) d.difference_kwh = d.check_kwh === null || d.consumers_reporting === 0 ? null : d.check_kwh - d.consumers_kwh;
  return out;
}
