// The billing routes of docs/api.md ("Bills, tariffs and prepaid credit"): typed calls and the shapes the
// billing pages rely on, read by the names server/api/billing_routes.cc writes. Money stays the server's
// decimal text; bills (embedded as issued) are parsed with their numbers as text.

import { ApiError, call } from "../api";
import { normalize_money, type Money } from "./money";
import type { SlabPosition } from "./slab_text";
import type { ProjectedPoint, UsedPoint } from "./cycle_series";

export const kNoticeKinds = ["slab_soon", "slab_crossed", "budget", "bill_ready"] as const;
export type NoticeKind = (typeof kNoticeKinds)[number];

export interface TariffSlab {
  upto_kwh: number | null;
  rate: string;
}

export interface Tariff {
  id: string;
  version: string;          // "domestic", "domestic@2024-04-01"
  currency: string;
  cycle: string;
  time_zone: string;
  slab_mode: string;
  slabs: TariffSlab[];
  fixed_charge: Money | null;
  tax_percent: string;
  tod: { window: string; factor: string }[];
}

export interface BillingSettings {
  tariff: string | null;    // the meter's own tariff; null: its area's or the default
  prepaid: boolean;
  protected: boolean;
  budget_kwh: string | null;
  budget_money: string | null;
  phone: string;
  webhook_url: string;
  opt_out: string[];
}

export interface Projection {
  method: "forecast" | "recent_mean";
  cycle_end_kwh: { p10: number | null; p50: number; p90: number | null };
  cycle_end_total: { p10: Money | null; p50: Money | null; p90: Money | null };
  daily: ProjectedPoint[];
}

export interface Prepaid {
  balance: Money;
  low_credit: Money | null;
  emergency_credit: Money | null;
  disconnected: boolean;
  disconnected_ms: number | null;
}

export interface BillingStatus {
  meter: string;
  tariff: Tariff;
  cycle: { label: string; start_ms: number; end_ms: number };
  kwh: number;
  energy_charge: Money | null;
  fixed_charge: Money | null;
  tax: Money | null;
  total: Money | null;
  covered_to_ms: number;
  slab: SlabPosition;
  used: UsedPoint[];
  projection: Projection | null;
  settings: BillingSettings;
  prepaid: Prepaid | null;
}

// Why a meter has no billing: the server has no tariffs, or none applies to this meter.
export interface BillingOff {
  off: true;
  code: string;
  message: string;
}

// A bill as `wattguard bill --json` writes it, every number as its decimal text.
export interface BillLine {
  from_kwh: string;
  to_kwh: string | null;
  kwh: string;
  rate: string;
  amount: string;
}

export interface Bill {
  meter: string;
  tariff: string;
  cycle: string;
  currency: string;
  kwh: string;
  energy_charge: string;
  fixed_charge: string;
  tax: string;
  total: string;
  lines: BillLine[];
}

export interface StoredBill {
  cycle: string;
  tariff_version: string;
  issued_ms: number;
  bill: Bill;
}

export interface BillDocument {
  issued: boolean;
  tariff_version: string;
  bill: Bill;
}

export interface Notice {
  id: number;
  cycle: string;
  kind: string;
  threshold: string;
  text: string;
  time_ms: number;
  deliveries: { notifier: string; state: string; attempts: number }[];
}

export interface LedgerEntry {
  id: number;
  time_ms: number;
  kind: string;             // charge, topup, payment, adjustment
  amount: Money | null;
  cycle: string;
  reference: string;
  actor: string;
  note: string;
}

export interface Ledger {
  prepaid: boolean;
  balance: Money | null;
  entries: LedgerEntry[];
}

export interface AreaSummary {
  area: string;
  meters: number;
  billed: number;
  kwh: number;
  running_total: Money | null;   // absent for an area without any billed meter
  prepaid: number;
  prepaid_balance: Money | null;
  disconnected: number;
  in_debt: number;
}

type Raw = Record<string, unknown>;
const obj = (v: unknown): Raw => (v && typeof v === "object" && !Array.isArray(v) ? (v as Raw) : {});
const arr = (v: unknown): Raw[] => (Array.isArray(v) ? v.map(obj) : []);
const num = (v: unknown, fallback = 0): number => {
  const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
  return Number.isFinite(n) ? n : fallback;
};
const opt_num = (v: unknown): number | null => {
  const n = v === null || v === undefined ? NaN : num(v, NaN);
  return Number.isFinite(n) ? n : null;
};
const str = (v: unknown, fallback = ""): string => (typeof v === "string" ? v : typeof v === "number" ? String(v) : fallback);
const opt_str = (v: unknown): string | null => (v === null || v === undefined ? null : str(v));
const meter_path = (id: string) => `/api/v1/meters/${encodeURIComponent(id)}`;

