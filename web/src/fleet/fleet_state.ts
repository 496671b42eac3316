// The fleet page's state and how data changes it: the meter list (loaded or reloaded), live batches
// and open-alert counts. No DOM: each update answers which meters' rows need redrawing, and marks the
// view stale when the filter or sort may have changed (the page rebuilds it at most every few seconds).

import type { MeterSummary } from "../api";
import type { LiveBatch } from "../live";
import { apply_reading, apply_status, merge_reloaded, note_day_start } from "../meter_state";
import { changed_alert_counts, empty_view, search_keys, sort_follows_readings, type FleetView, type ViewOptions } from "./fleet_view";

export interface FleetState {
  meters: MeterSummary[];
  keys: string[];                        // search key per meter
  index_of: Map<string, number>;         // meter id -> index in `meters`
  transformer_of: Map<string, string>;   // meter id -> transformer id (when the server knows the grid)
  view: FleetView;
  options: ViewOptions;
  view_stale: boolean;                   // live data changed something the filter or sort depends on
  closed: boolean;
}

export function new_fleet_state(options: ViewOptions): FleetState {
  return {
    meters: [], keys: [], index_of: new Map(), transformer_of: new Map(), view: empty_view(), options: { ...options },
    view_stale: false, closed: false,
  };
}

// A new meter list (first load, or meters added or removed).
export function set_meters(state: FleetState, meters: MeterSummary[], now_ms: number): void {
  state.meters = meters;
  state.keys = search_keys(meters, state.transformer_of);
  state.index_of = new Map(meters.map((m, i) => [m.id, i]));
  for (const m of meters) note_day_start(m, now_ms);
}

// The list again after a break in the live feed: the same meters are updated in place (the objects
// stay: today's day-start bookkeeping is keyed on them), keeping newer live readings; a changed set
// of meters replaces the list.
export function reload_meters(state: FleetState, meters: MeterSummary[], now_ms: number): void {
  const same = meters.length === state.meters.length && meters.every((m) => state.index_of.has(m.id));
  if (!same) {
    set_meters(state, meters, now_ms);
    return;
  }
  for (const fresh of meters) {
    const m = state.meters[state.index_of.get(fresh.id)!];
    Object.assign(m, merge_reloaded(m, fresh));
  }
}

// A new grid: transformer ids join the search keys.
export function set_transformers(state: FleetState, transformer_of: Map<string, string>): void {
  state.transformer_of = transformer_of;
  state.keys = search_keys(state.meters, transformer_of);
}

// Applies a live batch; answers the indices of the meters whose rows need redrawing.
export function apply_batch(state: FleetState, batch: LiveBatch, now_ms: number): number[] {
  const changed: number[] = [];
  for (const r of batch.readings) {
    const i = state.index_of.get(r.meter_id);
    if (i !== undefined && apply_reading(state.meters[i], r, now_ms)) changed.push(i);
  }
  for (const s of batch.statuses) {
    const i = state.index_of.get(s.meter_id);
    if (i === undefined) continue;
    apply_status(state.meters[i], s);
    changed.push(i);
    if (state.options.filter !== "all") state.view_stale = true;
  }
  for (const c of batch.commands) {
    const i = state.index_of.get(c.meter_id);
    if (i !== undefined && c.relay !== "unknown") {
      state.meters[i].relay = c.relay;
      changed.push(i);
    }
  }
  if (batch.readings.length > 0 && sort_follows_readings(state.options.sort_key)) state.view_stale = true;
  return changed;
}

// Open-alert counts per meter (meter id -> alerts not closed); answers the meters that changed.
export function apply_alert_counts(state: FleetState, counts: ReadonlyMap<string, number>): number[] {
  const changed = changed_alert_counts(state.meters, counts);
  for (const i of changed) state.meters[i].alerts_open = counts.get(state.meters[i].id) ?? 0;
  if (changed.length && state.options.filter === "alerts") state.view_stale = true;
  return changed;
}
