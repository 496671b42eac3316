// A meter's live state as the UI shows it: today's energy, tamper and relay, and what its status
// means for the page. The status itself (online, stale, offline, never seen) is the server's: it is
// in the meter JSON and pushed on the live feed at every transition, and the UI applies no
// thresholds of its own.

import type { MeterSummary, Reading, StatusChange } from "./api";

export const kTamperFlagsMask = 0x00ff0000;
export const kFlagRelayOpen = 1 << 8;

// Server time minus browser time, learnt from the meter list (so ages are right on a skewed clock).
let clock_offset_ms = 0;
export function set_server_now(server_now_ms: number): void {
  if (server_now_ms > 0) clock_offset_ms = server_now_ms - Date.now();
}
export function server_now(): number {
  return Date.now() + clock_offset_ms;
}

// Whether the meter's last values are shown (online, or stale: late but not offline). Offline and
// never-seen meters show "no data", never an old value or 0.
export function shows_values(m: MeterSummary): boolean {
  return m.status === "online" || m.status === "stale";
}

// Since when the meter has been offline: the server's transition time, else its last sign of life.
export function offline_since(m: MeterSummary): number {
  return m.status === "offline" && m.since_ms > 0 ? m.since_ms : m.last_seen_ms;
}

export function has_tamper(m: MeterSummary): boolean {
  return m.tamper.length > 0 || ((m.last_reading?.flags ?? 0) & kTamperFlagsMask) !== 0;
}

export function relay_of(m: MeterSummary): "on" | "off" | "unknown" {
  if (m.relay !== "unknown") return m.relay;
  if (!m.last_reading) return "unknown";
  return (m.last_reading.flags & kFlagRelayOpen) !== 0 ? "off" : "on";
}

// Imported energy since 00:00 UTC, kept current from live readings when the day-start register is known.
export function today_import_wh(m: MeterSummary): number | null {
  if (m.day_start_import_wh !== null && m.last_reading) {
    return Math.max(0, m.last_reading.e_import_wh - m.day_start_import_wh);
  }
  return m.today_import_wh;
}

const kTamperNames: [number, string][] = [
  [1 << 16, "reverse flow"], [1 << 17, "neutral mismatch"], [1 << 18, "current without voltage"],
  [1 << 19, "magnetic"], [1 << 20, "cover open"], [1 << 21, "register rollback"],
];

export function tamper_names(m: MeterSummary): string[] {
  const names = new Set(m.tamper.map((t) => t.replace(/_/g, " ")));
  const flags = m.last_reading?.flags ?? 0;
  for (const [bit, name] of kTamperNames) if (flags & bit) names.add(name);
  return [...names];
}

const kDayMs = 86_400_000;
// Which UTC day the day-start register belongs to, per meter (set when the list is loaded).
const day_of_start = new WeakMap<MeterSummary, number>();

export function note_day_start(m: MeterSummary, now_ms: number): void {
  day_of_start.set(m, Math.floor(now_ms / kDayMs));
}

// Applies a live reading to the summary (the status is left alone: the server pushes a status
// message when the reading changed it). Returns false for a reading older than the one shown
// (store-and-forward replays arrive late and must not overwrite newer values).
export function apply_reading(m: MeterSummary, r: Reading, now_ms: number): boolean {
  const prev = m.last_reading;
  m.last_seen_ms = Math.max(m.last_seen_ms, now_ms);
  if (prev && r.time_ms < prev.time_ms) return false;
  const day = Math.floor(r.time_ms / kDayMs);
  const start_day = day_of_start.get(m);
  if (start_day !== undefined && day > start_day) {
    // A new UTC day began: today's count starts from the register at the turn of the day.
    m.day_start_import_wh = prev ? prev.e_import_wh : r.e_import_wh;
    day_of_start.set(m, day);
  }
  m.last_reading = r;
  return true;
}

// Applies a live `status` message: the server's status, since when, and the relay it knows of.
export function apply_status(m: MeterSummary, s: StatusChange): void {
  m.status = s.status;
  if (s.since_ms > 0) m.since_ms = s.since_ms;
  if (s.last_seen_ms > 0) m.last_seen_ms = Math.max(m.last_seen_ms, s.last_seen_ms);
  m.offline_reason = s.offline_reason;
  if (s.relay !== "unknown") m.relay = s.relay;
}

// A meter as reloaded after a break in the live feed, keeping a newer live reading than the server's
// answer (the feed may already be flowing again).
export function merge_reloaded(current: MeterSummary, fresh: MeterSummary): MeterSummary {
  const keep = current.last_reading && fresh.last_reading && current.last_reading.time_ms > fresh.last_reading.time_ms;
  return keep ? { ...fresh, last_reading: current.last_reading } : fresh;
}
