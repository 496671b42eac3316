// Where the cycle's use stands in the tariff's slabs, in words and as a bar: "in slab 2: 127.8 of 200 kWh of
// this slab at INR 10.29/kWh; next slab from 300 kWh at INR 14.55/kWh". Slabs are counted from 1 for
// people; the server's index counts from 0.

import { kwh_amount, rate_text } from "./money";

export interface SlabPosition {
  index: number;            // 0-based
  from_kwh: number;
  to_kwh: number | null;    // null: the last slab, without an upper bound
  rate: string;             // decimal text per kWh
  next_rate: string | null;
}

export function slab_text(kwh: number, slab: SlabPosition, currency: string): string {
  const n = slab.index + 1;
  const inside = Math.max(0, kwh - slab.from_kwh);
  const rate = rate_text(currency, slab.rate);
  if (slab.to_kwh === null) {
    return slab.index === 0
      ? `one slab: ${kwh_amount(inside, 1)} kWh at ${rate}`
      : `in slab ${n}, the last: ${kwh_amount(inside, 1)} kWh above ${kwh_amount(slab.from_kwh)} kWh at ${rate}`;
  }
  const size = slab.to_kwh - slab.from_kwh;
  const next = slab.next_rate === null ? "" : `; next slab from ${kwh_amount(slab.to_kwh)} kWh at ${rate_text(currency, slab.next_rate)}`;
  return `in slab ${n}: ${kwh_amount(inside, 1)} of ${kwh_amount(size)} kWh of this slab at ${rate}${next}`;
}

// How full the current slab is, 0 to 1; null for the last slab (it has no size).
export function slab_fill(kwh: number, slab: SlabPosition): number | null {
  if (slab.to_kwh === null) return null;
  const size = slab.to_kwh - slab.from_kwh;
  if (!(size > 0)) return null;
  return Math.min(1, Math.max(0, (kwh - slab.from_kwh) / size));
}
