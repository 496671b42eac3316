// The fleet list's decisions, apart from the page: which meters a search and filter keep, in which
// order (the attention order for status), the counts per status and the texts of the counts line and
// of a row's status. Data in, data out: no DOM, no globals, no clock (`now_ms` is passed in).

import type { MeterStatus, MeterSummary, Transformer } from "../api";
import { age, power, when } from "../format";
import { has_tamper, offline_since, relay_of, shows_values, today_import_wh } from "../meter_state";

export type SortKey = "id" | "area" | "status" | "power" | "today";
export type Filter = "all" | MeterStatus | "tamper" | "alerts" | "relay_off";

// What the user chose in the toolbar and the column headers.
export interface ViewOptions {
  query: string;          // already normalised (normalize_query)
  filter: Filter;
  transformer: string;    // "" for all transformers
  sort_key: SortKey;
  sort_descending: boolean;
}

// The list opens in attention order: what needs someone is on the first screen, not below a page of
// meters that only have imported history.
export const kDefaultViewOptions: ViewOptions = { query: "", filter: "all", transformer: "", sort_key: "status", sort_descending: false };

// The filter menu, in its order.
export const kFilterChoices: readonly (readonly [Filter, string])[] = [
  ["all", "All meters"], ["online", "Online"], ["stale", "Stale"], ["offline", "Offline"], ["unknown", "Never seen"],
  ["tamper", "Tamper"], ["alerts", "With alerts"], ["relay_off", "Relay off"],
];

// Sorting by status puts the meters that need someone first: open alerts or tamper, then offline and
// stale, then the live ones; never-seen meters (only imported history, or not installed yet) come last.
export const kAttentionRank: Readonly<Record<MeterStatus, number>> = { offline: 1, stale: 2, online: 3, unknown: 4 };

export function attention_rank(m: MeterSummary): number {
  return m.alerts_open > 0 || has_tamper(m) ? 0 : kAttentionRank[m.status];
}

// The order of the rows: view position -> meter index, and its inverse (-1 when filtered out).
export interface FleetView {
  order: Int32Array;
  position_of: Int32Array;
}

export function empty_view(): FleetView {
  return { order: new Int32Array(0), position_of: new Int32Array(0) };
}

export function normalize_query(text: string): string {
  return text.trim().toLowerCase();
}

// The text a search looks in: id, name, area, owner and the feeding transformer's id, lower case.
export function search_key(m: MeterSummary, transformer_id: string): string {
  return `${m.id}\u0000${m.name}\u0000${m.area}\u0000${m.owner}\u0000${transformer_id}`.toLowerCase();
}

export function search_keys(meters: readonly MeterSummary[], transformer_of: ReadonlyMap<string, string>): string[] {
  return meters.map((m) => search_key(m, transformer_of.get(m.id) ?? ""));
}

export function matches(m: MeterSummary, key: string, transformer_id: string | undefined, o: ViewOptions): boolean {
  if (o.query && !key.includes(o.query)) return false;
  if (o.transformer && transformer_id !== o.transformer) return false;
  switch (o.filter) {
    case "all": return true;
    case "tamper": return has_tamper(m);
    case "alerts": return m.alerts_open > 0;
    case "relay_off": return relay_of(m) === "off";
    default: return m.status === o.filter;
  }
}

// Power counts only while the meter's values are shown; missing values sort as the smallest.
export function sort_value(m: MeterSummary, key: SortKey): number | string {
  switch (key) {
    case "id": return m.id;
    case "area": return m.area;
    case "status": return attention_rank(m);
    case "power": return shows_values(m) && m.last_reading ? m.last_reading.p_w : -Infinity;
    case "today": return today_import_wh(m) ?? -Infinity;
  }
}

// The meters the options keep, sorted; ties in id order whatever the direction.
export function build_view(meters: readonly MeterSummary[], keys: readonly string[], transformer_of: ReadonlyMap<string, string>,
  o: ViewOptions): FleetView {
  const chosen: number[] = [];
  for (let i = 0; i < meters.length; i++) {
    if (matches(meters[i], keys[i], transformer_of.get(meters[i].id), o)) chosen.push(i);
  }
  const values = new Map<number, number | string>();
  for (const i of chosen) values.set(i, sort_value(meters[i], o.sort_key));
  const dir = o.sort_descending ? -1 : 1;
  chosen.sort((a, b) => {
    const va = values.get(a)!, vb = values.get(b)!;
    if (va < vb) return -dir;
    if (va > vb) return dir;
    return meters[a].id < meters[b].id ? -1 : 1;
  });
  const order = Int32Array.from(chosen);
  const position_of = new Int32Array(meters.length).fill(-1);
  for (let k = 0; k < order.length; k++) position_of[order[k]] = k;
  return { order, position_of };
}

