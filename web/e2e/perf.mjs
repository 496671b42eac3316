// Browser performance of the dashboard (not part of `make test`): fleet first render with many meters,
// main-thread time of each live batch, and the time to draw a month of history. Prints one JSON object
// and writes it to test-artifacts/web/perf.json.
//   node e2e/perf.mjs     starts `wattguard demo --meters 10000 --period 5 --fidelity fast --transport gateway`
//   WATTGUARD_URL=http://127.0.0.1:8090 node e2e/perf.mjs   measures an already running server
// E2E_METERS, E2E_PERIOD_S, E2E_DEMO_ARGS change the demo; PERF_LIVE_S the live observation time
// (default 30 s); PERF_RUNS the page loads / month draws measured (default 7); PERF_BACKFILL_STEP_S
// the spacing of the month of readings published for the history measurement (default 60 s).

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { backfill_month } from "./backfill.mjs";
import { System, ensure_artifacts_dir, launch_browser, perf_of, sign_in, sleep } from "./harness.mjs";

process.env.E2E_METERS ??= "10000";
process.env.E2E_PERIOD_S ??= "5";
// Full-fidelity meters (ADC samples through the metrology core) for 10,000 meters would need more
// than 2 cores; the UI sees the same messages either way. A few gateway connections instead of one
// per meter keeps the file-descriptor count small.
process.env.E2E_DEMO_ARGS ??= "--fidelity fast --transport gateway";
const live_s = Number(process.env.PERF_LIVE_S ?? 30);
const runs = Number(process.env.PERF_RUNS ?? 7);
const backfill_step_s = Number(process.env.PERF_BACKFILL_STEP_S ?? 60);

const stats = (xs) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const q = (f) => s[Math.min(s.length - 1, Math.floor(f * s.length))];
  return { n: s.length, median: q(0.5), p95: q(0.95), max: s[s.length - 1] };
};
const median = (xs) => stats(xs)?.median ?? null;

