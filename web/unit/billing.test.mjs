// Billing display logic: money text grouped from the server's decimal text (never a float), bills parsed
// with their numbers as text, the slab position in words, the cycle chart's columns, and bill lines.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parse_keeping_numbers, quote_numbers } from "../src/json_text.ts";
import { amount_text, group_thousands, is_negative, kwh_amount, money_text, normalize_money, rate_text, trim_zeros, kwh_figure } from "../src/billing/money.ts";
import { slab_fill, slab_text } from "../src/billing/slab_text.ts";
import { cycle_series, kwh_scale_max } from "../src/billing/cycle_series.ts";
import { line_window, product_equals, slab_range_text } from "../src/billing/bill_lines.ts";
import { normalize_billing, normalize_bill, normalize_summary_row } from "../src/billing/billing_api.ts";
import { credit_state } from "../src/billing/prepaid_panel.ts";

test("money text groups thousands on the server's text and keeps every digit", () => {
  assert.equal(group_thousands("2210.44"), "2,210.44");
  assert.equal(group_thousands("221.04"), "221.04");
  assert.equal(group_thousands("1000"), "1,000");
  assert.equal(group_thousands("100"), "100");
  assert.equal(group_thousands("1234567.891"), "1,234,567.891");          // KWD: 3 digits
  assert.equal(group_thousands("-1234.50"), "-1,234.50");
  assert.equal(group_thousands("0.00"), "0.00");
  // Beyond a double's 15-16 digits: still exact, because it is never a number.
  assert.equal(group_thousands("92233720368547758.07"), "92,233,720,368,547,758.07");
  assert.equal(group_thousands("n/a"), "n/a");
  assert.equal(money_text({ minor: 221044, currency: "INR", text: "2210.44" }), "INR 2,210.44");
  assert.equal(money_text({ minor: -1250, currency: "INR", text: "-12.50" }), "INR -12.50");
  assert.equal(money_text({ minor: 1270, currency: "JPY", text: "1270" }), "JPY 1,270");
  assert.equal(money_text(null), "no data");
  assert.equal(amount_text("INR", "120.00"), "INR 120.00");
  assert.equal(rate_text("INR", "14.55"), "INR 14.55/kWh");
  assert.equal(is_negative({ minor: -1, currency: "INR", text: "-0.01" }), true);
  assert.equal(is_negative({ minor: 0, currency: "INR", text: "0.00" }), false);
});

test("a money object is read by its documented names; anything else is not money", () => {
  assert.deepEqual(normalize_money({ minor: 221044, currency: "INR", text: "2210.44" }), { minor: 221044, currency: "INR", text: "2210.44" });
  assert.equal(normalize_money(2210.44), null);
  assert.equal(normalize_money({ minor: 1 }), null);
  assert.equal(normalize_money(undefined), null);
});

test("kWh amounts drop trailing zeros and group thousands", () => {
  assert.equal(kwh_amount(100), "100");
  assert.equal(kwh_amount(227.75), "227.75");
  assert.equal(kwh_amount(127.75, 1), "127.8");
  assert.equal(kwh_amount(1500.5, 1), "1,500.5");
  assert.equal(kwh_amount(0.0001), "0");
  assert.equal(kwh_amount(NaN), "no data");
});

test("numbers in JSON are kept as their decimal text, strings untouched", () => {
  const text = '{"total":1270.40,"kwh":155.000,"neg":-12.50,"e":1e3,"s":"a 1.50 \\"q\\" 7","n":null,"t":true,"l":[0,100.000]}';
  assert.equal(quote_numbers('{"a":1.50}'), '{"a":"1.50"}');
  // A string ending in an escaped backslash ends there: the number after it is still a number.
  assert.deepEqual(parse_keeping_numbers('{"s":"x\\\\","n":1.50,"k":"2.0"}'), { s: "x\\", n: "1.50", k: "2.0" });
  assert.deepEqual(parse_keeping_numbers(text),
    { total: "1270.40", kwh: "155.000", neg: "-12.50", e: "1e3", s: 'a 1.50 "q" 7', n: null, t: true, l: ["0", "100.000"] });
  // An issued bill as the server embeds it.
  const bill = normalize_bill(parse_keeping_numbers('{"meter":"M1","tariff":"domestic","cycle":"2024-03","currency":"INR","kwh":155.000,' +
    '"energy_charge":975.21,"fixed_charge":120.00,"tax":175.23,"total":1270.40,"lines":[{"from_kwh":0.000,"to_kwh":100.000,' +
    '"kwh":100.000,"rate":4.71,"amount":471.00},{"from_kwh":500.000,"to_kwh":null,"kwh":1.500,"rate":16.64,"amount":24.96}]}'));
  assert.equal(bill.total, "1270.40");
  assert.equal(bill.fixed_charge, "120.00");
  assert.equal(bill.lines[0].amount, "471.00");
  assert.equal(bill.lines[1].to_kwh, null);
  assert.equal(amount_text(bill.currency, bill.total), "INR 1,270.40");
});

