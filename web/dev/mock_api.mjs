// Development stand-in for `wattguard serve` (NOT used by the e2e tests, which need the real server):
// the API calls and live WebSocket of docs/api.md the UI uses, with synthetic meters, plus web/dist.
// Lets the UI be worked on and its browser performance measured with 10,000 meters before the real
// server exists.   node dev/mock_api.mjs --port 8090 --meters 10000 --period 5
import { createHash } from "node:crypto";
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith("--")) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const port = Number(args.port ?? 8090);
const meter_count = Number(args.meters ?? 1000);
const period_s = Number(args.period ?? 5);
const dist = fileURLToPath(new URL("../dist", import.meta.url));

const users = {
  operator: { password: "operator-pass", role: "operator", meters: [] },
  alice: { password: "alice-pass", role: "consumer", meters: ["m-00001"] },
};
const sessions = new Map();
const ids = Array.from({ length: meter_count }, (_, i) => `m-${String(i + 1).padStart(5, "0")}`);
const areas = ["north", "south", "east", "west", "centre"];
const start_ms = Date.now();
const meters = new Map(ids.map((id, i) => [id, {
  id, name: `House ${i + 1}`, area: areas[i % areas.length], owner: i === 0 ? "alice" : "",
  status: "online", since_ms: start_ms, last_seen_ms: start_ms, offline_reason: "", period_s, relay: "on",
  seq: 0, stopped: false, import_wh: 1000 + i * 37, export_wh: 0, base_w: 150 + (i * 7919) % 900,
  tamper: i % 997 === 5 ? ["magnetic"] : [], alerts_open: i % 1499 === 3 ? 1 : 0, last_reading: null,
}]));
const commands = new Map();

function power_at(m, t_ms) {
  const hour = (t_ms / 3600_000) % 24;
  const shape = 1 + 0.8 * Math.max(0, Math.sin(((hour - 6) / 24) * 2 * Math.PI));
  const noise = Math.sin(t_ms / 7000 + m.base_w) * 0.1;
  return m.relay === "off" ? 0 : m.base_w * (shape + noise);
}

function make_reading(m, t_ms) {
  const p = power_at(m, t_ms);
  m.import_wh += (p * period_s) / 3600;
  const v = 230 + Math.sin(t_ms / 60000) * 3;
  const s = p / 0.95;
  return { meter_id: m.id, seq: ++m.seq, time_ms: t_ms, vrms: v, irms: s / v, p_w: p, s_va: s,
    q_var: Math.sqrt(Math.max(0, s * s - p * p)), pf: p > 0 ? 0.95 : 1, freq_hz: 50 + Math.sin(t_ms / 9000) * 0.02,
    e_import_wh: m.import_wh, e_export_wh: m.export_wh, flags: (m.relay === "off" ? 256 : 8) | (m.tamper.length ? 1 << 19 : 0) };
}

// The register at the mock's start stands in for the register at 00:00 UTC.
function summary(m, i) {
  const { id, name, area, owner, status, since_ms, last_seen_ms, offline_reason, relay, tamper, alerts_open, last_reading } = m;
  const day_start = 1000 + i * 37;
  return { id, name, area, owner, status, since_ms, last_seen_ms, offline_reason, period_s, relay, tamper, alerts_open,
    last_reading, today_import_wh: m.import_wh - day_start, day_start_import_wh: day_start };
}

function json(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store", ...headers });
  res.end(text);
}
const error = (res, status, code, message, field = "") => json(res, status, { error: { code, field, message } });

function session_user(req) {
  const cookie = /(?:^|;\s*)wg_session=([^;]+)/.exec(req.headers.cookie ?? "");
  const name = cookie && sessions.get(cookie[1]);
  return name ? { name, ...users[name] } : null;
}
const may_see = (user, id) => user.role !== "consumer" || user.meters.includes(id);

async function body_of(req) {
  let text = "";
  for await (const chunk of req) text += chunk;
  try { return JSON.parse(text || "{}"); } catch { return null; }
}

