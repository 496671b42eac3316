// The fleet page's state under live data: readings, the server's status messages, commands, open-alert
// counts and a reload after a break in the feed; which rows are redrawn and when the view needs rebuilding.
import assert from "node:assert/strict";
import { test } from "node:test";
import { apply_alert_counts, apply_batch, new_fleet_state, reload_meters, set_meters, set_transformers } from "../src/fleet/fleet_state.ts";
import { kDefaultViewOptions } from "../src/fleet/fleet_view.ts";

function meter(id, over = {}) {
  return { id, name: "", area: "", owner: "", status: "online", since_ms: 0, last_seen_ms: 0, offline_reason: "", period_s: 5,
    relay: "unknown", last_reading: null, today_import_wh: null, day_start_import_wh: null, tamper: [], alerts_open: 0, ...over };
}
function reading(meter_id, time_ms, over = {}) {
  return { meter_id, seq: 1, time_ms, vrms: 230, irms: 1, p_w: 100, s_va: 0, q_var: 0, pf: 1, freq_hz: 50, e_import_wh: 0,
    e_export_wh: 0, flags: 0, ...over };
}
const batch = (over = {}) => ({ readings: [], statuses: [], commands: [], events: [], receive_ms: 0, ...over });
function fleet(options = {}) {
  const state = new_fleet_state({ ...kDefaultViewOptions, ...options });
  set_meters(state, [meter("m-1"), meter("m-2"), meter("m-3")], 1000);
  return state;
}

test("readings of known meters mark their rows; unknown meters and older replays are left out", () => {
  const state = fleet({ sort_key: "id" });
  state.meters[1].last_reading = reading("m-2", 5000);
  const changed = apply_batch(state, batch({ readings: [reading("m-1", 2000), reading("m-2", 4000), reading("m-9", 2000)] }), 6000);
  assert.deepEqual(changed, [0]);
  assert.equal(state.meters[0].last_seen_ms, 6000);
  assert.equal(state.view_stale, false);  // sorted by id: readings do not move rows
});

test("readings move the rows when sorted by status, power or today", () => {
  for (const sort_key of ["status", "power", "today"]) {
    const state = fleet({ sort_key });
    apply_batch(state, batch({ readings: [reading("m-1", 2000)] }), 3000);
    assert.equal(state.view_stale, true, sort_key);
  }
});

test("a status message sets the server's status as is, and a filtered view is rebuilt", () => {
  const state = fleet({ filter: "stale" });
  const s = { meter_id: "m-3", status: "stale", since_ms: 5000, last_seen_ms: 4000, offline_reason: "", relay: "unknown" };
  assert.deepEqual(apply_batch(state, batch({ statuses: [s] }), 6000), [2]);
  assert.equal(state.meters[2].status, "stale");
  assert.equal(state.view_stale, true);
  const all = fleet();
  apply_batch(all, batch({ statuses: [s] }), 6000);
  assert.equal(all.view_stale, false);
});

test("a command with a known relay state sets the meter's relay", () => {
  const state = fleet();
  const c = (relay) => ({ id: "c", meter_id: "m-2", kind: "relay_off", state: "acked", message: "", relay, created_ms: 0, updated_ms: 0 });
  assert.deepEqual(apply_batch(state, batch({ commands: [c("unknown")] }), 1), []);
  assert.deepEqual(apply_batch(state, batch({ commands: [c("off")] }), 1), [1]);
  assert.equal(state.meters[1].relay, "off");
});

test("open-alert counts update only the meters that changed", () => {
  const state = fleet({ filter: "alerts" });
  assert.deepEqual(apply_alert_counts(state, new Map([["m-2", 3]])), [1]);
  assert.equal(state.meters[1].alerts_open, 3);
  assert.equal(state.view_stale, true);
  state.view_stale = false;
  assert.deepEqual(apply_alert_counts(state, new Map([["m-2", 3]])), []);
  assert.equal(state.view_stale, false);
});

test("a reload updates the same meters in place, keeps newer live readings, and replaces a changed list", () => {
  const state = fleet();
  const first = state.meters[0];
  first.last_reading = reading("m-1", 9000, { p_w: 7 });
  reload_meters(state, [meter("m-1", { status: "offline", last_reading: reading("m-1", 8000) }), meter("m-2"), meter("m-3")], 10_000);
  assert.equal(state.meters[0], first);
  assert.equal(first.status, "offline");
  assert.equal(first.last_reading.p_w, 7);
  reload_meters(state, [meter("m-1"), meter("m-4")], 10_000);
  assert.deepEqual(state.meters.map((m) => m.id), ["m-1", "m-4"]);
  assert.equal(state.index_of.get("m-4"), 1);
});

test("a known grid puts transformer ids into the search keys", () => {
  const state = fleet();
  set_transformers(state, new Map([["m-2", "DT7"]]));
  assert.ok(state.keys[1].includes("dt7"));
  assert.ok(!state.keys[0].includes("dt7"));
});
