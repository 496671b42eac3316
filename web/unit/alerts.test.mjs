// Alert adapter (server JSON -> Alert) and alert texts: evidence summary, notifications, open counts.
import assert from "node:assert/strict";
import { test } from "node:test";
import { normalize_alert } from "../src/api.ts";
import { alert_kind_label, deliveries_text, evidence_text, open_counts } from "../src/alerts/alert_text.ts";

test("an alert as the server sends it is read with its meter, times, state and deliveries", () => {
  const a = normalize_alert({
    id: 7, kind: "energy_balance", meter: "m-00003", transformer: "tx-1", area: "north", score: 0.82,
    evidence: { shortfall_wh: 1234.5 }, raised_ms: 1000, updated_ms: 2000, cleared_ms: 0, state: "acknowledged",
    deliveries: [{ notifier: "sms", recipient: "Asha", state: "delivered", attempts: 1, delivered_ms: 1500 }],
  });
  assert.equal(a.id, "7");
  assert.equal(a.meter_id, "m-00003");
  assert.equal(a.transformer_id, "tx-1");
  assert.equal(a.state, "acknowledged");
  assert.equal(a.score, 0.82);
  assert.equal(a.raised_ms, 1000);
  assert.equal(a.deliveries.length, 1);
  assert.equal(a.deliveries[0].recipient, "Asha");
  // Only the server's names are read: other spellings are not the contract.
  const b = normalize_alert({ id: "x", kind: "magnetic", meter_id: "m-1", opened_ms: 5, closed_ms: 9, message: "m", state: "weird" });
  assert.equal(b.meter_id, "");
  assert.equal(b.raised_ms, 0);
  assert.equal(b.cleared_ms, 0);
  assert.equal(b.evidence, null);
  assert.equal(b.state, "open");
  assert.equal(b.score, null);
  assert.deepEqual(b.deliveries, []);
});

test("evidence of any JSON shape becomes one bounded line", () => {
  assert.equal(evidence_text({ shortfall_wh: 1234.5678, share: 0.4 }), "shortfall wh: 1234.568, share: 0.4");
  assert.equal(evidence_text([{ a: 1 }, "b"]), "a: 1; b");
  assert.equal(evidence_text("plain"), "plain");
  assert.equal(evidence_text({ last_seen_ms: Date.UTC(2026, 10, 25, 2, 8, 1), reason: "status" }),
    "last seen: 2026-11-25 02:08:01 UTC, reason: status");
  assert.equal(evidence_text({ window_ms: 900000 }), "window ms: 900000");  // a duration, not a time
  assert.equal(evidence_text(null), "");
  // The energy-balance alert's suspects read as ranked meter ids, not JSON.
  assert.equal(evidence_text({ suspects: [{ meter: "M001-19", rank: 1, score: 0.7806, flagged: true },
    { meter: "M001-14", rank: 2, score: 0.76, flagged: false }] }), "suspects: M001-19 #1 flagged, M001-14 #2");
  assert.equal(evidence_text({ list: [{ a: 1 }] }), 'list: [{"a":1}]');
  const long = evidence_text({ text: "x".repeat(1000) });
  assert.equal(long.length, 240);
  assert.ok(long.endsWith("…"));
});

test("notifications and kind labels", () => {
  assert.equal(deliveries_text([
    { notifier: "sms", recipient: "Asha", state: "delivered", attempts: 1, delivered_ms: 1, last_error: "" },
    { notifier: "webhook", recipient: "", state: "undelivered", attempts: 3, delivered_ms: 0, last_error: "HTTP 500" },
  ]), "sms Asha: delivered; webhook: undelivered (3 tries): HTTP 500");
  assert.equal(deliveries_text([]), "");
  assert.equal(alert_kind_label("energy_balance"), "energy balance shortfall");
  assert.equal(alert_kind_label("new_kind_x"), "new kind x");
});

test("open counts leave out closed alerts and alerts without a meter", () => {
  const mk = (meter, state) => normalize_alert({ id: 1, kind: "magnetic", meter, state });
  const counts = open_counts([mk("m1", "open"), mk("m1", "acknowledged"), mk("m1", "closed"), mk("m2", "open"), mk("", "open")]);
  assert.equal(counts.get("m1"), 2);
  assert.equal(counts.get("m2"), 1);
  assert.equal(counts.size, 2);
});

test("a transformer row is read with its analysis flag, and members only from the detail's consumers", async () => {
  const { normalize_transformer, consumer_ids } = await import("../src/api.ts");
  const t = normalize_transformer({ id: "DT1", name: "Elm", area: "north", check_meter: "DT1-CHK", consumer_count: 2,
    analysis: { alert: true } });
  assert.deepEqual(t, { id: "DT1", name: "Elm", area: "north", check_meter: "DT1-CHK", consumers: [], balance_alert: true });
  assert.equal(normalize_transformer({ id: "DT2", analysis: null }).balance_alert, false);
  assert.deepEqual(consumer_ids({ consumers: ["m1", "m2"] }), ["m1", "m2"]);
  assert.deepEqual(consumer_ids({ meters: ["m3"] }), []);
  assert.deepEqual(consumer_ids({ consumer_count: 12 }), []);
});
