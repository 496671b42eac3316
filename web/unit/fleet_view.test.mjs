// The fleet list's decisions: search, filters, the sort orders (status in attention order), counts per
// status and the row and counts texts.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  badges_key, badges_of, build_view, changed_alert_counts, count_fleet, counts_text, filter_needs_periodic_rebuild, grid_is_known,
  kDefaultViewOptions, matches, next_sort, normalize_query, search_key, search_keys, shown_text, sort_follows_readings, status_text,
  transformer_choices, transformer_of_meters,
} from "../src/fleet/fleet_view.ts";

function meter(id, over = {}) {
  return { id, name: "", area: "", owner: "", status: "online", since_ms: 0, last_seen_ms: 0, offline_reason: "", period_s: 5,
    relay: "unknown", last_reading: null, today_import_wh: null, day_start_import_wh: null, tamper: [], alerts_open: 0, ...over };
}
function reading(over = {}) {
  return { meter_id: "", seq: 1, time_ms: 1, vrms: 230, irms: 1, p_w: 100, s_va: 0, q_var: 0, pf: 1, freq_hz: 50, e_import_wh: 0,
    e_export_wh: 0, flags: 0, ...over };
}
// Most cases read easier in id order; the default order has its own test.
const options = (over = {}) => ({ ...kDefaultViewOptions, sort_key: "id", ...over });
const ids = (meters, view) => [...view.order].map((i) => meters[i].id);
function view_of(meters, over = {}, transformer_of = new Map()) {
  return ids(meters, build_view(meters, search_keys(meters, transformer_of), transformer_of, options(over)));
}

const fleet = [
  meter("m-3", { area: "south", owner: "carol", status: "offline", since_ms: 5000, last_seen_ms: 4000 }),
  meter("m-1", { name: "House One", area: "north", owner: "alice", last_reading: reading({ p_w: 500 }), today_import_wh: 2000 }),
  meter("m-2", { area: "north", status: "stale", last_reading: reading({ p_w: 1500 }), tamper: ["magnetic"], alerts_open: 2 }),
  meter("m-4", { area: "east", status: "unknown" }),
  meter("m-5", { area: "east", relay: "off", last_reading: reading({ p_w: 0 }), today_import_wh: 9000 }),
];

test("the search looks in id, name, area, owner and transformer, ignoring case and surrounding blanks", () => {
  assert.equal(normalize_query("  HoUse "), "house");
  assert.deepEqual(view_of(fleet, { query: "house" }), ["m-1"]);
  assert.deepEqual(view_of(fleet, { query: "north" }), ["m-1", "m-2"]);
  assert.deepEqual(view_of(fleet, { query: "carol" }), ["m-3"]);
  assert.deepEqual(view_of(fleet, { query: "dt7" }, new Map([["m-4", "DT7"]])), ["m-4"]);
  assert.deepEqual(view_of(fleet, { query: "nobody" }), []);
  assert.equal(search_key(meter("A"), "T"), "a\u0000\u0000\u0000\u0000t");
});

test("each filter keeps its meters: a status as the server gives it, tamper, alerts, relay off, a transformer", () => {
  assert.deepEqual(view_of(fleet, { filter: "online" }), ["m-1", "m-5"]);
  assert.deepEqual(view_of(fleet, { filter: "stale" }), ["m-2"]);
  assert.deepEqual(view_of(fleet, { filter: "offline" }), ["m-3"]);
  assert.deepEqual(view_of(fleet, { filter: "unknown" }), ["m-4"]);
  assert.deepEqual(view_of(fleet, { filter: "tamper" }), ["m-2"]);
  assert.deepEqual(view_of(fleet, { filter: "alerts" }), ["m-2"]);
  assert.deepEqual(view_of(fleet, { filter: "relay_off" }), ["m-5"]);
  const grid = new Map([["m-1", "DT1"], ["m-2", "DT1"], ["m-5", "DT2"]]);
  assert.deepEqual(view_of(fleet, { transformer: "DT1" }, grid), ["m-1", "m-2"]);
  assert.deepEqual(view_of(fleet, { transformer: "DT1", filter: "stale" }, grid), ["m-2"]);
  assert.equal(matches(fleet[0], "x", undefined, options({ transformer: "DT1" })), false);
});

test("a meter silent for long but online by the server's word is still online: no thresholds in the browser", () => {
  const silent = [meter("m-9", { status: "online", last_seen_ms: 1, last_reading: reading({ p_w: 40 }) })];
  assert.deepEqual(view_of(silent, { filter: "online" }), ["m-9"]);
  assert.deepEqual(view_of(silent, { filter: "offline" }), []);
  assert.equal(status_text(silent[0], 1e12), "online");
  assert.equal(count_fleet(silent).total_w, 40);
});

test("sorting by status puts the meters needing attention first: alerts or tamper, offline, stale, online, never seen last", () => {
  assert.deepEqual(view_of(fleet, { sort_key: "status" }), ["m-2", "m-3", "m-1", "m-5", "m-4"]);
  assert.deepEqual(view_of(fleet, { sort_key: "status", sort_descending: true }), ["m-4", "m-1", "m-5", "m-3", "m-2"]);
  const quiet = [meter("b", { status: "stale" }), meter("a", { status: "online", alerts_open: 1 }), meter("c", { status: "offline" })];
  assert.deepEqual(view_of(quiet, { sort_key: "status" }), ["a", "c", "b"]);
});