export function normalize_tariff(raw: unknown): Tariff {
  const t = obj(raw);
  return {
    id: str(t.id), version: str(t.version, str(t.id)), currency: str(t.currency), cycle: str(t.cycle),
    time_zone: str(t.time_zone), slab_mode: str(t.slab_mode),
    slabs: arr(t.slabs).map((s) => ({ upto_kwh: opt_num(s.upto_kwh), rate: str(s.rate) })),
    fixed_charge: normalize_money(t.fixed_charge), tax_percent: str(t.tax_percent),
    tod: arr(t.tod).map((w) => ({ window: str(w.window), factor: str(w.factor) })),
  };
}

export function normalize_settings(raw: unknown): BillingSettings {
  const s = obj(raw);
  return {
    tariff: opt_str(s.tariff), prepaid: s.prepaid === true, protected: s.protected === true,
    budget_kwh: opt_str(s.budget_kwh), budget_money: opt_str(s.budget_money), phone: str(s.phone),
    webhook_url: str(s.webhook_url), opt_out: Array.isArray(s.opt_out) ? s.opt_out.map(String) : [],
  };
}

export function normalize_billing(raw: unknown): BillingStatus {
  const b = obj(raw);
  const slab = obj(b.slab);
  const cycle = obj(b.cycle);
  const p = b.projection ? obj(b.projection) : null;
  const pre = b.prepaid ? obj(b.prepaid) : null;
  const end_kwh = obj(p?.cycle_end_kwh);
  const end_total = obj(p?.cycle_end_total);
  return {
    meter: str(b.meter),
    tariff: normalize_tariff(b.tariff),
    cycle: { label: str(cycle.label), start_ms: num(cycle.start_ms), end_ms: num(cycle.end_ms) },
    kwh: num(b.kwh),
    energy_charge: normalize_money(b.energy_charge), fixed_charge: normalize_money(b.fixed_charge),
    tax: normalize_money(b.tax), total: normalize_money(b.total),
    covered_to_ms: num(b.covered_to_ms),
    slab: {
      index: num(slab.index), from_kwh: num(slab.from_kwh), to_kwh: opt_num(slab.to_kwh), rate: str(slab.rate),
      next_rate: opt_str(slab.next_rate),
    },
    used: arr(b.used).map((u) => ({ t_ms: num(u.t_ms), kwh: num(u.kwh) })),
    projection: p && {
      method: p.method === "forecast" ? "forecast" : "recent_mean",
      cycle_end_kwh: { p10: opt_num(end_kwh.p10), p50: num(end_kwh.p50), p90: opt_num(end_kwh.p90) },
      cycle_end_total: {
        p10: normalize_money(end_total.p10), p50: normalize_money(end_total.p50), p90: normalize_money(end_total.p90),
      },
      daily: arr(p.daily).map((d) => ({ t_ms: num(d.t_ms), p10: opt_num(d.p10), p50: num(d.p50), p90: opt_num(d.p90) })),
    },
    settings: normalize_settings(b.settings),
    prepaid: pre && {
      balance: normalize_money(pre.balance) ?? { minor: 0, currency: "", text: "0" },
      low_credit: normalize_money(pre.low_credit), emergency_credit: normalize_money(pre.emergency_credit),
      disconnected: pre.disconnected === true, disconnected_ms: opt_num(pre.disconnected_ms),
    },
  };
}

export function normalize_bill(raw: unknown): Bill {
  const b = obj(raw);
  return {
    meter: str(b.meter), tariff: str(b.tariff), cycle: str(b.cycle), currency: str(b.currency), kwh: str(b.kwh),
    energy_charge: str(b.energy_charge), fixed_charge: str(b.fixed_charge), tax: str(b.tax), total: str(b.total),
    lines: arr(b.lines).map((l) => ({
      from_kwh: str(l.from_kwh), to_kwh: opt_str(l.to_kwh), kwh: str(l.kwh), rate: str(l.rate), amount: str(l.amount),
    })),
  };
}

function normalize_ledger_entry(e: Raw): LedgerEntry {
  return {
    id: num(e.id), time_ms: num(e.time_ms), kind: str(e.kind), amount: normalize_money(e.amount), cycle: str(e.cycle),
    reference: str(e.reference), actor: str(e.actor), note: str(e.note),
  };
}