const system = new System();
let browser;
try {
  const t_start = Date.now();
  await system.start();
  console.error(`system ready in ${((Date.now() - t_start) / 1000).toFixed(1)} s at ${system.url}`);
  browser = await launch_browser();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await sign_in(page, system.url, system.operator.name, system.operator.password);
  await page.waitForSelector(".vlist .frow", { timeout: 60_000 });

  // First render: a fresh page load of the fleet page while signed in, several times.
  const first_render = [], data_to_render = [], request_ms = [];
  let meter_count = 0;
  for (let i = 0; i < runs; i++) {
    await page.goto(`${system.url}/#/`);
    await page.reload();
    await page.waitForFunction(() => window.__wattguard_perf?.fleet_first_render_ms !== null, null, { timeout: 60_000 });
    const p = await perf_of(page);
    first_render.push(p.fleet_first_render_ms);
    data_to_render.push(p.fleet_data_to_render_ms);
    request_ms.push(p.fleet_list);
    meter_count = p.fleet_meter_count;
  }

  // The server's share, without a browser: the whole list (as the fleet page asks for it) and a
  // 50-meter page, each timed from node to the last byte.
  const api_ms = async (path) => {
    const out = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      const r = await system.api("GET", path);
      if (r.status !== 200) throw new Error(`${path}: ${r.status}`);
      out.push(Math.round(performance.now() - t));
    }
    return { median: median(out), runs: out };
  };
  const server_list_ms = await api_ms("/api/v1/meters?limit=100000&fields=fleet");
  const server_page_ms = await api_ms("/api/v1/meters?limit=50&fields=fleet");

  // Live batches over the observation window (the page stays open, list scrolled to the middle).
  await page.$eval(".vlist", (el) => { el.scrollTop = el.scrollHeight / 2; });
  await sleep(1000);  // let the scroll's rows render and pending observer entries arrive
  const window_start = await page.evaluate(() => {
    const p = window.__wattguard_perf;
    p.live_batch_ms.length = 0;
    p.live_batch_readings.length = 0;
    p.live_apply_ms.length = 0;
    p.fleet_tick_ms.length = 0;
    return performance.now();
  });
  await sleep(live_s * 1000);
  const live = await perf_of(page);
  const live_long_tasks = live.long_tasks.filter((t) => t.start_ms >= window_start).map((t) => t.duration_ms);
  await page.screenshot({ path: join(ensure_artifacts_dir(), `perf-fleet-${meter_count}.png`) });

  // A month of history: a month of readings for one meter, published as late readings through the
  // broker (the demo has only minutes of its own), then the 30 d button, several times.
  const meter = system.live_meters[0] ?? (await page.textContent(".vlist .frow b"));
  let backfill = null;
  if (!process.env.WATTGUARD_URL) {
    await system.stop_meter(meter);  // its broker account gets a new password: the virtual meter goes quiet first
    const now_s = Math.floor(Date.now() / 1000);
    const recent = await system.api("GET", `/api/v1/meters/${encodeURIComponent(meter)}/readings?from=${now_s - 7200}&to=${now_s + 60}&step=5&max_points=100000`);
    if (recent.status !== 200) throw new Error(`readings of ${meter}: ${recent.status} ${recent.text}`);
    const pts = recent.json?.points ?? [];
    const first_ms = pts.length ? pts[0].t_ms : Date.now();
    const first_register = pts.length ? Math.min(...pts.map((p) => p.e_import_wh - (p.energy_import_wh || 0))) : 0;
    backfill = await backfill_month(system, {
      meter, days: 30, step_s: backfill_step_s, end_ms: Math.floor(first_ms / 1000) * 1000 - 1000,
      end_register_wh: Math.max(0, first_register - 1), log: (m) => console.error(m),
    });
    // Stored (batched, then rolled up) before the browser asks for it.
    const t_wait = Date.now();
    for (;;) {
      const r = await system.api("GET", `/api/v1/meters/${encodeURIComponent(meter)}/readings?from=${Math.floor(backfill.from_ms / 1000)}` +
        `&to=${Math.floor(backfill.to_ms / 1000) + 1}&step=86400`);
      const stored = (r.json?.points ?? []).reduce((a, p) => a + p.count, 0);
      if (stored >= backfill.readings) { backfill.stored = stored; break; }
      if (Date.now() - t_wait > 300_000) throw new Error(`only ${stored} of ${backfill.readings} backfilled readings stored after 300 s`);
      await sleep(1000);
    }
    backfill.store_wait_s = (Date.now() - t_wait) / 1000;
  }
  await page.goto(`${system.url}/#/meter/${encodeURIComponent(meter)}`);
  await page.waitForSelector(".history[data-points]", { timeout: 60_000 });
  const month = [], month_points = [], month_fetch = [];
  for (let i = 0; i < runs; i++) {
    // Away and back, so each run is a fresh request and a full redraw.
    await page.click(".chips button:has-text('1 h')");
    await page.waitForFunction(() => window.__wattguard_perf.history_draw_ms.length > 0, null, { timeout: 60_000 });
    await page.evaluate(() => {
      const p = window.__wattguard_perf;
      p.history_draw_ms.length = 0; p.history_points.length = 0; p.history_fetch_ms.length = 0;
    });
    await page.click(".chips button:has-text('30 d')");
    await page.waitForFunction(() => window.__wattguard_perf.history_draw_ms.length > 0, null, { timeout: 60_000 });
    const p = await perf_of(page);
    month.push(p.history_draw_ms[0]);
    month_fetch.push(p.history_fetch_ms[0]);
    month_points.push(p.history_points[0]);
    await page.evaluate(() => { window.__wattguard_perf.history_draw_ms.length = 0; });
  }
  await page.screenshot({ path: join(ensure_artifacts_dir(), "perf-meter-30d.png"), fullPage: true });

  const readings_per_batch = stats(live.live_batch_readings);
  const result = {
    server: process.env.WATTGUARD_URL ? `external ${system.url}`
      : `${system.binary} demo --meters ${system.meter_count} --period ${system.period_s} ${process.env.E2E_DEMO_ARGS}`,
    runs,
    chromium_args: "headless, --disable-gpu",
    fleet_meters: meter_count,
    fleet_first_render_ms: { median: median(first_render), runs: first_render },
    fleet_list_request: request_ms,
    fleet_data_to_render_ms: { median: median(data_to_render), runs: data_to_render },
    server_list_all_ms: server_list_ms,
    server_list_50_ms: server_page_ms,
    live_batch_ms: stats(live.live_batch_ms),
    live_apply_ms: stats(live.live_apply_ms),
    live_readings_per_batch: readings_per_batch,
    live_window_s: live_s,
    long_tasks_during_live_ms: live_long_tasks,
    fleet_tick_ms: stats(live.fleet_tick_ms),
    month_history_draw_ms: { median: median(month), runs: month },
    month_history_fetch_ms: { median: median(month_fetch), runs: month_fetch },
    month_history_points: month_points,
    month_backfill: backfill,
    targets: { fleet_first_render_ms: 1000, live_batch_ms: 50, month_history_draw_ms: 300 },
  };
  writeFileSync(join(ensure_artifacts_dir(), "perf.json"), JSON.stringify(result, null, 2));
  console.log(JSON.stringify(result, null, 2));
} finally {
  await browser?.close();
  await system.stop();
}