const kSlab2 = { index: 1, from_kwh: 100, to_kwh: 300, rate: "10.29", next_rate: "14.55" };

test("the slab position in words, counted from 1, with the next slab's bound and rate", () => {
  assert.equal(slab_text(227.75, kSlab2, "INR"),
    "in slab 2: 127.8 of 200 kWh of this slab at INR 10.29/kWh; next slab from 300 kWh at INR 14.55/kWh");
  assert.equal(slab_text(0, { index: 0, from_kwh: 0, to_kwh: 100, rate: "4.71", next_rate: "10.29" }, "INR"),
    "in slab 1: 0 of 100 kWh of this slab at INR 4.71/kWh; next slab from 100 kWh at INR 10.29/kWh");
  assert.equal(slab_text(523, { index: 3, from_kwh: 500, to_kwh: null, rate: "16.64", next_rate: null }, "INR"),
    "in slab 4, the last: 23 kWh above 500 kWh at INR 16.64/kWh");
  assert.equal(slab_text(42.25, { index: 0, from_kwh: 0, to_kwh: null, rate: "0.15", next_rate: null }, "EUR"),
    "one slab: 42.3 kWh at EUR 0.15/kWh");
  assert.equal(slab_fill(227.75, kSlab2), 0.63875);
  assert.equal(slab_fill(100, kSlab2), 0);
  assert.equal(slab_fill(523, { index: 3, from_kwh: 500, to_kwh: null, rate: "16.64", next_rate: null }), null);
});

const day = 86_400_000;
const t0 = Date.UTC(2026, 10, 30, 18, 30);   // 1 December 2026, 00:00 at +05:30

test("the cycle chart: used so far, then the projection from the last used point, with a band for a forecast", () => {
  const used = [{ t_ms: t0 + day, kwh: 10 }, { t_ms: t0 + 2 * day, kwh: 21 }, { t_ms: t0 + 2 * day + 3600_000, kwh: 22.5 }];
  const daily = [{ t_ms: t0 + 3 * day, p10: 30, p50: 32, p90: 35 }, { t_ms: t0 + 4 * day, p10: 40, p50: 44, p90: 50 }];
  const s = cycle_series(used, daily, true);
  assert.deepEqual(s.x, [...used, ...daily].map((p) => p.t_ms / 1000));
  assert.deepEqual(s.used, [10, 21, 22.5, null, null]);
  assert.deepEqual(s.p50, [null, null, 22.5, 32, 44]);
  assert.deepEqual(s.p10, [null, null, 22.5, 30, 40]);
  assert.deepEqual(s.p90, [null, null, 22.5, 35, 50]);
  assert.equal(s.banded, true);
  assert.equal(s.max_kwh, 50);
});

test("a 7-day average has no band; without a projection only the used line is drawn", () => {
  const used = [{ t_ms: t0 + day, kwh: 10 }, { t_ms: t0 + day + 60_000, kwh: 10.5 }];
  const mean = cycle_series(used, [{ t_ms: t0 + 2 * day, p10: null, p50: 20, p90: null }], false);
  assert.equal(mean.banded, false);
  assert.deepEqual(mean.p50, [null, 10.5, 20]);
  assert.deepEqual(mean.p10, [null, null, null]);
  assert.deepEqual(mean.p90, [null, null, null]);
  // The server says "forecast" but a point lacks its interval: no half-drawn band.
  assert.equal(cycle_series(used, [{ t_ms: t0 + 2 * day, p10: null, p50: 20, p90: 25 }], true).banded, false);
  const none = cycle_series(used, null, false);
  assert.deepEqual(none.used, [10, 10.5]);
  assert.deepEqual(none.p50, [null, null]);
  assert.equal(none.max_kwh, 10.5);
  // Projected points at or before "now" are not drawn twice.
  assert.equal(cycle_series(used, [{ t_ms: t0 + day, p10: null, p50: 9, p90: null }], false).x.length, 2);
});

test("the kWh scale reaches up to a near slab bound, not to a far one", () => {
  assert.equal(kwh_scale_max(80, [100, 300, 500]), 100 * 1.08);
  assert.equal(kwh_scale_max(70, [100, 300, 500]), 100 * 1.08);
  assert.equal(kwh_scale_max(50, [100, 300, 500]), 50 * 1.08);
  assert.equal(kwh_scale_max(20, [100, 300, 500]), 20 * 1.08);
  assert.equal(kwh_scale_max(600, [100, 300, 500]), 600 * 1.08);
  assert.equal(kwh_scale_max(0, [100]), 1);   // a cycle without use still has a scale
});

const kTariff = {
  id: "domestic", version: "domestic", currency: "INR", cycle: "monthly", time_zone: "+05:30", slab_mode: "telescopic",
  slabs: [{ upto_kwh: 100, rate: "4.71" }, { upto_kwh: 300, rate: "10.29" }, { upto_kwh: 500, rate: "14.55" }, { upto_kwh: null, rate: "16.64" }],
  fixed_charge: null, tax_percent: "16", tod: [{ window: "22:00-06:00", factor: "0.8" }],
};

