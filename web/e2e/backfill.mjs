// A month of history for one meter of a running `wattguard demo`, for the performance script: the
// readings go the real way (MQTT -> ingest -> store and its rollups) as late readings, like a meter
// replaying its store-and-forward queue. The demo keeps its broker passwords in memory only, so the
// script gives the meter's broker account a password it knows (a new $7$ PBKDF2-SHA512 line in the
// demo's private password file, then SIGHUP to that Mosquitto, which reloads the file) and publishes
// as that meter, QoS 1, with a window of unacknowledged messages.

import { pbkdf2Sync, randomBytes } from "node:crypto";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";

// --- a minimal MQTT 3.1.1 client: CONNECT, PUBLISH QoS 1, PUBACK, DISCONNECT ---

function remaining_length(n) {
  const out = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

const utf8_field = (s) => {
  const b = Buffer.from(s, "utf8");
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
};

const packet = (type_flags, body) => Buffer.concat([Buffer.from([type_flags]), remaining_length(body.length), body]);

class MqttPublisher {
  constructor(socket) {
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    this.waiting = new Map();   // packet id -> resolve
    this.connack = null;
    this.next_id = 1;
    socket.on("data", (chunk) => this.on_data(chunk));
  }

  static open(port, username, password, client_id) {
    return new Promise((resolve, reject) => {
      const socket = connect(port, "127.0.0.1");
      socket.setNoDelay(true);
      socket.once("error", reject);
      socket.once("connect", () => {
        const client = new MqttPublisher(socket);
        const variable = Buffer.concat([utf8_field("MQTT"), Buffer.from([4, 0xc2, 0, 60])]);  // v3.1.1, user+password+clean, keep-alive 60 s
        const payload = Buffer.concat([utf8_field(client_id), utf8_field(username), utf8_field(password)]);
        client.connack = { resolve, reject, client };
        socket.write(packet(0x10, Buffer.concat([variable, payload])));
      });
    });
  }

  on_data(chunk) {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.buffer.length < 2) return;
      let len = 0, mult = 1, i = 1, byte;
      do {
        if (i >= this.buffer.length) return;
        byte = this.buffer[i++];
        len += (byte & 0x7f) * mult;
        mult *= 128;
      } while (byte & 0x80);
      if (this.buffer.length < i + len) return;
      const type = this.buffer[0] >> 4;
      const body = this.buffer.subarray(i, i + len);
      this.buffer = this.buffer.subarray(i + len);
      if (type === 2 && this.connack) {            // CONNACK
        const { resolve, reject, client } = this.connack;
        this.connack = null;
        if (body[1] === 0) resolve(client);
        else reject(new Error(`broker refused the connection (CONNACK code ${body[1]})`));
      } else if (type === 4) {                     // PUBACK
        const id = body.readUInt16BE(0);
        this.waiting.get(id)?.();
        this.waiting.delete(id);
      }
    }
  }

  publish(topic, payload) {
    const id = this.next_id;
    this.next_id = this.next_id % 65535 + 1;
    const pid = Buffer.alloc(2);
    pid.writeUInt16BE(id);
    const acked = new Promise((resolve) => this.waiting.set(id, resolve));
    const ok = this.socket.write(packet(0x32, Buffer.concat([utf8_field(topic), pid, Buffer.from(payload)])));
    return { acked, ok };
  }

  close() {
    this.socket.end(Buffer.from([0xe0, 0]));
  }
}

// --- broker account ---

function mosquitto_hash(password) {
  const salt = randomBytes(12);
  const iterations = 101;
  const key = pbkdf2Sync(password, salt, iterations, 64, "sha512");
  return `$7$${iterations}$${salt.toString("base64")}$${key.toString("base64")}`;
}

// The demo's Mosquitto: the child of the demo process whose command line names the broker directory.
function broker_pid(demo_pid, broker_dir) {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (ppid === demo_pid && cmdline.includes("mosquitto") && cmdline.includes(broker_dir)) return Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  return 0;
}