function series(m, from_ms, to_ms, step_s) {
  const step_ms = step_s * 1000;
  const points = [];
  for (let t = Math.ceil(from_ms / step_ms) * step_ms; t < to_ms && t < Date.now(); t += step_ms) {
    if (t < start_ms - 40 * 86400_000) continue;
    const samples = [0.1, 0.5, 0.9].map((f) => power_at(m, t + f * step_ms));
    const avg = samples.reduce((a, b) => a + b) / 3;
    points.push({ t_ms: t, count: Math.max(1, Math.round(step_s / period_s)), p_avg_w: avg, p_min_w: Math.min(...samples),
      p_max_w: Math.max(...samples), vrms_avg: 230, vrms_min: 227, vrms_max: 233, irms_avg: avg / 230 / 0.95, s_avg_va: avg / 0.95,
      q_avg_var: avg * 0.33, pf_avg: 0.95, freq_avg_hz: 50, energy_import_wh: (avg * step_s) / 3600, energy_export_wh: 0,
      e_import_wh: 0, e_export_wh: 0, flags: 8 });
  }
  return { step_s, source: step_s >= 86400 ? "1d" : step_s >= 3600 ? "1h" : step_s >= 900 ? "15m" : step_s >= 60 ? "1m" : "raw", points };
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, "http://x");
  const path = url.pathname;
  if (!path.startsWith("/api/")) {
    const file = normalize(join(dist, path === "/" ? "index.html" : path));
    if (!file.startsWith(dist)) return error(res, 400, "bad_path", "bad path");
    try {
      const data = await readFile(file);
      const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".map": "application/json" };
      res.writeHead(200, { "Content-Type": types[extname(file)] ?? "application/octet-stream" });
      return res.end(data);
    } catch {
      return error(res, 404, "not_found", "no such file");
    }
  }
  if (path === "/api/v1/session" && req.method === "POST") {
    const b = await body_of(req);
    const u = b && users[b.name];
    if (!u || u.password !== b.password) {
      return setTimeout(() => error(res, 401, "bad_credentials", "wrong user name or password"), 300);
    }
    const sid = createHash("sha256").update(String(Math.random())).digest("hex");
    sessions.set(sid, b.name);
    return json(res, 200, { user: { name: b.name, role: u.role, meters: u.meters } }, { "Set-Cookie": `wg_session=${sid}; HttpOnly; SameSite=Strict; Path=/` });
  }
  const user = session_user(req);
  if (!user) return error(res, 401, "unauthorized", "sign in first");
  if (path === "/api/v1/session") {
    if (req.method === "DELETE") {
      sessions.delete(/(?:^|;\s*)wg_session=([^;]+)/.exec(req.headers.cookie ?? "")[1]);
      res.writeHead(204, { "Set-Cookie": "wg_session=; Path=/; Max-Age=0" });
      return res.end();
    }
    return json(res, 200, { user: { name: user.name, role: user.role, meters: user.meters } });
  }
  if (path === "/api/v1/meters") {
    const list = [];
    ids.forEach((id, i) => { if (may_see(user, id)) list.push(summary(meters.get(id), i)); });
    return json(res, 200, { now_ms: Date.now(), meters: list });
  }
  const parts = path.split("/").slice(4).map(decodeURIComponent);  // after /api/v1/meters
  if (path.startsWith("/api/v1/meters/")) {
    const m = meters.get(parts[0]);
    if (!m || !may_see(user, m.id)) return error(res, 404, "not_found", "no such meter", "id");
    if (parts.length === 1) return json(res, 200, { meter: { ...summary(m, ids.indexOf(m.id)), now_ms: Date.now() } });
    if (parts[1] === "readings") {
      const from = Number(url.searchParams.get("from")) * 1000, to = Number(url.searchParams.get("to")) * 1000;
      return json(res, 200, series(m, from, to, Number(url.searchParams.get("step") ?? 60)));
    }
    if (parts[1] === "events") return json(res, 200, { meter_id: m.id, events: m.tamper.length ? [{ id: 1, kind: "magnetic", edge: "onset", time_ms: start_ms, details: "test magnet", source: "meter" }] : [] });
    if (parts[1] === "commands" && req.method === "POST") {
      if (user.role === "consumer") return error(res, 403, "forbidden", "operators only");
      const b = await body_of(req);
      const c = { id: `c${commands.size + 1}`, meter_id: m.id, kind: b.kind, state: "sent", message: "", relay: "unknown", created_ms: Date.now(), updated_ms: Date.now() };
      commands.set(c.id, c);
      setTimeout(() => {
        if (m.stopped) { c.state = "timed_out"; c.updated_ms = Date.now(); return; }
        m.relay = b.kind === "relay_off" ? "off" : "on";
        Object.assign(c, { state: "acked", relay: m.relay, updated_ms: Date.now() });
      }, 400);
      return json(res, 202, { command: c });
    }
    if (parts[1] === "commands" && parts[2]) {
      const c = commands.get(parts[2]);
      return c ? json(res, 200, { command: c }) : error(res, 404, "not_found", "no such command");
    }
  }
  if (path.startsWith("/api/v1/demo/meters/") && req.method === "POST") {
    const m = meters.get(parts[1]);
    if (m) m.stopped = true;
    res.writeHead(204);
    return res.end();
  }
  return error(res, 404, "not_found", "no such endpoint");
});