test("the list opens in attention order", () => {
  assert.equal(kDefaultViewOptions.sort_key, "status");
  assert.equal(kDefaultViewOptions.sort_descending, false);
});

test("power and today sort biggest first from the first click; missing values go last; ties in id order", () => {
  assert.deepEqual(next_sort(options(), "power"), { sort_key: "power", sort_descending: true });
  assert.deepEqual(next_sort(options(), "today"), { sort_key: "today", sort_descending: true });
  assert.deepEqual(next_sort(options(), "area"), { sort_key: "area", sort_descending: false });
  assert.deepEqual(next_sort(options({ sort_key: "area" }), "area"), { sort_key: "area", sort_descending: true });
  assert.deepEqual(next_sort(options({ sort_key: "area", sort_descending: true }), "area"), { sort_key: "area", sort_descending: false });
  // Offline and never-seen meters have no power shown, so none to sort by.
  assert.deepEqual(view_of(fleet, { sort_key: "power", sort_descending: true }), ["m-2", "m-1", "m-5", "m-3", "m-4"]);
  assert.deepEqual(view_of(fleet, { sort_key: "today", sort_descending: true }), ["m-5", "m-1", "m-2", "m-3", "m-4"]);
  assert.deepEqual(view_of(fleet, { sort_key: "area" }), ["m-4", "m-5", "m-1", "m-2", "m-3"]);
  assert.deepEqual(view_of(fleet, { sort_key: "area", sort_descending: true }), ["m-3", "m-1", "m-2", "m-4", "m-5"]);
});

test("the view maps positions to meters and back, -1 for the meters filtered out", () => {
  const view = build_view(fleet, search_keys(fleet, new Map()), new Map(), options({ filter: "online" }));
  assert.deepEqual([...view.order], [1, 4]);
  assert.deepEqual([...view.position_of], [-1, 0, -1, -1, 1]);
});

test("counts per status, tamper, alerts and the power of the meters whose values are shown", () => {
  const c = count_fleet(fleet);
  assert.deepEqual(c, { total: 5, online: 2, stale: 1, offline: 1, unknown: 1, tamper: 1, alerts: 1, total_w: 2000 });
  assert.equal(counts_text(c), "5 meters · 2 online · 1 stale · 1 offline · 1 never seen · 1 tamper · 1 with alerts · total 2.00 kW");
  assert.equal(counts_text(count_fleet([fleet[1]])), "1 meter · 1 online · 0 stale · 0 offline · 0 tamper · 0 with alerts · total 500 W");
  assert.equal(shown_text(5, 5), "5 shown");
  assert.equal(shown_text(2, 5), "2 of 5 shown");
});

test("a row's status text: stale with its age, offline since the server's time, never seen", () => {
  const now = 1_000_000;
  assert.equal(status_text(meter("a", { status: "stale", last_seen_ms: now - 12_000 }), now).startsWith("stale, "), true);
  assert.match(status_text(meter("a", { status: "offline", since_ms: now - 60_000, last_seen_ms: now - 90_000 }), now), /^offline since /);
  assert.equal(status_text(meter("a", { status: "unknown" }), now), "never seen");
});

test("badges change their key only when what they show changes", () => {
  const b = badges_of(fleet[1]);
  assert.deepEqual(b, { tamper: false, alerts_open: 0, relay_off: false });
  assert.deepEqual(badges_of(fleet[2]), { tamper: true, alerts_open: 2, relay_off: false });
  assert.notEqual(badges_key(b), badges_key(badges_of(fleet[4])));
  assert.equal(badges_key(b), badges_key(badges_of(meter("x"))));
});

test("which changes need the rows re-sorted or re-filtered", () => {
  assert.deepEqual(["id", "area", "status", "power", "today"].filter(sort_follows_readings), ["status", "power", "today"]);
  assert.deepEqual(["all", "online", "stale", "offline", "unknown", "tamper", "alerts", "relay_off"].filter(filter_needs_periodic_rebuild),
    ["online", "stale", "offline", "unknown", "relay_off"]);
});

test("open-alert counts: only the meters whose count changed", () => {
  assert.deepEqual(changed_alert_counts(fleet, new Map([["m-2", 2], ["m-4", 1]])), [3]);
  assert.deepEqual(changed_alert_counts(fleet, new Map()), [2]);
});

test("transformers: who feeds which meter, the filter's choices in id order, and whether the grid is known", () => {
  const grid = [
    { id: "DT2", name: "", area: "", check_meter: "DT2-CHK", consumers: ["m-5"], balance_alert: true },
    { id: "DT1", name: "Elm", area: "", check_meter: "", consumers: ["m-1", "m-2"], balance_alert: false },
  ];
  assert.deepEqual([...transformer_of_meters(grid)], [["m-5", "DT2"], ["DT2-CHK", "DT2"], ["m-1", "DT1"], ["m-2", "DT1"]]);
  assert.deepEqual(transformer_choices(grid), [{ value: "DT1", label: "DT1 · Elm" }, { value: "DT2", label: "DT2 (energy balance alert)" }]);
  assert.equal(grid_is_known(grid), true);
  assert.equal(grid_is_known(null), false);
  assert.equal(grid_is_known([{ id: "DT3", name: "", area: "", check_meter: "", consumers: [], balance_alert: false }]), false);
});
