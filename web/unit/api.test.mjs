// The API adapter reads the meter JSON and the live feed's messages by the names the server writes
// (docs/api.md), including the server's "stale" status, and nothing else.
import assert from "node:assert/strict";
import { test } from "node:test";
import { normalize_command, normalize_meter, normalize_reading } from "../src/api.ts";
import { empty_batch, take_frame } from "../src/live.ts";

const kReading = { meter_id: "m-00001", seq: 812, time_ms: 1714557597000, vrms: 231.2, irms: 5.21, p_w: 1180.4, s_va: 1204.6,
  q_var: 239.8, pf: 0.98, freq_hz: 50.01, e_import_wh: 10532.7, e_export_wh: 0, flags: 8 };

test("a meter as the server sends it is read field by field", () => {
  const m = normalize_meter({ id: "m-00001", name: "House 1", area: "north", owner: "alice", created_ms: 1, status: "online",
    since_ms: 1714557000000, last_seen_ms: 1714557598000, offline_reason: "", period_s: 5, relay: "on", stale: false,
    last_reading: kReading, today_import_wh: 8410.2, day_start_import_wh: 2122.5, tamper: ["magnetic"], alerts_open: 2 });
  assert.deepEqual(m, { id: "m-00001", name: "House 1", area: "north", owner: "alice", status: "online", since_ms: 1714557000000,
    last_seen_ms: 1714557598000, offline_reason: "", period_s: 5, relay: "on", last_reading: kReading, today_import_wh: 8410.2,
    day_start_import_wh: 2122.5, tamper: ["magnetic"], alerts_open: 2 });
});

test("the meter's status is taken as the server says it, stale included; anything else is unknown", () => {
  for (const status of ["online", "stale", "offline", "unknown"]) assert.equal(normalize_meter({ id: "m", status }).status, status);
  assert.equal(normalize_meter({ id: "m", status: "asleep" }).status, "unknown");
  // Other names than the documented ones are not read.
  assert.equal(normalize_meter({ id: "m", connectivity: "online" }).status, "unknown");
  assert.equal(normalize_meter({ meter_id: "m" }).id, "");
  assert.equal(normalize_meter({ id: "m", live: { status: "online", last_reading: kReading } }).last_reading, null);
});

test("a reading needs time_ms; missing values of the fleet's cut reading are absent, the time is not guessed", () => {
  assert.equal(normalize_reading({ time: 1714557597, p_w: 1 }), null);
  assert.equal(normalize_reading(null), null);
  const slim = normalize_reading({ time_ms: 5, vrms: 230.1, p_w: 10.5, e_import_wh: 7, flags: 0 });
  assert.equal(slim.time_ms, 5);
  assert.equal(slim.p_w, 10.5);
});

test("a command is read from the record inside the server's {command} answer", () => {
  const c = normalize_command({ id: "c-1", meter_id: "m1", kind: "relay_off", args: {}, requested_by: "token:1", state: "acked",
    message: "", relay: "off", created_ms: 1, sent_ms: 2, updated_ms: 3 });
  assert.deepEqual(c, { id: "c-1", meter_id: "m1", kind: "relay_off", state: "acked", message: "", relay: "off", created_ms: 1, updated_ms: 3 });
  assert.equal(normalize_command({ state: "exploded" }).state, "pending");
});

test("a live frame's messages are sorted into readings, statuses, commands and events", () => {
  const batch = empty_batch();
  take_frame([
    { type: "reading", meter_id: "m1", reading: { ...kReading, meter_id: "m1" } },
    { type: "status", meter_id: "m1", status: "stale", since_ms: 10, last_seen_ms: 9, offline_reason: "", period_s: 5, relay: "on" },
    { type: "status", meter_id: "m2", status: "offline", since_ms: 20, last_seen_ms: 19, offline_reason: "missed_periods", period_s: 5,
      relay: "unknown" },
    { type: "command", meter_id: "m1", command: { id: "c-1", meter_id: "m1", state: "acked", message: "", relay: "off" } },
    { type: "event", meter_id: "m1", event: { id: 4, meter_id: "m1", kind: "magnetic" } },
  ], batch);
  assert.equal(batch.readings.length, 1);
  assert.equal(batch.readings[0].meter_id, "m1");
  assert.deepEqual(batch.statuses, [
    { meter_id: "m1", status: "stale", since_ms: 10, last_seen_ms: 9, offline_reason: "", relay: "on" },
    { meter_id: "m2", status: "offline", since_ms: 20, last_seen_ms: 19, offline_reason: "missed_periods", relay: "unknown" },
  ]);
  assert.deepEqual(batch.commands,
    [{ id: "c-1", meter_id: "m1", kind: "", state: "acked", message: "", relay: "off", created_ms: 0, updated_ms: 0 }]);
  assert.equal(batch.events[0].kind, "magnetic");
});

test("a live frame that is not the documented array, or messages in other shapes, add nothing", () => {
  const batch = empty_batch();
  take_frame({ type: "reading", reading: kReading }, batch);
  take_frame({ type: "batch", messages: [{ type: "reading", reading: kReading }] }, batch);
  take_frame([{ type: "status", status: { meter_id: "m1", status: "offline" } }], batch);  // nested: not the server's shape
  take_frame([{ meter_id: "m1", ...kReading }, { type: "command", id: "c-1", state: "acked" }, null, 7], batch);
  assert.equal(batch.readings.length, 0);
  assert.equal(batch.commands.length, 0);
  // A status whose status is not one of the documented values is unknown, not offline.
  assert.deepEqual(batch.statuses.map((s) => [s.meter_id, s.status]), [["", "unknown"]]);
});
