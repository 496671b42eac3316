// Step choice for a visible range, and the CSV of the shown history.
import assert from "node:assert/strict";
import { test } from "node:test";
import { step_for_range, step_label } from "../src/meter/steps.ts";
import { history_csv } from "../src/meter/csv.ts";

test("the step gives at most the wanted number of points, rounded up to a round step", () => {
  assert.equal(step_for_range(3600_000, 1000, 1), 5);            // 1 h -> 5 s (720 points)
  assert.equal(step_for_range(86400_000, 1000, 1), 120);         // 24 h -> 2 min
  assert.equal(step_for_range(30 * 86400_000, 1000, 1), 3600);   // 30 d -> 1 h (720 points)
  assert.equal(step_for_range(60_000, 1000, 1), 1);              // 1 min -> raw 1 s
  assert.equal(step_for_range(60_000, 1000, 5), 5);              // never below the minimum
  for (const range of [60_000, 3600_000, 7 * 86400_000, 365 * 86400_000]) {
    const step = step_for_range(range, 800, 1);
    assert.ok(range / 1000 / step <= 800, `range ${range}: step ${step}`);
  }
});

test("step labels", () => {
  assert.equal(step_label(5), "5 s");
  assert.equal(step_label(900), "15 min");
  assert.equal(step_label(3600), "1 h");
  assert.equal(step_label(86400), "1 d");
});

test("the CSV has a header and one row per point with ISO times", () => {
  const p = { t_ms: Date.UTC(2024, 4, 1, 10), count: 12, p_avg_w: 250.12345, p_min_w: 100, p_max_w: 400, vrms_avg: 230,
    vrms_min: 228, vrms_max: 232, irms_avg: 1.1, s_avg_va: 260, q_avg_var: 30, pf_avg: 0.96, freq_avg_hz: 50,
    energy_import_wh: 20.8, energy_export_wh: 0, e_import_wh: 1234.5, e_export_wh: 0, flags: 8 };
  const csv = history_csv("m,1", { from_ms: 0, to_ms: 1, step_s: 60, source: "1m", points: [p] });
  const lines = csv.trimEnd().split("\r\n");
  assert.equal(lines.length, 2);
  assert.match(lines[0], /^meter_id,time_utc,readings,p_avg_w,/);
  assert.equal(lines[1].split(",").length, lines[0].split(",").length + 1);  // the quoted id holds a comma
  assert.match(lines[1], /^"m,1",2024-05-01T10:00:00.000Z,12,250.123,/);
});
