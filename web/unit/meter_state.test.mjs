// How the server's status, live readings and status messages update a meter's summary.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  apply_reading, apply_status, has_tamper, merge_reloaded, note_day_start, offline_since, relay_of, shows_values, tamper_names, today_import_wh,
} from "../src/meter_state.ts";

const kDay = 86_400_000;

function meter(over = {}) {
  return { id: "m1", name: "", area: "", owner: "", status: "online", since_ms: 0, last_seen_ms: 0, offline_reason: "",
    period_s: 5, relay: "unknown", last_reading: null, today_import_wh: null, day_start_import_wh: null, tamper: [],
    alerts_open: 0, ...over };
}
function reading(time_ms, over = {}) {
  return { meter_id: "m1", seq: 1, time_ms, vrms: 230, irms: 1, p_w: 230, s_va: 230, q_var: 0, pf: 1, freq_hz: 50,
    e_import_wh: 1000, e_export_wh: 0, flags: 0, ...over };
}

test("the status is the server's, however long the meter has been silent: the browser has no thresholds", () => {
  for (const status of ["online", "stale", "offline", "unknown"]) {
    const m = meter({ status, last_seen_ms: 100_000 });
    assert.equal(shows_values(m), status === "online" || status === "stale");
  }
  // Silent for an hour but online by the server's word: its values are still shown.
  assert.equal(shows_values(meter({ status: "online", last_seen_ms: 1 })), true);
});

test("offline since: the server's transition time, else the last sign of life", () => {
  assert.equal(offline_since(meter({ status: "offline", since_ms: 120_000, last_seen_ms: 100_000 })), 120_000);
  assert.equal(offline_since(meter({ status: "offline", since_ms: 0, last_seen_ms: 100_000 })), 100_000);
});

test("a status message sets the server's status, times, reason and relay", () => {
  const m = meter({ status: "online", since_ms: 1, last_seen_ms: 90_000, relay: "on" });
  apply_status(m, { meter_id: "m1", status: "stale", since_ms: 100_000, last_seen_ms: 80_000, offline_reason: "", relay: "unknown" });
  assert.equal(m.status, "stale");
  assert.equal(m.since_ms, 100_000);
  assert.equal(m.last_seen_ms, 90_000);  // never moves back
  assert.equal(m.relay, "on");           // an unknown relay keeps the known one
  apply_status(m, { meter_id: "m1", status: "offline", since_ms: 110_000, last_seen_ms: 95_000, offline_reason: "missed_periods", relay: "off" });
  assert.equal(m.status, "offline");
  assert.equal(m.offline_reason, "missed_periods");
  assert.equal(m.last_seen_ms, 95_000);
  assert.equal(m.relay, "off");
});

test("a reading updates last seen and the values but leaves the status to the server", () => {
  const m = meter({ status: "offline", since_ms: 1, last_seen_ms: 1 });
  assert.equal(apply_reading(m, reading(500_000), 500_100), true);
  assert.equal(m.status, "offline");
  assert.equal(m.since_ms, 1);
  assert.equal(m.last_seen_ms, 500_100);
  assert.equal(m.last_reading.time_ms, 500_000);
});

test("a late (replayed) reading does not replace a newer one", () => {
  const m = meter({ last_reading: reading(600_000, { p_w: 999 }) });
  assert.equal(apply_reading(m, reading(500_000, { p_w: 1 }), 600_500), false);
  assert.equal(m.last_reading.p_w, 999);
});

test("today's energy follows the live register and restarts at the turn of the UTC day", () => {
  const day0 = 20_000 * kDay;
  const m = meter({ day_start_import_wh: 1000, today_import_wh: 0, last_reading: reading(day0 + 3600_000, { e_import_wh: 1000 }) });
  note_day_start(m, day0 + 3600_000);
  apply_reading(m, reading(day0 + 7200_000, { e_import_wh: 1500 }), day0 + 7200_000);
  assert.equal(today_import_wh(m), 500);
  apply_reading(m, reading(day0 + kDay + 60_000, { e_import_wh: 1600 }), day0 + kDay + 60_000);
  assert.equal(m.day_start_import_wh, 1500);
  assert.equal(today_import_wh(m), 100);
});

test("without a day-start register, today's energy is the server's figure or null (never 0 by default)", () => {
  assert.equal(today_import_wh(meter()), null);
  assert.equal(today_import_wh(meter({ today_import_wh: 42 })), 42);
});

test("tamper comes from active conditions or the reading's tamper flags", () => {
  assert.equal(has_tamper(meter()), false);
  assert.equal(has_tamper(meter({ tamper: ["magnetic"] })), true);
  const flagged = meter({ last_reading: reading(1, { flags: 1 << 17 }) });
  assert.equal(has_tamper(flagged), true);
  assert.deepEqual(tamper_names(flagged), ["neutral mismatch"]);
});

test("relay state: the server's value, else the reading's relay-open flag", () => {
  assert.equal(relay_of(meter({ relay: "off" })), "off");
  assert.equal(relay_of(meter({ last_reading: reading(1, { flags: 1 << 8 }) })), "off");
  assert.equal(relay_of(meter({ last_reading: reading(1) })), "on");
  assert.equal(relay_of(meter()), "unknown");
});

test("a reload keeps a newer live reading than the server's answer, and takes everything else from the answer", () => {
  const current = meter({ status: "online", last_reading: reading(900_000, { p_w: 5 }) });
  const older = merge_reloaded(current, meter({ status: "stale", last_reading: reading(800_000, { p_w: 1 }) }));
  assert.equal(older.status, "stale");
  assert.equal(older.last_reading.p_w, 5);
  const newer = merge_reloaded(current, meter({ status: "online", last_reading: reading(950_000, { p_w: 9 }) }));
  assert.equal(newer.last_reading.p_w, 9);
  assert.equal(merge_reloaded(current, meter({ last_reading: null })).last_reading, null);
});
