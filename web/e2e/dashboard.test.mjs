// End-to-end tests of the dashboard in Debian's chromium against the real server, broker and virtual
// meters (`wattguard demo`, started by the harness). Screenshots go to test-artifacts/web/.

import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { System, ensure_artifacts_dir, launch_browser, perf_of, sign_in, sleep } from "./harness.mjs";

const system = new System();
let browser;
let operator_context;
let page;            // the operator's page
const perf_report = {};

async function wait_for(fn, timeout_ms, what) {
  const deadline = Date.now() + timeout_ms;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout_ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

async function open_meter(p, id) {
  await p.goto(`${system.url}/#/meter/${encodeURIComponent(id)}`);
  await p.waitForSelector(".tiles", { timeout: 15_000 });
}

const tile = (p, key) => p.textContent(`.tile-value[data-key="${key}"]`);

describe("wattguard dashboard", () => {
  before(async () => {
    ensure_artifacts_dir();
    await system.start();
    browser = await launch_browser();
    operator_context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await operator_context.newPage();
    page.on("pageerror", (err) => console.error(`page error: ${err.message}`));
  });

  after(async () => {
    try {
      if (Object.keys(perf_report).length) {
        writeFileSync(join(ensure_artifacts_dir(), "perf-e2e.json"), JSON.stringify(perf_report, null, 2));
      }
      await browser?.close();
    } finally {
      await system.stop();
    }
  });

  test("a wrong password is refused with a generic message", async () => {
    await sign_in(page, system.url, system.operator.name, "not-the-password");
    const message = await page.waitForSelector(".form-message[data-kind=error]", { timeout: 40_000 });
    assert.equal(await message.textContent(), "Wrong user name or password.");
    const session = await page.evaluate(async () => (await fetch("/api/v1/session")).status);
    assert.equal(session, 401);
    // An unknown user gets exactly the same answer (after the first failure's throttle delay).
    await sleep(1000);
    await sign_in(page, system.url, "no-such-user-e2e", "whatever-password");
    const again = await page.waitForSelector(".form-message[data-kind=error]", { timeout: 40_000 });
    assert.equal(await again.textContent(), "Wrong user name or password.");
  });

  test("sign-in opens the fleet page, which lists every meter", async () => {
    await sign_in(page, system.url, system.operator.name, system.operator.password);
    await page.waitForSelector(".vlist .frow", { timeout: 40_000 });
    const expected = system.meters.length ? system.meters
      : (await page.evaluate(async () => (await (await fetch("/api/v1/meters?limit=100000")).json()).meters.map((m) => m.id))).sort();
    await wait_for(async () => (await page.$$eval(".vlist .frow b", (els) => els.length)) >= Math.min(expected.length, 10), 10_000, "rows");
    // The first page of meters may be painted before the whole list: wait for the whole list.
    const shown = await wait_for(async () => {
      const t = await page.textContent(".shown");
      return /^\d+ shown$/.test(t ?? "") ? t : null;
    }, 30_000, "the whole meter list");
    assert.equal(shown, `${expected.length} shown`);
    // Scroll through the virtualised list and collect every id it renders.
    const seen = new Set();
    const row_top = new Map();  // id -> its row's offset: rows are recycled, so DOM order is not list order
    for (let top = 0; ; top += 300) {
      const done = await page.$eval(".vlist", (el, t) => { el.scrollTop = t; return t > el.scrollHeight; }, top);
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      const rows = await page.$$eval(".vlist .frow", (els) => els.filter((e) => e.querySelector("b"))
        .map((e) => [e.querySelector("b").textContent, Number(/translateY\((-?[\d.]+)px\)/.exec(e.style.transform)?.[1] ?? NaN)]));
      for (const [id, y] of rows) {
        seen.add(id);
        if (Number.isFinite(y)) row_top.set(id, y);
      }
      if (done) break;
    }
    assert.deepEqual([...seen].sort(), expected);
    // Attention order: rows come top-down, so the set keeps the list's order. Meters that were never
    // seen and need nothing (the grid's import-only meters) come after every live meter.
    if (system.live_meters.length) {
      const listed = await system.api("GET", "/api/v1/meters?limit=100000");
      const quiet = new Set(listed.json.meters.filter((m) => m.status === "unknown" && !(m.alerts_open > 0) && !(m.tamper?.length))
        .map((m) => m.id));
      const order = [...row_top.keys()].sort((a, b) => row_top.get(a) - row_top.get(b));
      const last_live = Math.max(...system.live_meters.map((id) => order.indexOf(id)));
      const first_quiet = order.findIndex((id) => quiet.has(id));
      assert.ok(first_quiet === -1 || last_live < first_quiet,
        `a never-seen meter (${order[first_quiet]}, row ${first_quiet}) above a live one (row ${last_live})`);
    }
    await page.$eval(".vlist", (el) => { el.scrollTop = 0; });
    await sleep(1500);
    await page.screenshot({ path: join(ensure_artifacts_dir(), "fleet.png") });
    perf_report.fleet = await perf_of(page);
  });

  test("the fleet page filters by transformer and marks the demo grid's balance alerts", async (t) => {
    const api = await page.evaluate(async () => {
      const r = await fetch("/api/v1/transformers");
      return r.ok ? (await r.json()).transformers : null;
    });
    if (!api?.length) return t.skip("the server has no transformers");
    await page.goto(`${system.url}/#/`);
    const select = await page.waitForSelector('select[aria-label="Transformer"]:not([hidden])', { timeout: 20_000 });
    const first = api[0];
    const label = await select.$eval(`option[value="${first.id}"]`, (o) => o.textContent);
    assert.equal(/energy balance alert/.test(label), first.analysis?.alert === true, `option "${label}"`);
    await select.selectOption(first.id);
    // The check meter and every consumer, nothing else.
    const shown = await wait_for(async () => {
      const text = await page.textContent(".shown");
      return text === `${first.consumer_count + 1} of ${system.meters.length} shown` ? text : null;
    }, 15_000, `${first.consumer_count + 1} meters of ${first.id}`);
    assert.ok(shown);
    await page.screenshot({ path: join(ensure_artifacts_dir(), "fleet-transformer.png") });
    await select.selectOption("");
    await wait_for(async () => ((await page.textContent(".shown")) === `${system.meters.length} shown` ? true : null),
      15_000, "the whole list again");
  });

  test("a live value changes within 2 periods", async () => {
    await open_meter(page, system.consumer.meter);
    const first = await wait_for(async () => {
      const t = await page.textContent(".live-note");
      return /#\d+/.test(t ?? "") ? t : null;
    }, 10_000, "a first live reading");
    const started = Date.now();
    const changed = await wait_for(async () => {
      const t = await page.textContent(".live-note");
      return t !== first ? t : null;
    }, 2 * system.period_s * 1000 + 3000, "the next reading");  // slack for a loaded machine and an ASan binary
    assert.notEqual(changed, first);
    console.log(`# live value changed after ${Date.now() - started} ms (period ${system.period_s} s)`);
    assert.notEqual(await tile(page, "vrms"), "no data");
  });

  test("the history chart draws", async () => {
    // A freshly started demo has seconds of data: the 5-minute range makes them a visible line.
    await page.waitForSelector(".history[data-points]", { timeout: 20_000 });
    const draws = await page.evaluate(() => window.__wattguard_perf.history_draw_ms.length);
    await page.click(".chips button:has-text('5 min')");
    await page.waitForFunction((n) => window.__wattguard_perf.history_draw_ms.length > n, draws, { timeout: 20_000 });
    const points = Number(await page.getAttribute(".history", "data-points"));
    assert.ok(points > 0, `history has ${points} points`);
    // Count canvas pixels in the series colour (axes and grid are drawn in other colours).
    const painted = await page.evaluate(() => {
      const canvas = document.querySelector(".chart-box canvas");
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
      return n;
    });
    assert.ok(painted > 20, `the series line painted ${painted} pixels`);
    // Dragging across the middle third zooms in: the chart asks for that range and redraws it.
    const before_zoom = await page.evaluate(() => window.__wattguard_perf.history_draw_ms.length);
    const box = await page.$eval(".chart-box .u-over", (el) => { const r = el.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; });
    await page.mouse.move(box.x + box.w / 3, box.y + box.h / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + (2 * box.w) / 3, box.y + box.h / 2, { steps: 5 });
    await page.mouse.up();
    await page.waitForFunction((n) => window.__wattguard_perf.history_draw_ms.length > n, before_zoom, { timeout: 20_000 });
    const zoomed_ms = Number(await page.getAttribute(".history", "data-range-ms"));
    assert.ok(zoomed_ms > 60_000 && zoomed_ms < 150_000, `the drag-zoomed range is ${zoomed_ms} ms (a third of 5 min expected)`);
    await page.screenshot({ path: join(ensure_artifacts_dir(), "meter.png"), fullPage: true });
    perf_report.meter = await perf_of(page);
  });

  test("a check meter with imported history opens on its newest data and offers no relay switch", async (t) => {
    const list = await system.api("GET", "/api/v1/transformers");
    const transformer = list.json?.transformers?.find((x) => x.check_meter);
    if (!transformer) return t.skip("the server has no transformers");
    const id = transformer.check_meter;
    const refused = await system.api("POST", `/api/v1/meters/${encodeURIComponent(id)}/commands`, { kind: "relay_off" });
    assert.equal(refused.status, 409, refused.text);
    assert.equal(refused.json.error.code, "check_meter");
    await open_meter(page, id);
    await page.waitForSelector(".no-relay", { timeout: 15_000 });
    assert.match(await page.textContent(".no-relay"), new RegExp(`check meter of transformer ${transformer.id}`));
    assert.equal(await page.$("text=Turn supply off…"), null);
    // The demo grid's history ends at the last local midnight, so the last hour is empty: the chart
    // moves to the last day that has readings.
    const drawn = await wait_for(async () => {
      const [points, range] = await page.$eval(".history", (el) => [Number(el.dataset.points ?? 0), Number(el.dataset.rangeMs ?? 0)]);
      return points > 0 && range >= 86400_000 ? { points, range } : null;
    }, 20_000, "the chart on the newest imported day");
    assert.ok(drawn.points > 0);
    assert.doesNotMatch(await page.textContent(".chart-info"), /no readings in this range/);
    await page.screenshot({ path: join(ensure_artifacts_dir(), "meter-check-imported.png"), fullPage: true });
  });

  test("relay off is acknowledged and the current drops to 0", async () => {
    const id = system.live_meters[1] ?? system.consumer.meter;
    await open_meter(page, id);
    await wait_for(async () => (await tile(page, "irms")) !== "no data", 10_000, "a live current");
    await page.click("text=Turn supply off…");
    await page.waitForSelector("dialog.confirm[open]");
    await page.click("dialog.confirm button[value=confirm]");
    await page.waitForSelector('.command-result[data-state="acked"]', { timeout: 40_000 });
    assert.match(await page.textContent(".command-result"), /acknowledged/);
    assert.equal(await page.getAttribute(".relay-state", "data-relay"), "off");
    const current = await wait_for(async () => {
      const t = await tile(page, "irms");
      return t === "0.00 A" ? t : null;
    }, 3 * system.period_s * 1000 + 10_000, "current 0.00 A");
    assert.equal(current, "0.00 A");
    // Reconnect so later tests see a normal meter.
    await page.click("text=Turn supply on…");
    await page.click("dialog.confirm button[value=confirm]");
    await page.waitForSelector('.command-result[data-state="acked"]', { timeout: 40_000 });
  });

  test("a stopped meter shows offline with no data and its last-seen time", async (t) => {
    const id = system.live_meters[system.live_meters.length - 1];
    if (!id) return t.skip("no meter list (external server)");
    await open_meter(page, id);
    await wait_for(async () => (await tile(page, "p_w")) !== "no data", 10_000, "live data");
    const stopped = await system.stop_meter(id);
    assert.ok(stopped, "the demo offers no way to stop one meter (POST /api/v1/demo/meters/{id}/stop)");
    // The server declares it offline after 3 missed periods (a loaded machine can also delay a
    // running meter's readings that long, so the page may flicker offline before the stop; the
    // server's verdict for a stopped meter is final).
    await wait_for(async () => (await system.api("GET", `/api/v1/meters/${encodeURIComponent(id)}`)).json?.meter?.status === "offline",
      3 * system.period_s * 1000 + 15_000, "the server to call the stopped meter offline");
    await page.waitForFunction(() => {
      const el = document.querySelector(".status-text");
      return el?.dataset.health === "offline" && /^offline since /.test(el.textContent ?? "");
    }, null, { timeout: 10_000 });
    for (const key of ["vrms", "irms", "p_w", "pf", "freq_hz"]) assert.equal(await tile(page, key), "no data");
    assert.match(await page.textContent(".seen"), /^last seen /);
    await page.screenshot({ path: join(ensure_artifacts_dir(), "meter-offline.png") });
    // Nobody acknowledges a command to a stopped meter: it must end as timed out, never as done.
    await page.click("text=Turn supply off…");
    await page.click("dialog.confirm button[value=confirm]");
    await page.waitForSelector('.command-result[data-state="timed_out"], .command-result[data-state="failed"]', { timeout: 75_000 });
    assert.match(await page.textContent(".command-result"), /Not done\.$/);
    assert.notEqual(await page.getAttribute(".relay-state", "data-relay"), "off");
  });

  test("grid: alarms first, and a transformer's page explains its balance and suspects in plain words", async (t) => {
    const list = await system.api("GET", "/api/v1/transformers");
    const transformers = list.json?.transformers ?? [];
    if (!transformers.length) return t.skip("the server has no transformers");
    await page.goto(`${system.url}/#/grid`);
    await page.waitForSelector("table.transformers tr[data-transformer]", { timeout: 20_000 });
    const rows = await page.$$eval("table.transformers tr[data-transformer]", (els) => els.map((e) => [e.dataset.transformer, e.dataset.state]));
    assert.deepEqual(rows.map((r) => r[0]).sort(), transformers.map((x) => x.id).sort());
    const alarmed = transformers.filter((x) => x.analysis?.alert).map((x) => x.id);
    if (alarmed.length) {
      assert.ok(alarmed.includes(rows[0][0]), `first row ${rows[0][0]} (${rows[0][1]}), alarmed: ${alarmed}`);
      assert.equal(rows[0][1], "alarm");
    }
    await page.screenshot({ path: join(ensure_artifacts_dir(), "grid.png"), fullPage: true });
    const id = rows[0][0];
    await page.click(`table.transformers tr[data-transformer="${id}"] a[href^="#/transformer/"]`);
    await page.waitForFunction(() => (document.querySelector(".balance-status")?.dataset.state ?? "") !== "", null, { timeout: 20_000 });
    const detail = (await system.api("GET", `/api/v1/transformers/${encodeURIComponent(id)}`)).json;
    const status = await page.textContent(".balance-status");
    assert.doesNotMatch(status, /CUSUM|threshold/);
    if (detail.analysis?.alert) assert.match(status, /^Energy balance alarm/);
    if (detail.analysis?.series?.length) {
      await page.waitForFunction(() => Number(document.querySelector(".balance-intervals")?.dataset.drawn ?? 0) > 0, null, { timeout: 15_000 });
    }
    // The daily balance from stored readings: the demo grid has weeks of imported history.
    await page.waitForFunction(() => Number(document.querySelector(".balance-daily")?.dataset.drawn ?? 0) > 0, null, { timeout: 30_000 });
    assert.ok(Number(await page.getAttribute(".balance-daily", "data-points")) >= 7);
    const suspects = detail.analysis?.suspects ?? [];
    const shown = await page.$$eval("table.suspects tr.suspect", (els) => els.map((e) => [e.dataset.meter, e.querySelector("td.reason").textContent]));
    assert.deepEqual(shown.map((s) => s[0]), suspects.map((s) => s.meter));
    for (const [meter, reason] of shown) assert.ok(reason.trim().length > 0, `suspect ${meter} has no reason`);
    if (suspects.length) {
      // The top suspect's week against its usual week.
      await page.waitForFunction(() => /^Last week: /.test(document.querySelector(".week-change")?.textContent ?? ""), null, { timeout: 30_000 });
    }
    await page.screenshot({ path: join(ensure_artifacts_dir(), "transformer.png"), fullPage: true });
  });

  test("alerts: the alerts page and a meter page show the server's alerts, or say it has none", async () => {
    const api = await page.evaluate(async () => {
      const r = await fetch("/api/v1/alerts?state=open&limit=1000");
      return { status: r.status, alerts: r.ok ? (await r.json()).alerts : null };
    });
    assert.ok(api.status === 200 || api.status === 404, `GET /api/v1/alerts answered ${api.status}`);
    await page.goto(`${system.url}/#/alerts`);
    await page.waitForSelector(".alerts-page", { timeout: 15_000 });
    if (api.status === 404) {
      await page.waitForFunction(() => /does not provide alerts yet/.test(document.querySelector(".alerts-note")?.textContent ?? ""),
        null, { timeout: 15_000 });
    } else {
      // Rows of the default view ("open and acknowledged") include every open alert the API listed
      // a moment ago (more may have been raised since).
      await page.waitForFunction(() => /^\d+ alerts? on \d+ meters?/.test(document.querySelector(".alerts-counts")?.textContent ?? ""),
        null, { timeout: 15_000 });
      const shown = new Set(await page.$$eval("table.alerts tr[data-alert]", (rows) => rows.map((r) => r.dataset.alert)));
      for (const a of api.alerts) assert.ok(shown.has(String(a.id)), `open alert ${a.id} is not on the alerts page`);
      // A transformer's alert links to the transformer's page.
      const with_transformer = api.alerts.find((a) => a.transformer);
      if (with_transformer) {
        const href = await page.getAttribute(`table.alerts tr[data-alert="${with_transformer.id}"] a[href^="#/transformer/"]`, "href");
        assert.equal(href, `#/transformer/${encodeURIComponent(with_transformer.transformer)}`);
      }
      // An operator acknowledges one: the server records it and the page shows it.
      const open_row = await page.$('table.alerts tr[data-state="open"] button[data-action="acknowledge"]');
      if (open_row) {
        const id = await open_row.evaluate((b) => b.closest("tr").dataset.alert);
        await open_row.click();
        await page.waitForSelector(`table.alerts tr[data-alert="${id}"][data-state="acknowledged"]`, { timeout: 15_000 });
        const after = await page.evaluate(async (alert_id) => (await (await fetch(`/api/v1/alerts/${alert_id}`)).json()).alert.state, id);
        assert.equal(after, "acknowledged");
      }
    }
    await page.screenshot({ path: join(ensure_artifacts_dir(), "alerts.png"), fullPage: true });
    // A meter page's alert card: the meter's alerts from the API, or the same note.
    const id = api.alerts?.find((a) => a.meter ?? a.meter_id)?.meter ?? api.alerts?.find((a) => a.meter_id)?.meter_id ?? system.consumer.meter;
    await open_meter(page, id);
    if (api.status === 404) {
      await page.waitForFunction(() => /does not provide alerts yet/.test(document.querySelector(".alerts-note")?.textContent ?? ""),
        null, { timeout: 15_000 });
    } else {
      const own = await page.evaluate(async (m) => (await (await fetch(`/api/v1/alerts?meter=${encodeURIComponent(m)}`)).json()).alerts, id);
      await page.waitForFunction((n) => document.querySelectorAll("table.alerts tr[data-alert]").length >= n ||
        (n === 0 && /No alerts/.test(document.querySelector("table.alerts tbody")?.textContent ?? "")), own.length, { timeout: 15_000 });
    }
  });

  test("an ended session sends the user back to sign in", async () => {
    const context = await browser.newContext();
    try {
      const p = await context.newPage();
      await sign_in(p, system.url, system.operator.name, system.operator.password);
      await p.waitForSelector(".vlist .frow", { timeout: 40_000 });
      // The session ends on the server (as on expiry); the page finds out on its next call.
      assert.equal(await p.evaluate(async () => (await fetch("/api/v1/session", { method: "DELETE" })).status), 204);
      await p.goto(`${system.url}/#/meter/${encodeURIComponent(system.consumer.meter)}`);
      const message = await p.waitForSelector("form.signin .form-message", { timeout: 15_000 });
      assert.equal(await message.textContent(), "Your session has ended. Please sign in again.");
      assert.ok(await p.$("#signin-name"));
    } finally {
      await context.close();
    }
  });

  test("a consumer sees their own meter but not another consumer's (page and API)", async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, colorScheme: "dark" });
    try {
      const p = await context.newPage();
      await sign_in(p, system.url, system.consumer.name, system.consumer.password);
      await p.waitForSelector(".vlist .frow b", { timeout: 40_000 });
      const ids = await p.$$eval(".vlist .frow b", (els) => els.map((e) => e.textContent));
      assert.deepEqual(ids, [system.consumer.meter]);
      await p.screenshot({ path: join(ensure_artifacts_dir(), "fleet-consumer-phone-dark.png") });
      await open_meter(p, system.consumer.meter);
      await p.screenshot({ path: join(ensure_artifacts_dir(), "meter-consumer-phone-dark.png"), fullPage: true });
      const other = system.other_meter;
      await p.goto(`${system.url}/#/meter/${encodeURIComponent(other)}`);
      const denied = await p.waitForSelector('.error[data-denied="true"]', { timeout: 15_000 });
      assert.match(await denied.textContent(), /does not exist or is not yours/);
      assert.equal(await p.$(".tiles"), null);
      // The same well-formed calls for the consumer's own meter and for the other one: the first
      // reads succeed, the other's are refused (so the refusal is about ownership, not the query).
      const calls = (id) => p.evaluate(async (meter_id) => {
        const base = `/api/v1/meters/${encodeURIComponent(meter_id)}`;
        const now_s = Math.floor(Date.now() / 1000);
        const meter = await fetch(base);
        const readings = await fetch(`${base}/readings?from=${now_s - 3600}&to=${now_s}&step=60`);
        const events = await fetch(`${base}/events?limit=10`);
        const command = await fetch(`${base}/commands`, {
          method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ kind: "relay_off" }),
        });
        return [meter.status, readings.status, events.status, command.status];
      }, id);
      const own = await calls(system.consumer.meter);
      assert.deepEqual(own.slice(0, 3), [200, 200, 200], `own meter: API answered ${own.join("/")}`);
      assert.equal(own[3], 403, "a consumer may not send commands, even to their own meter");
      const api = await calls(other);
      for (const status of api) assert.ok(status === 403 || status === 404, `other meter: API answered ${api.join("/")}`);
    } finally {
      await context.close();
    }
  });
});
