// What each line of a bill is: its slab ("100 – 300 kWh") and, when its rate is the slab's rate times a
// time-of-day factor, that window ("22:00-06:00 ×0.8"). A bill line carries only its effective rate, so
// the window is found by exact decimal arithmetic on the tariff version the bill was made with.

import type { BillLine, Tariff } from "./billing_api";
import { group_thousands, trim_zeros } from "./money";

// A decimal text as an integer and its number of decimals: "10.29" -> [1029n, 2].
function scaled(text: string): [bigint, number] | null {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!m) return null;
  const fraction = m[3] ?? "";
  const v = BigInt(m[2] + fraction);
  return [m[1] === "-" ? -v : v, fraction.length];
}

// a x b == c, exactly, for decimal texts.
export function product_equals(a: string, b: string, c: string): boolean {
  const x = scaled(a), y = scaled(b), z = scaled(c);
  if (!x || !y || !z) return false;
  const p = x[0] * y[0];
  const p_digits = x[1] + y[1];
  const digits = Math.max(p_digits, z[1]);
  return p * 10n ** BigInt(digits - p_digits) === z[0] * 10n ** BigInt(digits - z[1]);
}

export function slab_range_text(line: BillLine): string {
  const trim = (t: string) => group_thousands(trim_zeros(t));
  return line.to_kwh === null ? `above ${trim(line.from_kwh)} kWh` : `${trim(line.from_kwh)} – ${trim(line.to_kwh)} kWh`;
}

// The time-of-day window of a line ("22:00-06:00 ×0.8"), "" for the slab's plain rate or when unknown.
export function line_window(line: BillLine, tariff: Tariff | null): string {
  if (!tariff) return "";
  let from = 0;
  const slab = tariff.slabs.find((s) => {
    const match = Math.abs(from - Number(line.from_kwh)) < 1e-9;
    from = s.upto_kwh ?? from;
    return match;
  });
  if (!slab || product_equals(slab.rate, "1", line.rate)) return "";
  const windows = tariff.tod.filter((w) => product_equals(slab.rate, w.factor, line.rate)).map((w) => `${w.window} ×${w.factor}`);
  return windows.join(", ");
}
