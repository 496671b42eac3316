// Browser-test harness: starts the real system (`wattguard demo`: Mosquitto, server, virtual meters) on
// free loopback ports in a temporary data directory, creates the test users, and launches Debian's
// chromium through playwright-core with a fresh profile. Everything started here is stopped by stop().
//
// Environment:
//   WATTGUARD_BIN   the wattguard binary (default: build/release/cli/wattguard, else build/asan/...)
//   WATTGUARD_URL   use an already running server instead of starting the demo (development only);
//                   then WATTGUARD_OPERATOR=name:password, WATTGUARD_CONSUMER=name:password:own-meter
//                   and WATTGUARD_TOKEN (admin API token) describe it.
//   CHROMIUM        the browser (default /usr/bin/chromium)
//   E2E_METERS, E2E_PERIOD_S   fleet size and report period of the demo (default 40 meters, 1 s)
//   E2E_DEMO_ARGS   more arguments for `wattguard demo` (e.g. a cheaper meter model for 10,000 meters)
//   E2E_HTTP_PLAIN=1   run the demo with --http-plain (by default it serves HTTPS with its self-signed certificate,
//                   which this process and the browser are told to accept: they talk only to the demo they started)

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const repo_root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const artifacts_dir = join(repo_root, "test-artifacts", "web");

export const kChromeArgs = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
  "--disable-sync", "--no-first-run",
  // The demo's self-signed certificate (HTTPS by default): the browser talks only to the demo on loopback.
  "--ignore-certificate-errors",
];

export function find_binary() {
  if (process.env.WATTGUARD_BIN) return process.env.WATTGUARD_BIN;
  for (const preset of ["release", "asan"]) {
    const candidate = join(repo_root, "build", preset, "cli", "wattguard");
    if (existsSync(candidate)) return candidate;
  }
  throw new Error("no wattguard binary: build it (make build) or set WATTGUARD_BIN");
}

// The consumer's meter for the tests: one that draws from the grid now. Houses with rooftop PV
// export all through a sunny day and a bill of theirs may have no energy line, so the meter that
// imported most in its first report and exported nothing is taken. Tests use the second and the last
// live meter for commands, stops and prepaid, so those are left out while others remain.
function pick_importing_meter(live, reserved) {
  const reading = (m) => m.last_reading ?? m.live?.last_reading ?? {};
  const free = live.filter((m) => !reserved.includes(m.id));
  const pool = free.length ? free : live;
  const importing = pool.filter((m) => (reading(m).e_export_wh ?? 0) === 0)
    .sort((a, b) => (reading(b).e_import_wh ?? 0) - (reading(a).e_import_wh ?? 0) || a.id.localeCompare(b.id));
  return (importing[0] ?? pool.slice().sort((a, b) => a.id.localeCompare(b.id))[0]).id;
}