// --- minimal WebSocket (server -> client text frames only) ---
const clients = new Set();
server.on("upgrade", (req, socket) => {
  const user = session_user(req);
  if (!user) { socket.end("HTTP/1.1 401 Unauthorized\r\n\r\n"); return; }
  const accept = createHash("sha1").update(req.headers["sec-websocket-key"] + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  const wanted = new URL(req.url, "http://x").searchParams.get("meters");
  const client = { socket, user, meters: wanted ? new Set(wanted.split(",")) : null };
  clients.add(client);
  socket.on("data", (buf) => { if ((buf[0] & 0x0f) === 8) socket.end(); });
  socket.on("close", () => clients.delete(client));
  socket.on("error", () => clients.delete(client));
});

function send(socket, text) {
  const payload = Buffer.from(text);
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0x81, n]) : n < 65536 ? Buffer.from([0x81, 126, n >> 8, n & 255]) : Buffer.alloc(10);
  if (n >= 65536) { head[0] = 0x81; head[1] = 127; head.writeBigUInt64BE(BigInt(n), 2); }
  socket.write(Buffer.concat([head, payload]));
}

// A status transition, pushed on the live feed as the server does.
function set_status(m, status, now, messages) {
  Object.assign(m, { status, since_ms: now, offline_reason: status === "offline" ? "missed_periods" : "" });
  messages.push({ type: "status", meter_id: m.id, status, since_ms: now, last_seen_ms: m.last_seen_ms,
    offline_reason: m.offline_reason, period_s, relay: m.relay });
}

// Meters report spread over the period: every 100 ms a tenth of the period's share.
const ticks_per_period = period_s * 10;
let tick = 0;
setInterval(() => {
  const now = Date.now();
  const messages = [];
  for (let i = tick % ticks_per_period; i < ids.length; i += ticks_per_period) {
    const m = meters.get(ids[i]);
    if (m.stopped) {
      // The server's rule: stale after 2 missed periods, offline after 3 (each with a little slack).
      const silent_ms = now - m.last_seen_ms;
      const status = silent_ms > 3 * period_s * 1000 + 2000 ? "offline" : silent_ms > 2 * period_s * 1000 + 1000 ? "stale" : m.status;
      if (status !== m.status) set_status(m, status, now, messages);
      continue;
    }
    m.last_reading = make_reading(m, now);
    m.last_seen_ms = now;
    messages.push({ type: "reading", meter_id: m.id, reading: m.last_reading });
    if (m.status !== "online") set_status(m, "online", now, messages);
  }
  tick++;
  for (const c of clients) {
    const mine = messages.filter((msg) => (!c.meters || c.meters.has(msg.meter_id)) && may_see(c.user, msg.meter_id));
    if (mine.length) send(c.socket, JSON.stringify(mine));
  }
}, 100);

server.listen(port, "127.0.0.1", () => console.log(`mock API on http://127.0.0.1:${port}/ with ${meter_count} meters, period ${period_s} s`));