export function normalize_summary_row(r: Raw): AreaSummary {
  return {
    area: str(r.area), meters: num(r.meters), billed: num(r.billed), kwh: num(r.kwh),
    running_total: normalize_money(r.running_total), prepaid: num(r.prepaid),
    prepaid_balance: normalize_money(r.prepaid_balance), disconnected: num(r.disconnected), in_debt: num(r.in_debt),
  };
}

// 404 billing_not_configured (no tariffs) and 404 not_found (no tariff for this meter) are not errors for
// the pages: the meter simply has no bill.
function off_of(err: unknown): BillingOff | null {
  if (err instanceof ApiError && err.status === 404 && (err.code === "billing_not_configured" || err.code === "not_found")) {
    return { off: true, code: err.code, message: err.message };
  }
  return null;
}

export async function get_billing(id: string): Promise<BillingStatus | BillingOff> {
  try {
    return normalize_billing(await call<unknown>("GET", `${meter_path(id)}/billing`));
  } catch (err) {
    const off = off_of(err);
    if (off) return off;
    throw err;
  }
}

// The settings the caller sends (any subset); answers the settings as saved.
export type SettingsChange = Partial<{
  tariff: string | null; prepaid: boolean; protected: boolean; budget_kwh: string | null; budget_money: string | null;
  phone: string; webhook_url: string; opt_out: string[];
}>;

export async function put_billing_settings(id: string, change: SettingsChange): Promise<BillingSettings> {
  const r = await call<Raw>("PUT", `${meter_path(id)}/billing`, change);
  return normalize_settings(r.settings);
}

export async function list_bills(id: string): Promise<StoredBill[] | BillingOff> {
  try {
    const r = await call<Raw>("GET", `${meter_path(id)}/bills`, undefined, { keep_numbers: true });
    return arr(r.bills).map((b) => ({
      cycle: str(b.cycle), tariff_version: str(b.tariff_version), issued_ms: num(b.issued_ms), bill: normalize_bill(b.bill),
    }));
  } catch (err) {
    const off = off_of(err);
    if (off) return off;
    throw err;
  }
}

export async function get_bill(id: string, cycle: string): Promise<BillDocument> {
  const r = await call<Raw>("GET", `${meter_path(id)}/bills/${encodeURIComponent(cycle)}`, undefined, { keep_numbers: true });
  return { issued: r.issued === true, tariff_version: str(r.tariff_version), bill: normalize_bill(r.bill) };
}

export function bill_csv_url(id: string, cycle: string): string {
  return `${meter_path(id)}/bills/${encodeURIComponent(cycle)}?format=csv`;
}

export function bill_page_href(id: string, cycle: string): string {
  return `#/bill/${encodeURIComponent(id)}/${encodeURIComponent(cycle)}`;
}

export async function get_notices(id: string): Promise<Notice[]> {
  const r = await call<Raw>("GET", `${meter_path(id)}/notices`);
  return arr(r.notices).map((n) => ({
    id: num(n.id), cycle: str(n.cycle), kind: str(n.kind), threshold: str(n.threshold), text: str(n.text),
    time_ms: num(n.time_ms),
    deliveries: arr(n.deliveries).map((d) => ({ notifier: str(d.notifier), state: str(d.state), attempts: num(d.attempts) })),
  }));
}

export async function get_ledger(id: string): Promise<Ledger> {
  const r = await call<Raw>("GET", `${meter_path(id)}/ledger`);
  return { prepaid: r.prepaid === true, balance: normalize_money(r.balance), entries: arr(r.entries).map(normalize_ledger_entry) };
}

export async function top_up(id: string, amount: string, reference: string): Promise<{ entry: LedgerEntry; balance: Money | null }> {
  const r = await call<Raw>("POST", `${meter_path(id)}/topups`, { amount, reference });
  return { entry: normalize_ledger_entry(obj(r.entry)), balance: normalize_money(r.balance) };
}

export async function list_tariffs(): Promise<Tariff[]> {
  const r = await call<Raw>("GET", "/api/v1/tariffs");
  return arr(r.tariffs).map(normalize_tariff);
}

export async function billing_summary(): Promise<AreaSummary[] | BillingOff> {
  try {
    const r = await call<Raw>("GET", "/api/v1/billing/summary");
    return arr(r.areas).map(normalize_summary_row);
  } catch (err) {
    const off = off_of(err);
    if (off) return off;
    throw err;
  }
}

export function is_off<T>(v: T | BillingOff): v is BillingOff {
  return !!v && typeof v === "object" && (v as BillingOff).off === true;
}
