// Text for alerts: kind labels, a one-line summary of the evidence (any JSON the detector attached),
// the notification outcome, and per-meter open counts. Pure functions, unit-tested.

import type { Alert, AlertDelivery } from "../api";

const kKindLabels: Record<string, string> = {
  reverse_flow: "reverse flow",
  neutral_mismatch: "neutral mismatch",
  current_without_voltage: "current without voltage",
  magnetic: "magnetic field",
  cover_open: "cover opened",
  register_rollback: "register rolled back",
  power_up: "power up",
  offline: "offline",
  energy_balance: "energy balance shortfall",
  pattern_anomaly: "consumption pattern anomaly",
  theft_suspect: "theft suspect",
};

export function alert_kind_label(kind: string): string {
  return kKindLabels[kind] ?? kind.replace(/_/g, " ");
}

const kMaxEvidenceChars = 240;

// A ranked meter in a list (the energy-balance alert's suspects): "M001-19 #1 flagged".
function ranked_meter(v: unknown): string | null {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  if (typeof o.meter !== "string") return null;
  return [o.meter, typeof o.rank === "number" ? `#${o.rank}` : "", o.flagged === true ? "flagged" : ""].filter(Boolean).join(" ");
}

function scalar(v: unknown): string {
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(Math.round(v * 1000) / 1000);
  if (typeof v === "string") return v;
  if (typeof v === "boolean" || v === null) return String(v);
  if (Array.isArray(v)) {
    const meters = v.map(ranked_meter);
    if (meters.every((m) => m !== null)) return meters.join(", ");
  }
  return JSON.stringify(v);
}

// "shortfall_wh: 1234.5, share: 0.42" from an object; items joined with "; " from an array.
export function evidence_text(evidence: unknown): string {
  let text: string;
  if (evidence === null || evidence === undefined) text = "";
  else if (Array.isArray(evidence)) text = evidence.map((e) => evidence_text(e)).filter(Boolean).join("; ");
  else if (typeof evidence === "object") {
    text = Object.entries(evidence as Record<string, unknown>).map(([k, v]) => {
      // Unix-millisecond times ("last_seen_ms") read as UTC times, not 13-digit numbers.
      if (/_ms$/.test(k) && typeof v === "number" && v > 946_684_800_000 && v < 32_503_680_000_000) {
        return `${k.slice(0, -3).replace(/_/g, " ")}: ${new Date(v).toISOString().slice(0, 19).replace("T", " ")} UTC`;
      }
      return `${k.replace(/_/g, " ")}: ${scalar(v)}`;
    }).join(", ");
  } else text = scalar(evidence);
  return text.length > kMaxEvidenceChars ? `${text.slice(0, kMaxEvidenceChars - 1)}…` : text;
}

// "sms Asha: delivered; webhook: pending (2 tries)"; "" when nobody was notified.
export function deliveries_text(deliveries: AlertDelivery[]): string {
  return deliveries.map((d) => {
    const who = [d.notifier, d.recipient].filter(Boolean).join(" ");
    const tries = d.state !== "delivered" && d.attempts > 1 ? ` (${d.attempts} tries)` : "";
    const error = d.state === "undelivered" && d.last_error ? `: ${d.last_error}` : "";
    return `${who}: ${d.state}${tries}${error}`;
  }).join("; ");
}

// Alerts that still need someone: open or acknowledged (not closed).
export function is_active(a: Alert): boolean {
  return a.state !== "closed";
}

// Open (not closed) alerts per meter id.
export function open_counts(alerts: Alert[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const a of alerts) if (a.meter_id && is_active(a)) counts.set(a.meter_id, (counts.get(a.meter_id) ?? 0) + 1);
  return counts;
}
