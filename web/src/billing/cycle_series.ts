// The columns of the cycle chart: cumulative kWh used so far (`used`, ending "now") and the projection to the
// cycle's end (`projection.daily`), on one time axis. The projection starts at the last used point so the
// dashed line continues the solid one; the p10-p90 band is only drawn for a real interval (a forecast): a
// plain average of recent days has none.

export interface UsedPoint {
  t_ms: number;
  kwh: number;
}

export interface ProjectedPoint {
  t_ms: number;
  p10: number | null;
  p50: number;
  p90: number | null;
}

export interface CycleSeries {
  x: number[];                 // Unix seconds
  used: (number | null)[];
  p50: (number | null)[];
  p10: (number | null)[];      // empty columns (all null) when there is no band
  p90: (number | null)[];
  banded: boolean;
  max_kwh: number;             // the highest value of any column (0 with no data)
}

export function cycle_series(used: UsedPoint[], daily: ProjectedPoint[] | null, forecast: boolean): CycleSeries {
  const past = [...used].sort((a, b) => a.t_ms - b.t_ms);
  const last = past[past.length - 1];
  const ahead = (daily ?? []).filter((p) => !last || p.t_ms > last.t_ms).sort((a, b) => a.t_ms - b.t_ms);
  const banded = forecast && ahead.length > 0 && ahead.every((p) => p.p10 !== null && p.p90 !== null);
  const s: CycleSeries = { x: [], used: [], p50: [], p10: [], p90: [], banded, max_kwh: 0 };
  const push = (t_ms: number, u: number | null, p50: number | null, p10: number | null, p90: number | null) => {
    s.x.push(t_ms / 1000);
    s.used.push(u);
    s.p50.push(p50);
    s.p10.push(banded ? p10 : null);
    s.p90.push(banded ? p90 : null);
    for (const v of [u, p50, banded ? p10 : null, banded ? p90 : null]) if (v !== null && v > s.max_kwh) s.max_kwh = v;
  };
  past.forEach((p, i) => {
    // The last used point is also where the projection starts.
    const joint = i === past.length - 1 && ahead.length > 0 ? p.kwh : null;
    push(p.t_ms, p.kwh, joint, joint, joint);
  });
  for (const p of ahead) push(p.t_ms, null, p.p50, p.p10, p.p90);
  return s;
}

// The top of the chart's kWh scale: the data's maximum, raised to the next slab bound when that bound is near
// (within half again the maximum), so the household sees the bound it is heading for.
export function kwh_scale_max(max_kwh: number, bounds: number[]): number {
  let top = max_kwh;
  const next = bounds.filter((b) => b >= max_kwh).sort((a, b) => a - b)[0];
  if (next !== undefined && next <= Math.max(1.5 * max_kwh, 1)) top = next;
  return Math.max(1, top * 1.08);
}
