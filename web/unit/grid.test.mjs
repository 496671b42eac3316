// The grid pages' data: the analysis JSON normalised (old and new servers), the daily balance from
// stored readings, and a suspect's last week against its usual week.
import assert from "node:assert/strict";
import { test } from "node:test";
import { normalize_analysis, normalize_episode } from "../src/grid/grid_api.ts";
import { daily_balance } from "../src/grid/daily_balance.ts";
import { change_text, usual_week } from "../src/grid/usual_week.ts";
import { balance_state, balance_text } from "../src/grid/balance_text.ts";
import { sort_for_attention } from "../src/pages/grid_page.ts";

const point = (t_ms, import_wh, over = {}) => ({ t_ms, count: 1, energy_import_wh: import_wh, energy_export_wh: 0, ...over });

test("an analysis without episodes or reasons reads as none; nulls stay nulls", () => {
  const a = normalize_analysis({
    analysed_to_ms: 5, calibrated: true, alert: false, alert_since_ms: null, unexplained_kwh: 1.5, check_kwh: 100, loss_share: 0.015,
    series: [{ end_ms: 900000, check_present: false, check_kwh: null, consumers_kwh: 2, evaluated: false, unexplained_kwh: null }],
    suspects: [{ meter: "m1", rank: 1, score: 0.9, flagged: true, evidence: ["uses less", 3] }],
  });
  assert.equal(a.episodes, null);
  assert.equal(a.series[0].check_kwh, null);
  assert.equal(a.series[0].unexplained_kwh, null);
  assert.equal(a.suspects[0].reason, "");
  assert.deepEqual(a.suspects[0].evidence, ["uses less"]);
  assert.equal(normalize_analysis(null), null);
  // The list's top_suspects stand in for suspects.
  assert.equal(normalize_analysis({ top_suspects: [{ meter: "m9" }] }).suspects[0].meter, "m9");
});

test("episodes: open while they have no end", () => {
  assert.equal(normalize_episode({ start_ms: 1, end_ms: null }).open, true);
  assert.equal(normalize_episode({ start_ms: 1, end_ms: 2, energy_kwh: 41.2 }).open, false);
  assert.equal(normalize_analysis({ episodes: [{ start_ms: 3, end_ms: 4, open: false }] }).episodes.length, 1);
});

test("the daily balance nets export, counts reporting consumers and leaves days without a check reading open", () => {
  const day = 86400_000;
  const check = [point(0, 30_000), point(day, 0, { count: 0 })];
  const consumers = [
    [point(0, 20_000), point(day, 5_000)],
    [point(0, 8_000, { energy_export_wh: 3_000 }), point(day, 0, { count: 0 })],
  ];
  const d = daily_balance(check, consumers);
  assert.equal(d.length, 2);
  assert.equal(d[0].check_kwh, 30);
  assert.equal(d[0].consumers_kwh, 25);
  assert.equal(d[0].consumers_reporting, 2);
  assert.equal(d[0].difference_kwh, 5);
  assert.equal(d[1].check_kwh, null);
  assert.equal(d[1].consumers_reporting, 1);
  assert.equal(d[1].difference_kwh, null);
});

test("the usual week is the median of the same hour in earlier weeks; a halved use reads as 50 % less", () => {
  const hour = 3600_000, week = 7 * 24 * hour;
  const end = 4 * week;
  const points = [];
  for (let t = 0; t < end; t += hour) {
    const earlier = t < 3 * week;
    // Three usual weeks at 1.0, 1.2 and 0.8 kWh an hour (median 1.0); the last one at 0.5.
    const usual = [1000, 1200, 800][Math.floor(t / week)] ?? 0;
    points.push(point(t, earlier ? usual : 500));
  }
  const u = usual_week(points, end);
  assert.equal(u.t_ms.length, 7 * 24);
  assert.equal(u.t_ms[0], 3 * week);
  assert.equal(u.usual_kwh[0], 1);
  assert.equal(u.recent_kwh[0], 0.5);
  assert.ok(Math.abs(u.change + 0.5) < 1e-9, String(u.change));
  assert.equal(change_text(u.change), "50 % less than in its usual week");
  assert.equal(change_text(0.04), "about as much as in its usual week");
  assert.equal(change_text(null), "not enough history for a usual week");
  // No earlier weeks: no usual week and no change.
  const fresh = usual_week(points.filter((p) => p.t_ms >= 3 * week), end);
  assert.equal(fresh.change, null);
  assert.equal(fresh.usual_kwh.every((v) => v === null), true);
});

test("a transformer's balance in words: an alarm with its numbers, a silent check meter is not clean", () => {
  const base = { calibrated: true, alert: false, alert_since_ms: null, unexplained_kwh: 41.2, check_kwh: 1000, loss_share: 0.0412,
    alerts_raised: 0, evidence: [], series: [], suspects: [], episodes: null, analysed_to_ms: 1 };
  assert.equal(balance_state(null), "none");
  assert.equal(balance_state({ ...base, calibrated: false }), "calibrating");
  assert.equal(balance_state({ ...base, series: [{ evaluated: false }] }), "not_evaluable");
  assert.equal(balance_state({ ...base, series: [{ evaluated: true }] }), "balanced");
  assert.equal(balance_state({ ...base, alert: true, series: [{ evaluated: false }] }), "alarm");
  const text = balance_text({ ...base, alert: true });
  assert.match(text, /^Energy balance alarm: 41\.2 kWh \(4\.1 %/);
  assert.doesNotMatch(text, /CUSUM|threshold/);
  assert.match(balance_text({ ...base, series: [{ evaluated: false }] }), /not clean/);
  // The server's state wins over what the intervals suggest.
  assert.equal(balance_state({ ...base, state: "not_evaluable", series: [{ evaluated: true }] }), "not_evaluable");
  assert.equal(balance_state({ ...base, state: "clean", series: [{ evaluated: false }] }), "balanced");
  assert.equal(balance_state({ ...base, state: "alert" }), "alarm");
});

test("the grid list puts alarms first, then unevaluable balances, then the biggest losses", () => {
  const a = (alert, share, evaluated = true) => ({ calibrated: true, alert, loss_share: share, series: [{ evaluated }], suspects: [] });
  const rows = [
    { id: "T1", analysis: a(false, 0.01) }, { id: "T2", analysis: null }, { id: "T3", analysis: a(true, 0.02) },
    { id: "T4", analysis: a(false, 0.03) }, { id: "T5", analysis: a(false, 0, false) },
  ];
  assert.deepEqual(sort_for_attention(rows).map((r) => r.id), ["T3", "T5", "T4", "T1", "T2"]);
});
