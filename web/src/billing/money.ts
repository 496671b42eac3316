// Money as the server sends it ({minor, currency, text}) shown as "INR 2,210.44". Thousands are grouped on the
// server's decimal text, never through a float, so every paisa (cent, fils) on screen is the server's.

import { kNoData } from "../format";

export interface Money {
  minor: number;     // exact minor units (paise); only its sign is used here
  currency: string;  // ISO 4217
  text: string;      // the amount with the currency's digits: "2210.44", "-12.50", "1270" (JPY)
}

// "2210.44" -> "2,210.44", "-1234567" -> "-1,234,567"; anything that is not a plain decimal is left as it is.
export function group_thousands(text: string): string {
  const m = /^([-+]?)(\d+)(\.\d+)?$/.exec(text.trim());
  if (!m) return text;
  const [, sign, whole, fraction = ""] = m;
  let grouped = "";
  for (let i = 0; i < whole.length; i++) {
    if (i > 0 && (whole.length - i) % 3 === 0) grouped += ",";
    grouped += whole[i];
  }
  return `${sign === "-" ? "-" : ""}${grouped}${fraction}`;
}

// "INR 2,210.44".
export function amount_text(currency: string, text: string): string {
  return currency ? `${currency} ${group_thousands(text)}` : group_thousands(text);
}

export function money_text(m: Money | null | undefined): string {
  return m ? amount_text(m.currency, m.text) : kNoData;
}

// A rate per kWh: "INR 10.29/kWh".
export function rate_text(currency: string, rate: string): string {
  return `${amount_text(currency, rate)}/kWh`;
}

export function is_negative(m: Money): boolean {
  return m.minor < 0 || m.text.trim().startsWith("-");
}

// A money object of an answer, or null when it is not one (a summary row of an area without any bill).
export function normalize_money(v: unknown): Money | null {
  if (!v || typeof v !== "object") return null;
  const o = v as Record<string, unknown>;
  if (typeof o.text !== "string") return null;
  return {
    minor: typeof o.minor === "number" ? o.minor : Number(o.minor ?? 0),
    currency: typeof o.currency === "string" ? o.currency : "",
    text: o.text,
  };
}

// kWh as a short decimal without trailing zeros: 100 -> "100", 227.75 -> "227.75", 0.0004 -> "0".
export function kwh_amount(kwh: number, max_digits = 3): string {
  if (!Number.isFinite(kwh)) return kNoData;
  const text = kwh.toFixed(max_digits).replace(/\.?0+$/, "");
  return group_thousands(text === "-0" ? "0" : text);
}

// The decimal text of an issued bill's number ("155.000") for display: grouped, trailing zeros of kWh kept.
export function decimal_text(text: string | null | undefined): string {
  return text === null || text === undefined || text === "" ? kNoData : group_thousands(text);
}

// A decimal text without trailing zeros: "16.0" -> "16", "100.000" -> "100", "0.80" -> "0.8".
export function trim_zeros(text: string): string {
  return /^-?\d+\.\d*$/.test(text) ? text.replace(/\.?0+$/, "") : text;
}

// A kWh figure with the digits that matter at its size: "0.052", "227.75", "1,527.8".
export function kwh_figure(kwh: number): string {
  if (!Number.isFinite(kwh)) return kNoData;
  const abs = Math.abs(kwh);
  return group_thousands(kwh.toFixed(abs < 1 ? 3 : abs < 1000 ? 2 : 1));
}