test("bill lines: slab range, and the time-of-day window found by exact decimal arithmetic", () => {
  assert.equal(product_equals("10.29", "0.8", "8.232"), true);
  assert.equal(product_equals("10.29", "0.8", "8.2320"), true);
  assert.equal(product_equals("10.29", "0.8", "8.233"), false);
  assert.equal(product_equals("4.71", "1", "4.71"), true);
  const line = (from_kwh, to_kwh, rate) => ({ from_kwh, to_kwh, kwh: "1.000", rate, amount: "1.00" });
  assert.equal(slab_range_text(line("100.000", "300.000", "10.29")), "100 – 300 kWh");
  assert.equal(slab_range_text(line("1000.500", "2000.000", "10.29")), "1,000.5 – 2,000 kWh");
  assert.equal(slab_range_text(line("500.000", null, "16.64")), "above 500 kWh");
  assert.equal(line_window(line("100.000", "300.000", "10.29"), kTariff), "");
  assert.equal(line_window(line("100.000", "300.000", "8.232"), kTariff), "22:00-06:00 ×0.8");
  assert.equal(line_window(line("0.000", "100.000", "3.768"), kTariff), "22:00-06:00 ×0.8");
  assert.equal(line_window(line("500.000", null, "13.312"), kTariff), "22:00-06:00 ×0.8");
  assert.equal(line_window(line("100.000", "300.000", "8.232"), null), "");
});

test("the billing answer is read by the names the server writes", () => {
  const money = (text, minor) => ({ minor, currency: "INR", text });
  const b = normalize_billing({
    meter: "M1", tariff: { ...kTariff, fixed_charge: money("120.00", 12000) },
    cycle: { label: "2026-12", start_ms: t0, end_ms: t0 + 31 * day }, kwh: 227.75,
    energy_charge: money("1842.03", 184203), fixed_charge: money("120.00", 12000), tax: money("313.92", 31392),
    total: money("2275.95", 227595), covered_to_ms: t0 + 5 * day,
    slab: kSlab2, used: [{ t_ms: t0 + day, kwh: 50 }],
    projection: { method: "recent_mean", cycle_end_kwh: { p10: null, p50: 400, p90: null },
      cycle_end_total: { p10: null, p50: money("5000.00", 500000), p90: null }, daily: [{ t_ms: t0 + 2 * day, p10: null, p50: 60, p90: null }] },
    settings: { tariff: null, prepaid: true, protected: false, budget_kwh: "250", budget_money: null, phone: "", webhook_url: "", opt_out: ["budget"] },
    prepaid: { balance: money("-12.50", -1250), low_credit: money("100.00", 10000), emergency_credit: money("200.00", 20000),
      disconnected: false, disconnected_ms: null },
  });
  assert.equal(b.total.text, "2275.95");
  assert.equal(b.slab.to_kwh, 300);
  assert.equal(b.projection.method, "recent_mean");
  assert.equal(b.projection.cycle_end_kwh.p10, null);
  assert.equal(b.projection.cycle_end_total.p50.text, "5000.00");
  assert.equal(b.tariff.slabs[3].upto_kwh, null);
  assert.deepEqual(b.settings.opt_out, ["budget"]);
  assert.equal(b.settings.budget_kwh, "250");
  assert.equal(b.prepaid.balance.minor, -1250);
  assert.equal(credit_state(b.prepaid), "emergency");
  assert.equal(credit_state({ ...b.prepaid, disconnected: true }), "disconnected");
  assert.equal(credit_state({ ...b.prepaid, balance: money("99.00", 9900) }), "low");
  assert.equal(credit_state({ ...b.prepaid, balance: money("100.01", 10001) }), "ok");
  assert.equal(normalize_billing({ ...b, prepaid: null, projection: null }).prepaid, null);
  // A summary row of an area without any billed meter has no money members.
  const row = normalize_summary_row({ area: "grid-demo", meters: 3, billed: 0, kwh: 0, prepaid: 0, disconnected: 0, in_debt: 0 });
  assert.equal(row.running_total, null);
  assert.equal(row.prepaid_balance, null);
});

test("decimal texts lose their trailing zeros only after the point", () => {
  assert.equal(trim_zeros("16.0"), "16");
  assert.equal(trim_zeros("100.000"), "100");
  assert.equal(trim_zeros("0.80"), "0.8");
  assert.equal(trim_zeros("100"), "100");
  assert.equal(trim_zeros("1000.500"), "1000.5");
});

test("kWh figures keep the digits that matter at their size", () => {
  assert.equal(kwh_figure(0.000515), "0.001");
  assert.equal(kwh_figure(0), "0.000");
  assert.equal(kwh_figure(227.75), "227.75");
  assert.equal(kwh_figure(1527.75), "1,527.8");
});
