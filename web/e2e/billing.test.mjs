// End-to-end tests of the billing pages in Debian's chromium against the real server (`wattguard demo`,
// started by the harness): the demo bills every meter with its "domestic" tariff (INR, telescopic, ToD
// 22:00-06:00 x0.8) and makes its last live meter prepaid with an INR 1000.00 opening top-up. Figures on
// the pages are compared with the answers the pages themselves received from the server (the running
// bill moves with every reading, so a second request would not be the same bill). Screenshots go to
// test-artifacts/web/.

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { System, ensure_artifacts_dir, launch_browser, sign_in } from "./harness.mjs";

const system = new System();
// Billing needs few meters; a small fleet keeps the (ASan) demo light on a shared machine.
if (!process.env.E2E_METERS) system.meter_count = 6;
let browser;
let operator_context;
let page;               // the operator's page
let prepaid_meter = "";

// The expected display of a money text, grouped independently of the UI's code (BigInt, en-US locale).
function inr(text) {
  const m = /^(-?)(\d+)(\.\d+)?$/.exec(text);
  assert.ok(m, `a money text: ${text}`);
  return `INR ${m[1]}${BigInt(m[2]).toLocaleString("en-US")}${m[3] ?? ""}`;
}

const grouped = (text) => inr(text).slice(4);
const meter_path = (id) => `/api/v1/meters/${encodeURIComponent(id)}`;
const is_get = (path) => (r) => r.request().method() === "GET" && new URL(r.url()).pathname === path;

async function signed_in_page(name, password, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport });
  const p = await context.newPage();
  p.on("pageerror", (err) => console.error(`page error (${name}): ${err.message}`));
  await sign_in(p, system.url, name, password);
  await p.waitForSelector(".vlist .frow", { timeout: 40_000 });
  return { context, page: p };
}

// Opens a meter page and resolves with the billing answer the page received.
async function open_meter_billing(p, id) {
  const answer = p.waitForResponse(is_get(`${meter_path(id)}/billing`), { timeout: 30_000 });
  await p.goto(`${system.url}/#/meter/${encodeURIComponent(id)}`);
  const response = await answer;
  assert.equal(response.status(), 200, `GET billing of ${id} answered ${response.status()}`);
  const json = await response.json();
  await p.waitForSelector(".cycle-card .cycle-total[data-minor]", { timeout: 15_000 });
  return json;
}

const text_of = (p, selector) => p.$eval(selector, (el) => el.textContent);