// A click on a column header: the same column flips the direction; another starts ascending, except
// power and today, where the biggest come first.
export function next_sort(o: ViewOptions, clicked: SortKey): Pick<ViewOptions, "sort_key" | "sort_descending"> {
  if (o.sort_key === clicked) return { sort_key: clicked, sort_descending: !o.sort_descending };
  return { sort_key: clicked, sort_descending: clicked === "power" || clicked === "today" };
}

// Live readings move these sort keys; the others stay put until a status changes.
export function sort_follows_readings(key: SortKey): boolean {
  return key === "status" || key === "power" || key === "today";
}

// Filters the periodic rebuild keeps current even when no message said the view changed.
export function filter_needs_periodic_rebuild(filter: Filter): boolean {
  return filter !== "all" && filter !== "tamper" && filter !== "alerts";
}

export interface FleetCounts {
  total: number;
  online: number;
  stale: number;
  offline: number;
  unknown: number;
  tamper: number;
  alerts: number;   // meters with open alerts
  total_w: number;  // power of the meters whose values are shown
}

export function count_fleet(meters: readonly MeterSummary[]): FleetCounts {
  const c: FleetCounts = { total: meters.length, online: 0, stale: 0, offline: 0, unknown: 0, tamper: 0, alerts: 0, total_w: 0 };
  for (const m of meters) {
    c[m.status]++;
    if (has_tamper(m)) c.tamper++;
    if (m.alerts_open > 0) c.alerts++;
    if (shows_values(m) && m.last_reading) c.total_w += m.last_reading.p_w;
  }
  return c;
}

export function counts_text(c: FleetCounts): string {
  return `${c.total} meter${c.total === 1 ? "" : "s"} · ${c.online} online · ${c.stale} stale · ${c.offline} offline` +
    (c.unknown ? ` · ${c.unknown} never seen` : "") + ` · ${c.tamper} tamper · ${c.alerts} with alerts · total ${power(c.total_w)}`;
}

export function shown_text(shown: number, total: number): string {
  return shown === total ? `${total} shown` : `${shown} of ${total} shown`;
}

export function status_text(m: MeterSummary, now_ms: number): string {
  switch (m.status) {
    case "online": return "online";
    case "stale": return `stale, ${age(now_ms - m.last_seen_ms)} ago`;
    case "offline": return `offline since ${when(offline_since(m), now_ms)}`;
    case "unknown": return "never seen";
  }
}

export interface Badges {
  tamper: boolean;
  alerts_open: number;
  relay_off: boolean;
}

export function badges_of(m: MeterSummary): Badges {
  return { tamper: has_tamper(m), alerts_open: m.alerts_open, relay_off: relay_of(m) === "off" };
}

// Equal keys: the badges need not be drawn again.
export function badges_key(b: Badges): string {
  return `${b.tamper ? 1 : 0}${b.alerts_open}${b.relay_off ? 1 : 0}`;
}

export function alerts_badge_text(n: number): string {
  return `${n} alert${n > 1 ? "s" : ""}`;
}

// A sortable header's accessible name: the column, and the direction when it is the active one.
export function sort_label(label: string, active: boolean, descending: boolean): string {
  return `${label}${active ? (descending ? ", descending" : ", ascending") : ""}`;
}

// Meter id -> the transformer feeding it (as consumer or check meter).
export function transformer_of_meters(transformers: readonly Transformer[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const t of transformers) {
    for (const c of t.consumers) map.set(c, t.id);
    if (t.check_meter) map.set(t.check_meter, t.id);
  }
  return map;
}

// Whether the grid is known well enough to offer a transformer filter.
export function grid_is_known(transformers: readonly Transformer[] | null): transformers is Transformer[] {
  return transformers !== null && transformers.some((t) => t.consumers.length > 0 || t.check_meter !== "");
}

// The transformer filter's choices in id order, flagged ones marked.
export function transformer_choices(transformers: readonly Transformer[]): { value: string; label: string }[] {
  return [...transformers].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((t) => ({
    value: t.id,
    label: `${t.name ? `${t.id} · ${t.name}` : t.id}${t.balance_alert ? " (energy balance alert)" : ""}`,
  }));
}

// The meters (by index) whose open-alert count differs from `counts` (meter id -> open alerts).
export function changed_alert_counts(meters: readonly MeterSummary[], counts: ReadonlyMap<string, number>): number[] {
  const changed: number[] = [];
  for (let i = 0; i < meters.length; i++) if (meters[i].alerts_open !== (counts.get(meters[i].id) ?? 0)) changed.push(i);
  return changed;
}