export function free_port() {
  return new Promise((resolve_port, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve_port(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A started system: base URL, the admin token, users, the meter ids, and stop().
export class System {
  constructor() {
    this.url = "";
    this.token = "";
    this.period_s = Number(process.env.E2E_PERIOD_S ?? 1);
    this.meter_count = Number(process.env.E2E_METERS ?? 40);  // more rows than fit: the list is virtualised
    this.operator = null;   // {name, password}
    this.consumer = null;   // {name, password, meter}
    this.meters = [];       // ids of every meter the server lists (the demo's grid meters too)
    this.live_meters = [];  // ids of the virtual meters reporting live (area "demo")
    this.other_meter = "";  // owned by a second consumer
    this.demo = null;
    this.data_dir = "";
    this.log = [];
  }

  async api(method, path, body) {
    const r = await fetch(this.url + path, {
      method,
      headers: {
        ...(this.token ? { Authorization: `Bearer ${this.token}` } : { Cookie: this.cookie ?? "" }),
        "Content-Type": "application/json", Accept: "application/json",
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = null; }
    return { status: r.status, json, text };
  }

  async start() {
    if (process.env.WATTGUARD_URL) return this.attach();
    this.binary = find_binary();
    this.data_dir = mkdtempSync(join(tmpdir(), "wattguard-e2e-"));
    this.token = `e2e-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}-token`;
    const port = await free_port();
    const plain = process.env.E2E_HTTP_PLAIN === "1";
    this.url = `${plain ? "http" : "https"}://127.0.0.1:${port}`;
    // fetch() in this process: the demo's certificate is self-signed and made as it starts.
    if (!plain) process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
    const args = ["demo", "--meters", String(this.meter_count), "--period", String(this.period_s), "--http-port", String(port),
      "--data", this.data_dir, "--api-token", this.token, "--duration", String(Number(process.env.E2E_DURATION_S ?? 900)),
      ...(plain ? ["--http-plain"] : []), ...(process.env.E2E_DEMO_ARGS ?? "").split(/\s+/).filter(Boolean)];
    // Its own process group, so a demo that does not stop on SIGINT is killed with its children
    // (Mosquitto, virtual meters) and nothing is left running.
    this.demo = spawn(this.binary, args, { stdio: ["ignore", "pipe", "pipe"], detached: true });
    const pgid = this.demo.pid;
    this.kill_group = (signal) => { try { process.kill(-pgid, signal); } catch { /* already gone */ } };
    process.once("exit", () => this.kill_group("SIGKILL"));
    // `timeout` (scripts/checks/web.sh) or Ctrl-C end the test process with a signal, which skips
    // "exit" handlers: stop the demo's process group first.
    for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"]) {
      process.once(signal, () => { this.kill_group("SIGKILL"); process.exit(128 + (signal === "SIGINT" ? 2 : signal === "SIGHUP" ? 1 : 15)); });
    }
    const keep = (chunk) => {
      for (const line of chunk.toString().split("\n")) if (line) this.log.push(line);
      if (this.log.length > 2000) this.log.splice(0, this.log.length - 2000);
    };
    this.demo.stdout.on("data", keep);
    this.demo.stderr.on("data", keep);
    const exited = new Promise((r) => this.demo.once("exit", (code, signal) => r({ code, signal })));
    this.exited = exited;
    // Ready when the API answers and every meter has reported once.
    // Generous but bounded: 10,000 meters take minutes to connect and report with an ASan binary.
    const ready_s = 120 + Math.ceil(this.meter_count * 0.03);
    const deadline = Date.now() + ready_s * 1000;
    for (;;) {
      const result = await Promise.race([exited.then((e) => ({ exited: e })), sleep(300).then(() => null)]);
      if (result?.exited) {
        throw new Error(`wattguard demo exited (${JSON.stringify(result.exited)}) before it was ready:\n${this.log.join("\n")}`);
      }
      if (Date.now() > deadline) throw new Error(`wattguard demo not ready after ${ready_s} s:\n${this.log.join("\n")}`);
      try {
        const r = await this.api("GET", "/api/v1/meters?limit=100000");
        // The demo's grid meters (area grid-demo) only have imported history: wait for the live ones.
        const live = Array.isArray(r.json?.meters) ? r.json.meters.filter((m) => m.area === "demo") : [];
        if (r.status === 200 && live.length >= this.meter_count && live.every((m) => (m.last_reading ?? m.live?.last_reading))) {
          this.meters = r.json.meters.map((m) => m.id).sort();
          this.live_meters = live.map((m) => m.id).sort();
          this.importing_meter = pick_importing_meter(live, [this.live_meters[1], this.live_meters[this.live_meters.length - 1]]);
          break;
        }
      } catch {
        // not listening yet
      }
    }
    this.operator = { name: "e2e-operator", password: "operator-password-1" };
    this.consumer = { name: "e2e-consumer", password: "consumer-password-1", meter: this.importing_meter };
    await this.add_user(this.operator.name, "operator", this.operator.password, []);
    await this.add_user(this.consumer.name, "consumer", this.consumer.password, [this.consumer.meter]);
    // A second consumer, whose meter the first must not be able to open.
    this.other_meter = this.live_meters.find((id) => id !== this.consumer.meter && id !== this.live_meters[this.live_meters.length - 1]) ??
      this.live_meters.find((id) => id !== this.consumer.meter);
    await this.add_user("e2e-consumer-2", "consumer", "consumer-password-2", [this.other_meter]);
    return this;
  }

  // Users through the API (admin token); `wattguard users add` when the API has no users endpoint.
  async add_user(name, role, password, meters) {
    const r = await this.api("POST", "/api/v1/users", { name, role, password, meters });
    if (r.status === 200 || r.status === 201) return;
    const cli = spawnSync(this.binary, ["users", "add", name, "--role", role, "--password-stdin", "--data", this.data_dir,
      ...(meters.length ? ["--meters", meters.join(",")] : [])], { input: `${password}\n`, encoding: "utf8" });
    if (cli.status !== 0) {
      throw new Error(`cannot create user ${name}: POST /api/v1/users -> ${r.status} ${r.text}; ` +
        `wattguard users add -> ${cli.status}: ${cli.stderr}`);
    }
  }

  async attach() {
    this.url = process.env.WATTGUARD_URL.replace(/\/$/, "");
    this.token = process.env.WATTGUARD_TOKEN ?? "";
    const [op_name, op_password] = (process.env.WATTGUARD_OPERATOR ?? "operator:operator-pass").split(":");
    const [c_name, c_password, c_meter] = (process.env.WATTGUARD_CONSUMER ?? "alice:alice-pass:m-00001").split(":");
    this.operator = { name: op_name, password: op_password };
    this.consumer = { name: c_name, password: c_password, meter: c_meter };
    if (!this.token) {
      const r = await fetch(`${this.url}/api/v1/session`, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ name: op_name, password: op_password }),
      });
      this.cookie = (r.headers.get("set-cookie") ?? "").split(";")[0];
    }
    const list = await this.api("GET", "/api/v1/meters?limit=100000");
    this.meters = (list.json?.meters ?? []).map((m) => m.id).sort();
    this.live_meters = this.meters;
    this.other_meter = this.meters.find((m) => m !== c_meter);
    return this;
  }

  // Stops one virtual meter so it goes silent (for the offline test). Returns false when the
  // system offers no way to do it.
  async stop_meter(id) {
    const r = await this.api("POST", `/api/v1/demo/meters/${encodeURIComponent(id)}/stop`);
    return r.status >= 200 && r.status < 300;
  }

  async stop() {
    if (this.demo && this.demo.exitCode === null) {
      this.demo.kill("SIGINT");
      const done = await Promise.race([this.exited.then(() => true), sleep(15_000).then(() => false)]);
      if (!done) {
        console.error("wattguard demo did not stop within 15 s of SIGINT: killing its process group");
        this.kill_group("SIGKILL");
        await this.exited;
      }
    }
    // Children the demo may have left behind.
    this.kill_group?.("SIGKILL");
    // The demo's last output lines, for diagnosing a failed run.
    if (this.demo) writeFileSync(join(ensure_artifacts_dir(), "demo.log"), this.log.join("\n") + "\n");
    if (this.data_dir) rmSync(this.data_dir, { recursive: true, force: true });
  }
}

export async function launch_browser() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    // playwright-core gives each launch a new temporary profile (--user-data-dir) and removes it on close.
    args: kChromeArgs.filter((a) => a !== "--headless"),
  });
  return browser;
}

export function ensure_artifacts_dir() {
  mkdirSync(artifacts_dir, { recursive: true });
  return artifacts_dir;
}

// Signs in through the form; resolves when the fleet page shows its counts.
export async function sign_in(page, base_url, name, password) {
  await page.goto(`${base_url}/`);
  await page.fill("#signin-name", name);
  await page.fill("#signin-password", password);
  await page.click("form.signin button[type=submit]");
}

export function perf_of(page) {
  return page.evaluate(() => JSON.parse(JSON.stringify(window.__wattguard_perf ?? null)));
}