describe("wattguard billing pages", () => {
  before(async () => {
    ensure_artifacts_dir();
    await system.start();
    browser = await launch_browser();
    ({ context: operator_context, page } = await signed_in_page(system.operator.name, system.operator.password));
    // The demo's prepaid meter: the last live one.
    for (const id of system.live_meters) {
      const r = await system.api("GET", `${meter_path(id)}/billing`);
      assert.equal(r.status, 200, `GET billing of ${id}: ${r.status} ${r.text}`);
      if (r.json.prepaid) prepaid_meter = id;
    }
  });

  after(async () => {
    try {
      await browser?.close();
    } finally {
      await system.stop();
    }
  });

  test("the demo bills its meters and makes the last live meter prepaid", async () => {
    assert.equal(prepaid_meter, system.live_meters[system.live_meters.length - 1]);
    const tariffs = await system.api("GET", "/api/v1/tariffs");
    assert.equal(tariffs.status, 200);
    assert.deepEqual(tariffs.json.tariffs.map((t) => [t.id, t.currency, t.slab_mode]), [["domestic", "INR", "telescopic"]]);
  });

  test("this cycle: the meter page shows the running bill the API computed", async () => {
    const api = await open_meter_billing(page, system.consumer.meter);
    assert.equal(api.tariff.id, "domestic");
    assert.equal(api.total.currency, "INR");
    assert.equal(api.fixed_charge.text, "120.00");
    assert.equal(api.total.minor, api.energy_charge.minor + api.fixed_charge.minor + api.tax.minor);
    await page.waitForFunction((t) => document.querySelector(".cycle-total")?.textContent === t, inr(api.total.text), { timeout: 10_000 })
      .catch(async () => assert.fail(`shown "${await text_of(page, ".cycle-total")}", the API's total is ${api.total.text}`));
    assert.equal(await page.getAttribute(".cycle-total", "data-minor"), String(api.total.minor));
    assert.equal(await text_of(page, ".cycle-fixed"), "INR 120.00");
    assert.equal(await text_of(page, ".cycle-energy"), inr(api.energy_charge.text));
    assert.equal(await text_of(page, ".cycle-tax"), inr(api.tax.text));
    const slab = await text_of(page, ".slab-text");
    assert.ok(slab.startsWith(`In slab ${api.slab.index + 1}`), slab);
    if (api.slab.next_rate) assert.ok(slab.includes(`at INR ${api.slab.next_rate}/kWh`), slab);
    assert.match(await text_of(page, ".cycle-tariff"), /^Tariff domestic \(telescopic, monthly, INR, UTC\+05:30, tax 16 %\) · time-of-day 22:00-06:00 ×0\.8$/);
    const projection = await text_of(page, ".cycle-projection");
    if (api.projection === null) assert.match(projection, /^No projection yet/);
    else if (api.projection.method === "recent_mean") assert.match(projection, /projection: your average of the last 7 days/);
    else assert.match(projection, /likely /);
    assert.equal(await page.$(".meter-billing .error"), null);
  });

  test("the cycle chart draws the use so far", async () => {
    await page.waitForSelector(".cycle-chart canvas", { timeout: 10_000 });
    await page.waitForFunction(() => Number(document.querySelector(".cycle-chart")?.dataset.drawn ?? 0) > 0, null, { timeout: 10_000 });
    const painted = await page.evaluate(() => {
      const canvas = document.querySelector(".cycle-chart canvas");
      const ctx = canvas.getContext("2d");
      const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
      const probe = document.createElement("span");
      probe.style.color = getComputedStyle(document.documentElement).getPropertyValue("--accent");
      document.body.appendChild(probe);
      const [r, g, b] = getComputedStyle(probe).color.match(/\d+/g).map(Number);
      probe.remove();
      let n = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] > 128 && Math.abs(data[i] - r) < 40 && Math.abs(data[i + 1] - g) < 40 && Math.abs(data[i + 2] - b) < 40) n++;
      }
      return { n, width: canvas.width, height: canvas.height };
    });
    assert.ok(painted.width > 100 && painted.height > 100, `canvas ${painted.width}x${painted.height}`);
    assert.ok(painted.n > 20, `the use line painted ${painted.n} pixels`);
    await page.screenshot({ path: join(ensure_artifacts_dir(), "meter-billing.png"), fullPage: true });
  });

  test("the bill page shows every line and the API's total; Print and its print CSS; the CSV link", async () => {
    const cycle = await page.getAttribute(".running-bill", "data-cycle");
    assert.match(cycle ?? "", /^\d{4}-\d{2}$/);
    const path = `${meter_path(system.consumer.meter)}/bills/${cycle}`;
    const answer = page.waitForResponse(is_get(path), { timeout: 30_000 });
    await page.click(".running-bill-link");
    const raw = await (await answer).text();
    await page.waitForSelector(".bill .bill-total", { timeout: 15_000 });
    assert.equal(new URL(page.url()).hash, `#/bill/${system.consumer.meter}/${cycle}`);
    const doc = JSON.parse(raw);
    assert.equal(doc.issued, false);
    assert.equal(await text_of(page, ".bill-state"), "Running bill (cycle not closed)");
    // Money exactly as the server wrote it (JSON numbers with the currency's digits, e.g. 120.00).
    const amounts = [...raw.matchAll(/"amount":(-?\d+(?:\.\d+)?)/g)].map((m) => inr(m[1]));
    const total = /"total":(-?\d+(?:\.\d+)?)/.exec(raw)[1];
    assert.equal(amounts.length, doc.bill.lines.length);
    assert.ok(doc.bill.lines.length > 0, "a running meter has used energy this cycle");
    assert.deepEqual(await page.$$eval(".bill-line .line-amount", (els) => els.map((e) => e.textContent)), amounts);
    assert.equal(await page.$eval(".bill-total td:last-child", (el) => el.textContent), inr(total));
    assert.equal(await page.$eval(".bill-fixed td:last-child", (el) => el.textContent), "INR 120.00");
    assert.equal(await text_of(page, ".bill-line td:first-child"), `0 – 100 kWh`);
    // Print: the button is there; the print style sheet leaves the bill alone on the page.
    assert.ok(await page.$(".bill-actions button:has-text('Print')"));
    await page.emulateMedia({ media: "print" });
    const printed = await page.evaluate(() => ["header.top", ".bill-actions", ".crumbs", ".bill-lines"].map((s) => getComputedStyle(document.querySelector(s)).display));
    await page.screenshot({ path: join(ensure_artifacts_dir(), "bill-print.png"), fullPage: true });
    await page.emulateMedia({ media: null });
    assert.deepEqual(printed.slice(0, 3), ["none", "none", "none"]);
    assert.notEqual(printed[3], "none");
    // The CSV link: the server's CSV of the same bill.
    const href = await page.getAttribute(".csv-link", "href");
    assert.equal(href, `${path}?format=csv`);
    const csv = await page.evaluate(async (url) => {
      const r = await fetch(url);
      return { status: r.status, type: r.headers.get("content-type"), text: await r.text() };
    }, href);
    assert.equal(csv.status, 200);
    assert.match(csv.type ?? "", /^text\/csv/);
    const rows = csv.text.trimEnd().split("\r\n");
    assert.equal(rows[0], "meter,cycle,tariff,currency,item,from_kwh,to_kwh,kwh,rate,amount");
    assert.match(rows[rows.length - 1], new RegExp(`^${system.consumer.meter},${cycle},domestic,INR,total,`));
  });

  test("an issued bill: the meter's bill history lists it, and its page says issued and shows each time-of-day line", async (t) => {
    // The demo's grid meters come with weeks of imported history: a closed month has an issued bill.
    let meter = "";
    for (const id of system.meters.filter((m) => !system.live_meters.includes(m)).slice(0, 5)) {
      const r = await system.api("GET", `${meter_path(id)}/bills`);
      if (r.status === 200 && r.json.bills.length > 0) { meter = id; break; }
    }
    if (!meter) return t.skip("no meter has an issued bill yet (the demo's imported history lies within this month)");
    const answer = page.waitForResponse(is_get(`${meter_path(meter)}/bills`), { timeout: 30_000 });
    await open_meter_billing(page, meter);
    const raw = await (await answer).text();
    const list = JSON.parse(raw).bills;
    // The first bill's figures as the server wrote them (numbers with their digits).
    const first = list[0];
    const kwh = /"kwh":(\d+(?:\.\d+)?)/.exec(raw)[1];
    const total = /"total":(\d+(?:\.\d+)?)/.exec(raw)[1];
    const row = await page.waitForSelector(`table.bills tr[data-cycle="${first.cycle}"]`, { timeout: 15_000 });
    const cells = await row.$$eval("td", (els) => els.map((e) => e.textContent));
    assert.deepEqual(cells.slice(0, 4), [first.cycle, grouped(kwh), inr(total), first.tariff_version]);
    assert.equal(await page.$$eval("table.bills tbody tr", (rows) => rows.length), list.length);
    await page.screenshot({ path: join(ensure_artifacts_dir(), "meter-billing-grid.png"), fullPage: true });
    const bill_answer = page.waitForResponse(is_get(`${meter_path(meter)}/bills/${first.cycle}`), { timeout: 30_000 });
    await row.$eval("a", (a) => a.click());
    const bill_raw = await (await bill_answer).text();
    await page.waitForSelector('.bill[data-issued="true"] .bill-total', { timeout: 15_000 });
    assert.equal(await text_of(page, ".bill-state"), "Issued");
    assert.equal(await page.$eval(".bill-total td:last-child", (el) => el.textContent), inr(/"total":(\d+(?:\.\d+)?)/.exec(bill_raw)[1]));
    // Each line: the demo tariff's slab rates are day lines; any other rate is the night window's (x0.8).
    const rates = [...bill_raw.matchAll(/"rate":(\d+(?:\.\d+)?)/g)].map((m) => m[1]);
    const shown = await page.$$eval(".bill-line", (rows) => rows.map((r) => [r.cells[1].textContent, r.cells[3].textContent]));
    assert.deepEqual(shown, rates.map((r) => [["4.71", "10.29", "14.55", "16.64"].includes(r) ? "—" : "22:00-06:00 ×0.8", `INR ${r}/kWh`]));
    await page.screenshot({ path: join(ensure_artifacts_dir(), "bill-issued.png"), fullPage: true });
  });

  test("a consumer sets a budget and sees it saved; a bad value shows the server's message at its field", async () => {
    const { context, page: p } = await signed_in_page(system.consumer.name, system.consumer.password, { width: 390, height: 844 });
    const meter = system.consumer.meter;
    try {
      await open_meter_billing(p, meter);
      await p.waitForSelector(".budget-form button[type=submit]");
      await p.fill("#billing-budget_kwh", "250");
      await p.fill("#billing-budget_money", "");
      await p.uncheck("#notice-bill_ready");
      await p.click(".budget-form button[type=submit]");
      await p.waitForSelector(".budget-status[data-kind=ok]", { timeout: 15_000 });
      const saved = await p.evaluate(async (path) => (await (await fetch(`${path}/billing`)).json()).settings, meter_path(meter));
      assert.equal(saved.budget_kwh, "250");
      assert.equal(saved.budget_money, null);
      assert.deepEqual(saved.opt_out, ["bill_ready"]);
      // A money budget with more decimals than INR has: the server refuses it, naming budget_money.
      await p.fill("#billing-budget_money", "12.345");
      await p.click(".budget-form button[type=submit]");
      await p.waitForFunction(() => (document.querySelector('.field-error[data-field="budget_money"]')?.textContent ?? "") !== "",
        null, { timeout: 15_000 });
      const shown = await text_of(p, '.field-error[data-field="budget_money"]');
      const server = await system.api("PUT", `${meter_path(meter)}/billing`, { budget_money: "12.345" });
      assert.equal(server.status, 400);
      assert.equal(server.json.error.field, "budget_money");
      assert.equal(shown, server.json.error.message);
      assert.equal(await p.getAttribute("#billing-budget_money", "aria-invalid"), "true");
      assert.equal(await text_of(p, '.field-error[data-field="budget_kwh"]'), "");
      assert.equal(await p.getAttribute(".budget-status", "data-kind"), "error");
      const after_refusal = await p.evaluate(async (path) => (await (await fetch(`${path}/billing`)).json()).settings, meter_path(meter));
      assert.equal(after_refusal.budget_money, null, "a refused change saves nothing");
      assert.equal(after_refusal.budget_kwh, "250");
      await p.screenshot({ path: join(ensure_artifacts_dir(), "meter-budget-consumer-phone.png"), fullPage: true });
      // Consumers have no billing summary.
      assert.equal(await p.$eval('a[href="#/billing"]', (a) => a.hidden), true);
    } finally {
      await context.close();
      const reset = await system.api("PUT", `${meter_path(meter)}/billing`, { budget_kwh: null, budget_money: null, opt_out: [] });
      assert.equal(reset.status, 200, `reset: ${reset.text}`);
    }
  });

  test("an operator tops up the prepaid meter; the balance and the ledger follow", async () => {
    const api = await open_meter_billing(page, prepaid_meter);
    assert.ok(api.prepaid, "the billing answer has prepaid");
    await page.waitForSelector(".prepaid-card .prepaid-balance[data-minor]");
    await page.waitForSelector(".topup-form");
    const before_minor = Number(await page.getAttribute(".prepaid-balance", "data-minor"));
    const reference = `e2e receipt ${Date.now().toString(36)}`;
    await page.fill("#topup-amount", "250.00");
    await page.fill("#topup-reference", reference);
    const posted = page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname === `${meter_path(prepaid_meter)}/topups`);
    const ledger_after = page.waitForResponse((r) => is_get(`${meter_path(prepaid_meter)}/ledger`)(r), { timeout: 30_000 });
    await page.click(".topup-form button[type=submit]");
    const post = await posted;
    assert.equal(post.status(), 201);
    const done = await post.json();
    assert.equal(done.entry.kind, "topup");
    assert.equal(done.entry.amount.text, "250.00");
    assert.equal(done.entry.reference, reference);
    assert.equal(done.entry.actor, system.operator.name);
    // The top-up is in the ledger the page shows, with its amount.
    await page.waitForFunction((ref) => [...document.querySelectorAll(".ledger tbody tr")]
      .some((tr) => tr.querySelector(".ledger-reference")?.textContent === ref), reference, { timeout: 15_000 });
    const row = await page.$$eval(".ledger tbody tr", (rows, ref) => {
      const tr = rows.find((r) => r.querySelector(".ledger-reference")?.textContent === ref);
      return [...tr.cells].map((c) => c.textContent);
    }, reference);
    assert.equal(row[1], "topup");
    assert.equal(row[2], "INR 250.00");
    // The balance shown is the server's latest: the ledger answer after the top-up.
    const ledger = await (await ledger_after).json();
    assert.ok(ledger.entries.some((e) => e.reference === reference && e.amount.minor === 25000));
    await page.waitForFunction((t) => document.querySelector(".prepaid-balance")?.textContent === t, inr(ledger.balance.text), { timeout: 10_000 })
      .catch(async () => assert.fail(`balance shown "${await text_of(page, ".prepaid-balance")}", the ledger says ${ledger.balance.text}`));
    // Up by the top-up, less at most a few charges for the energy used meanwhile.
    const delta = ledger.balance.minor - before_minor;
    assert.ok(delta <= 25000 && delta > 25000 - 500, `balance went from ${before_minor} to ${ledger.balance.minor} minor units`);
    assert.equal(await page.getAttribute(".prepaid-balance", "data-negative"), ledger.balance.minor < 0 ? "true" : "false");
    assert.match(await text_of(page, ".topup-message"), /^Recorded a top-up of INR 250\.00; the balance is INR /);
    await page.screenshot({ path: join(ensure_artifacts_dir(), "meter-prepaid-operator.png"), fullPage: true });
  });

  test("a consumer sees their prepaid balance but no top-up form", async () => {
    const owner = { name: "e2e-prepaid-owner", password: "prepaid-password-1" };
    await system.add_user(owner.name, "consumer", owner.password, [prepaid_meter]);
    const { context, page: p } = await signed_in_page(owner.name, owner.password);
    try {
      const api = await open_meter_billing(p, prepaid_meter);
      await p.waitForFunction((t) => document.querySelector(".prepaid-balance")?.textContent !== "", null, { timeout: 10_000 });
      assert.ok(api.prepaid);
      await p.waitForSelector(".ledger tbody tr", { timeout: 15_000 });
      assert.equal(await p.$(".topup-form"), null);
      assert.equal(await p.$("#topup-amount"), null);
      assert.equal(await p.$(".account-card"), null);
      assert.ok(await p.$(".budget-form button[type=submit]"), "the owner edits their budget");
      const refused = await p.evaluate(async (path) => (await fetch(`${path}/topups`, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ amount: "1.00", reference: "self" }),
      })).status, meter_path(prepaid_meter));
      assert.equal(refused, 403);
    } finally {
      await context.close();
      await system.api("DELETE", `/api/v1/users/${owner.name}`);
    }
  });

  test("an admin sees the tariffs and switches a meter to prepaid and protected; only the changes are sent", async () => {
    const admin = { name: "e2e-admin", password: "admin-password-1" };
    await system.add_user(admin.name, "admin", admin.password, []);
    const meter = system.live_meters[1];
    const { context, page: p } = await signed_in_page(admin.name, admin.password);
    try {
      const api = await open_meter_billing(p, meter);
      assert.equal(api.prepaid, null);
      await p.waitForSelector('#account-tariff option[value="domestic"]', { state: "attached", timeout: 15_000 });
      assert.deepEqual(await p.$$eval("#account-tariff option", (os) => os.map((o) => o.value)), ["", "domestic"]);
      assert.equal(await p.$eval(".prepaid-card", (el) => el.hidden), true);
      assert.equal(await p.$eval("#account-prepaid", (el) => el.checked), false);
      await p.check("#account-prepaid");
      await p.check("#account-protected");
      const put = p.waitForRequest((r) => r.method() === "PUT" && new URL(r.url()).pathname === `${meter_path(meter)}/billing`);
      await p.click(".account-form button[type=submit]");
      assert.deepEqual(JSON.parse((await put).postData()), { prepaid: true, protected: true });
      await p.waitForSelector(".account-message[data-kind=ok]", { timeout: 15_000 });
      const saved = await system.api("GET", `${meter_path(meter)}/billing`);
      assert.deepEqual([saved.json.settings.prepaid, saved.json.settings.protected, saved.json.settings.tariff], [true, true, null]);
      // The meter is prepaid now: its credit card appears, with the server's balance.
      await p.waitForSelector(".prepaid-card:not([hidden]) .prepaid-balance[data-minor]", { timeout: 15_000 });
      const balance = await p.$eval(".prepaid-balance", (el) => ({ text: el.textContent, negative: el.dataset.negative }));
      assert.match(balance.text, /^INR -?\d{1,3}(,\d{3})*\.\d{2}$/);
      assert.equal(balance.negative, balance.text.startsWith("INR -") ? "true" : "false");
      assert.equal(await p.$(".topup-form") !== null, true, "admins record top-ups");
      await p.screenshot({ path: join(ensure_artifacts_dir(), "meter-account-admin.png"), fullPage: true });
    } finally {
      await context.close();
      const reset = await system.api("PUT", `${meter_path(meter)}/billing`, { prepaid: false, protected: false });
      assert.equal(reset.status, 200, `reset: ${reset.text}`);
      await system.api("DELETE", `/api/v1/users/${admin.name}`);
    }
  });

  test("a server without tariffs shows no billing and no error; a meter without a tariff, one line", async () => {
    // The demo always has a tariff: the two documented 404 answers are played to a fresh page instead.
    const path = `${meter_path(system.consumer.meter)}/billing`;
    for (const [code, message, note_shown] of [
      ["billing_not_configured", "no tariff is configured", false],
      ["not_found", `meter ${system.consumer.meter} has no tariff: set one for it, its area (demo) or billing.default_tariff`, true],
    ]) {
      const p = await operator_context.newPage();
      try {
        await p.route((url) => url.pathname === path, (route) => (route.request().method() === "GET"
          ? route.fulfill({ status: 404, contentType: "application/json", body: JSON.stringify({ error: { code, field: "", message } }) })
          : route.continue()));
        const answered = p.waitForResponse(is_get(path));
        await p.goto(`${system.url}/#/meter/${encodeURIComponent(system.consumer.meter)}`);
        await answered;
        await p.waitForSelector(`.meter-billing[data-state="${code}"]`, { state: "attached", timeout: 10_000 });
        const note = await p.$eval(".billing-note", (el) => ({ hidden: el.hidden, text: el.textContent }));
        assert.equal(note.hidden, !note_shown, `${code}: note ${JSON.stringify(note)}`);
        if (note_shown) assert.equal(note.text, `This meter is not billed: ${message}`);
        assert.equal(await p.$(".cycle-card"), null);
        assert.equal(await p.$(".meter-billing .error, .meter-billing [role=alert]"), null);
        assert.ok(await p.$(".tiles"), "the rest of the meter page is there");
      } finally {
        await p.close();
      }
    }
  });

  test("operators: the billing summary lists area demo", async () => {
    assert.equal(await page.$eval('a[href="#/billing"]', (a) => a.hidden), false);
    const answer = page.waitForResponse(is_get("/api/v1/billing/summary"), { timeout: 60_000 });
    await page.click('a[href="#/billing"]');
    const api = await (await answer).json();
    const demo = api.areas.find((a) => a.area === "demo");
    assert.ok(demo, `areas: ${api.areas.map((a) => a.area).join(", ")}`);
    assert.equal(demo.meters, system.live_meters.length);
    assert.equal(demo.billed, system.live_meters.length);
    assert.equal(demo.prepaid, 1);
    const row = await page.waitForSelector('table.billing-summary tr[data-area="demo"]', { timeout: 15_000 });
    const cells = await row.$$eval("th, td", (els) => els.map((e) => e.textContent));
    assert.deepEqual(cells, ["demo", String(demo.meters), String(demo.billed), cells[3], inr(demo.running_total.text), "1",
      inr(demo.prepaid_balance.text), String(demo.in_debt), String(demo.disconnected)]);
    assert.equal(await page.$$eval("table.billing-summary tbody tr", (rows) => rows.length), api.areas.length);
    await page.screenshot({ path: join(ensure_artifacts_dir(), "billing-summary.png"), fullPage: true });
  });
});