// Sets (or adds) the broker account `user` with `password` and makes the broker reload its files.
export async function set_broker_password(system, user, password) {
  const broker_dir = join(system.data_dir, "broker");
  const path = join(broker_dir, "passwd");
  const lines = readFileSync(path, "utf8").split("\n").filter((l) => l && !l.startsWith(`${user}:`));
  lines.push(`${user}:${mosquitto_hash(password)}`);
  writeFileSync(path, lines.join("\n") + "\n", { mode: 0o600 });
  const pid = broker_pid(system.demo.pid, broker_dir);
  if (!pid) throw new Error(`cannot find the demo's mosquitto (child of ${system.demo.pid})`);
  process.kill(pid, "SIGHUP");
  await new Promise((r) => setTimeout(r, 500));
}

export function broker_port(system) {
  for (const line of system.log) {
    const m = /broker\s+127\.0\.0\.1:(\d+)/.exec(line);
    if (m) return Number(m[1]);
  }
  throw new Error("the demo did not print its broker port");
}

// Publishes `days` of readings every `step_s` seconds ending `end_ms`, for `meter`, with a plausible
// household profile (base load, evening peak, noise) and import registers ending at `end_register_wh`.
// Resolves with the number of readings published and acknowledged by the broker.
export async function backfill_month(system, { meter, days = 30, step_s = 60, end_ms, end_register_wh = 0, log = () => {} }) {
  const password = `backfill-${randomBytes(9).toString("hex")}`;
  await set_broker_password(system, meter, password);
  const client = await MqttPublisher.open(broker_port(system), meter, password, `${meter}-backfill-${process.pid}`);
  const topic = `wattguard/v1/${meter}/reading`;
  const n = Math.floor(days * 86400 / step_s);
  const start_ms = end_ms - n * step_s * 1000;
  // Power profile first, then registers scaled so the last one is just below end_register_wh (no
  // rollback against the live meter's first reading).
  const p = new Float64Array(n);
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  let energy = 0;
  for (let i = 0; i < n; i++) {
    const t = start_ms + (i + 1) * step_s * 1000;
    const hour = (t / 3600_000) % 24;
    const evening = Math.exp(-((hour - 19.5) ** 2) / 4) * 1500;
    const morning = Math.exp(-((hour - 7.5) ** 2) / 1.5) * 800;
    p[i] = 180 + evening + morning + rand() * 250 + (rand() < 0.02 ? 2000 : 0);
    energy += p[i] * step_s / 3600;
  }
  const scale = end_register_wh > 0 && energy > end_register_wh ? (end_register_wh * 0.999) / energy : 1;
  const base = end_register_wh > 0 && energy <= end_register_wh ? end_register_wh - energy - 1 : 0;
  let register = base;
  const window = 500;
  const inflight = new Set();
  const t0 = Date.now();
  for (let i = 0; i < n; i++) {
    const t = start_ms + (i + 1) * step_s * 1000;
    const p_w = p[i] * scale;
    register += p_w * step_s / 3600;
    const vrms = 229 + 4 * Math.sin(t / 5_400_000) + rand();
    const irms = p_w / vrms / 0.96;
    const body = JSON.stringify({
      meter, seq: 1_000_000_000 + i, time_ms: t, vrms: +vrms.toFixed(2), irms: +irms.toFixed(3), p_w: +p_w.toFixed(1),
      s_va: +(vrms * irms).toFixed(1), q_var: +(vrms * irms * 0.28).toFixed(1), pf: 0.96, freq_hz: 50.0,
      e_import_wh: +register.toFixed(3), e_export_wh: 0, flags: 8 | (1 << 9),
    });
    const { acked, ok } = client.publish(topic, body);
    const tracked = acked.then(() => inflight.delete(tracked));
    inflight.add(tracked);
    if (inflight.size >= window) await Promise.race(inflight);
    if (!ok) await new Promise((r) => client.socket.once("drain", r));
    if (i % 20_000 === 0 && i > 0) log(`backfill: ${i}/${n} readings published`);
  }
  await Promise.all(inflight);
  client.close();
  log(`backfill: ${n} readings of ${meter} (${days} d, every ${step_s} s) published in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { readings: n, from_ms: start_ms, to_ms: end_ms };
}
