// The online / stale / offline rule and how live readings update a meter's summary.
import assert from "node:assert/strict";
import { test } from "node:test";
import { apply_reading, has_tamper, health_of, note_day_start, offline_since, relay_of, tamper_names, today_import_wh } from "../src/meter_state.ts";

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

test("a meter that reported within 2 periods is online", () => {
  assert.equal(health_of(meter({ last_seen_ms: 100_000 }), 100_000 + 10_000), "online");
});

test("a meter silent for over 2 periods is stale, over 3 periods offline (even before the server says so)", () => {
  const m = meter({ last_seen_ms: 100_000 });
  assert.equal(health_of(m, 100_000 + 11_500), "stale");
  assert.equal(health_of(m, 100_000 + 15_000), "stale");
  assert.equal(health_of(m, 100_000 + 17_500), "offline");
  assert.equal(offline_since(m), 100_000);
});

test("the server's offline status wins at once and gives the since time", () => {
  const m = meter({ status: "offline", since_ms: 120_000, last_seen_ms: 100_000 });
  assert.equal(health_of(m, 121_000), "offline");
  assert.equal(offline_since(m), 120_000);
});

test("a meter never seen is unknown", () => {
  assert.equal(health_of(meter({ status: "unknown" }), 1e12), "unknown");
});

test("a reading brings an offline meter back online and updates last seen", () => {
  const m = meter({ status: "offline", since_ms: 1, last_seen_ms: 1 });
  assert.equal(apply_reading(m, reading(500_000), 500_100), true);
  assert.equal(m.status, "online");
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
