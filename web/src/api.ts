// The documented head-end API (docs/api.md): typed calls and the JSON shapes the UI relies on, read
// by the field names the server writes (server/api/api_json.cc, api_handler.cc, grid_routes.cc,
// server/alerts/alert_json.cc) and no others. Every call sends the session cookie; a 401 means the
// session is gone and sends the user to the sign-in page.

import { parse_keeping_numbers } from "./json_text";

export type Role = "consumer" | "operator" | "admin";
// A meter's status as the server decides it (online, silent for over 2 periods, offline, never heard
// from); the UI shows it as is and applies no thresholds of its own.
export type MeterStatus = "online" | "stale" | "offline" | "unknown";
export type RelayState = "on" | "off" | "unknown";
export type CommandState = "pending" | "sent" | "acked" | "failed" | "timed_out";

export interface SessionUser {
  name: string;
  role: Role;
  meters: string[];
}

export interface Reading {
  meter_id: string;
  seq: number;
  time_ms: number;
  vrms: number;
  irms: number;
  p_w: number;
  s_va: number;
  q_var: number;
  pf: number;
  freq_hz: number;
  e_import_wh: number;
  e_export_wh: number;
  flags: number;
}

export interface MeterSummary {
  id: string;
  name: string;
  area: string;
  owner: string;
  status: MeterStatus;
  since_ms: number;
  last_seen_ms: number;
  offline_reason: string;
  period_s: number;
  relay: RelayState;
  last_reading: Reading | null;
  // Energy imported since 00:00 UTC, and the import register at 00:00 UTC so the UI can keep the
  // figure current from live readings (null when the server does not know it).
  today_import_wh: number | null;
  day_start_import_wh: number | null;
  tamper: string[];   // active tamper conditions (event kinds)
  alerts_open: number;
}

// A live `status` message: the meter's status after a transition, as the server decided it.
export interface StatusChange {
  meter_id: string;
  status: MeterStatus;
  since_ms: number;
  last_seen_ms: number;
  offline_reason: string;
  relay: RelayState;
}

export interface MeterList {
  meters: MeterSummary[];
  now_ms: number;
}

export interface AggregatePoint {
  t_ms: number;
  count: number;
  p_avg_w: number;
  p_min_w: number;
  p_max_w: number;
  vrms_avg: number;
  vrms_min: number;
  vrms_max: number;
  irms_avg: number;
  s_avg_va: number;
  q_avg_var: number;
  pf_avg: number;
  freq_avg_hz: number;
  energy_import_wh: number;
  energy_export_wh: number;
  e_import_wh: number;
  e_export_wh: number;
  flags: number;
}

export interface ReadingSeries {
  step_s: number;
  source: string;  // "raw", "1m", "15m", "1h", "1d"
  points: AggregatePoint[];
}

export interface MeterEvent {
  id: number;
  kind: string;
  edge: string;
  time_ms: number;
  details: string;
  source: string;
}

// A theft/anomaly alert (`GET /api/v1/alerts`).
export type AlertState = "open" | "acknowledged" | "closed";

export interface AlertDelivery {
  notifier: string;    // "webhook", "sms"
  recipient: string;
  state: string;       // "pending", "delivered", "undelivered"
  attempts: number;
  delivered_ms: number;
  last_error: string;
}

export interface Alert {
  id: string;
  kind: string;
  meter_id: string;
  transformer_id: string;
  area: string;
  score: number | null;
  evidence: unknown;
  raised_ms: number;
  updated_ms: number;
  cleared_ms: number;  // 0 while the condition lasts
  state: AlertState;
  deliveries: AlertDelivery[];
}

// A distribution transformer and the meters it feeds (`GET /api/v1/transformers`).
export interface Transformer {
  id: string;
  name: string;
  area: string;
  check_meter: string;
  consumers: string[];
  balance_alert: boolean;  // the server's energy-balance analysis flags it
}

export interface CommandRecord {
  id: string;
  meter_id: string;
  kind: string;
  state: CommandState;
  message: string;
  relay: RelayState;
  created_ms: number;
  updated_ms: number;
}

// A failed call: `status` 0 means the network failed.
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly field = "") {
    super(message);
  }
}

type UnauthorizedHandler = () => void;
let on_unauthorized: UnauthorizedHandler = () => {};
export function set_unauthorized_handler(handler: UnauthorizedHandler): void {
  on_unauthorized = handler;
}

// One API call. `keep_numbers` parses every JSON number as its decimal text (json_text.ts), for answers that
// embed issued bills with the currency's digits.
export async function call<T>(method: string, path: string, body?: unknown,
  opts: { quiet401?: boolean; keep_numbers?: boolean } = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: body === undefined ? { Accept: "application/json" } : { "Content-Type": "application/json", Accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, "network", `cannot reach the server (${String(err)})`);
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let json: unknown = null;
  try {
    json = text ? (opts.keep_numbers && response.ok ? parse_keeping_numbers(text) : JSON.parse(text)) : null;
  } catch {
    json = null;
  }
  if (!response.ok) {
    const e = (json as { error?: { code?: string; message?: string; field?: string } } | null)?.error;
    if (response.status === 401 && !opts.quiet401) on_unauthorized();
    throw new ApiError(response.status, e?.code ?? `http_${response.status}`, e?.message ?? response.statusText, e?.field ?? "");
  }
  return json as T;
}

export const num = (v: unknown, fallback = 0): number => (typeof v === "number" && Number.isFinite(v) ? v : fallback);
export const str = (v: unknown, fallback = ""): string => (typeof v === "string" ? v : fallback);
export const opt_num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

// A reading as the server writes it (`last_reading`, the live feed's `reading`); with `fields=fleet`
// only time_ms, vrms, p_w, e_import_wh and flags are present.
export function normalize_reading(raw: unknown): Reading | null {
  if (!raw || typeof raw !== "object") return null;
  const r = raw as Record<string, unknown>;
  if (typeof r.time_ms !== "number") return null;
  return {
    meter_id: str(r.meter_id),
    seq: num(r.seq),
    time_ms: r.time_ms,
    vrms: num(r.vrms),
    irms: num(r.irms),
    p_w: num(r.p_w),
    s_va: num(r.s_va),
    q_var: num(r.q_var),
    pf: num(r.pf),
    freq_hz: num(r.freq_hz),
    e_import_wh: num(r.e_import_wh),
    e_export_wh: num(r.e_export_wh),
    flags: num(r.flags),
  };
}

function normalize_status(v: unknown): MeterStatus {
  return v === "online" || v === "stale" || v === "offline" ? v : "unknown";
}

function normalize_relay(v: unknown): RelayState {
  return v === "on" || v === "off" ? v : "unknown";
}

export function normalize_meter(raw: Record<string, unknown>): MeterSummary {
  return {
    id: str(raw.id),
    name: str(raw.name),
    area: str(raw.area),
    owner: str(raw.owner),
    status: normalize_status(raw.status),
    since_ms: num(raw.since_ms),
    last_seen_ms: num(raw.last_seen_ms),
    offline_reason: str(raw.offline_reason),
    period_s: num(raw.period_s, 5) || 5,
    relay: normalize_relay(raw.relay),
    last_reading: normalize_reading(raw.last_reading),
    today_import_wh: opt_num(raw.today_import_wh),
    day_start_import_wh: opt_num(raw.day_start_import_wh),
    tamper: Array.isArray(raw.tamper) ? raw.tamper.map(String) : [],
    alerts_open: num(raw.alerts_open),
  };
}

export function normalize_status_change(m: Record<string, unknown>): StatusChange {
  return {
    meter_id: str(m.meter_id), status: normalize_status(m.status), since_ms: num(m.since_ms), last_seen_ms: num(m.last_seen_ms),
    offline_reason: str(m.offline_reason), relay: normalize_relay(m.relay),
  };
}

export function normalize_command(c: Record<string, unknown>): CommandRecord {
  const state = str(c.state, "pending");
  return {
    id: str(c.id),
    meter_id: str(c.meter_id),
    kind: str(c.kind),
    state: (["pending", "sent", "acked", "failed", "timed_out"].includes(state) ? state : "pending") as CommandState,
    message: str(c.message),
    relay: normalize_relay(c.relay),
    created_ms: num(c.created_ms),
    updated_ms: num(c.updated_ms),
  };
}

// --- session ---

export async function sign_in(name: string, password: string): Promise<SessionUser> {
  const r = await call<{ user: SessionUser }>("POST", "/api/v1/session", { name, password }, { quiet401: true });
  return r.user;
}

export async function current_user(): Promise<SessionUser | null> {
  try {
    const r = await call<{ user: SessionUser }>("GET", "/api/v1/session", undefined, { quiet401: true });
    return r.user;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

// Asks whether the session is still valid; a 401 goes through the unauthorized handler (sign-in page).
export async function check_session(): Promise<void> {
  await call<unknown>("GET", "/api/v1/session").catch(() => undefined);
}

export async function sign_out(): Promise<void> {
  await call<void>("DELETE", "/api/v1/session", undefined, { quiet401: true }).catch(() => undefined);
}

// --- meters ---

export interface ListTiming {
  request_ms: number;    // request sent -> whole body parsed
  normalize_ms: number;
  bytes: number;
}

// Every meter the user may see, for the fleet page: `fields=fleet` has the server cut each
// last_reading to what the list shows (time, V, P, import register, flags), rounded, about half the
// bytes of the full list; live readings bring the full values afterwards.
export async function list_meters(timing?: ListTiming): Promise<MeterList> {
  const t0 = performance.now();
  const r = await call<{ meters: Record<string, unknown>[]; now_ms: number }>("GET", "/api/v1/meters?limit=100000&fields=fleet");
  const t1 = performance.now();
  const meters = new Array<MeterSummary>(r.meters.length);
  for (let i = 0; i < r.meters.length; i++) meters[i] = normalize_meter(r.meters[i]);
  if (timing) {
    timing.request_ms = t1 - t0;
    timing.normalize_ms = performance.now() - t1;
    const entry = performance.getEntriesByType("resource").filter((e) => e.name.includes("/api/v1/meters?")).pop() as
      PerformanceResourceTiming | undefined;
    timing.bytes = entry?.encodedBodySize ?? 0;
  }
  return { meters, now_ms: num(r.now_ms, Date.now()) };
}

// The fleet list requested at page load, in parallel with the session check (saves a round trip on
// the first render of a big fleet). Taken once by the fleet page.
let prefetched: { list: Promise<MeterList>; timing: ListTiming } | null = null;

export function prefetch_meters(): void {
  const timing: ListTiming = { request_ms: 0, normalize_ms: 0, bytes: 0 };
  const list = list_meters(timing);
  list.catch(() => undefined);  // a signed-out visitor: the page asks again after sign-in
  prefetched = { list, timing };
}

export function take_meter_list(timing: ListTiming): Promise<MeterList> {
  const p = prefetched;
  prefetched = null;
  if (!p) return list_meters(timing);
  return p.list.then((r) => { Object.assign(timing, p.timing); return r; }, () => list_meters(timing));
}

export async function get_meter(id: string): Promise<MeterSummary> {
  const r = await call<{ meter: Record<string, unknown> }>("GET", `/api/v1/meters/${encodeURIComponent(id)}`);
  return normalize_meter(r.meter);
}

export async function get_readings(id: string, from_ms: number, to_ms: number, step_s: number): Promise<ReadingSeries> {
  const q = `from=${Math.floor(from_ms / 1000)}&to=${Math.ceil(to_ms / 1000)}&step=${step_s}`;
  const r = await call<{ step_s: number; source: string; points: AggregatePoint[] }>(
    "GET", `/api/v1/meters/${encodeURIComponent(id)}/readings?${q}`);
  return { step_s: num(r.step_s, step_s), source: str(r.source), points: Array.isArray(r.points) ? r.points : [] };
}

export async function get_events(id: string, limit = 50): Promise<MeterEvent[]> {
  const r = await call<{ events: MeterEvent[] }>("GET", `/api/v1/meters/${encodeURIComponent(id)}/events?limit=${limit}`);
  return r.events;
}

export function normalize_alert(raw: Record<string, unknown>): Alert {
  const state = str(raw.state, "open");
  const deliveries = Array.isArray(raw.deliveries) ? raw.deliveries : [];
  return {
    id: String(raw.id ?? ""),
    kind: str(raw.kind),
    meter_id: str(raw.meter),
    transformer_id: str(raw.transformer),
    area: str(raw.area),
    score: opt_num(raw.score),
    evidence: raw.evidence ?? null,
    raised_ms: num(raw.raised_ms),
    updated_ms: num(raw.updated_ms),
    cleared_ms: num(raw.cleared_ms),
    state: (state === "acknowledged" || state === "closed" ? state : "open") as AlertState,
    deliveries: deliveries.filter((d) => d && typeof d === "object").map((d) => {
      const o = d as Record<string, unknown>;
      return {
        notifier: str(o.notifier), recipient: str(o.recipient), state: str(o.state), attempts: num(o.attempts),
        delivered_ms: num(o.delivered_ms), last_error: str(o.last_error),
      };
    }),
  };
}

// Alerts, newest first; null when the server has no alerts route (404), so pages can say so.
export async function list_alerts(q: { meter?: string; transformer?: string; state?: AlertState; limit?: number } = {}): Promise<Alert[] | null> {
  const params = new URLSearchParams();
  if (q.meter) params.set("meter", q.meter);
  if (q.transformer) params.set("transformer", q.transformer);
  if (q.state) params.set("state", q.state);
  if (q.limit) params.set("limit", String(q.limit));
  try {
    const r = await call<{ alerts: Record<string, unknown>[] }>("GET", `/api/v1/alerts${params.toString() ? `?${params}` : ""}`);
    return r.alerts.map(normalize_alert);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404 && err.code !== "meter_not_found") return null;
    throw err;
  }
}

// Acknowledge or close an alert (operators, admins); answers the alert as it is now.
export async function change_alert(id: string, action: "acknowledge" | "close", note = ""): Promise<Alert> {
  const r = await call<{ alert: Record<string, unknown> }>("POST", `/api/v1/alerts/${encodeURIComponent(id)}/${action}`,
    note ? { note } : {});
  return normalize_alert(r.alert);
}

export async function get_alerts(id: string): Promise<Alert[] | null> {
  return list_alerts({ meter: id });
}

const kMaxTransformerDetails = 300;

// A transformer row of `GET /api/v1/transformers` (members not listed, only `consumer_count`);
// `analysis` is null until the first analysis cycle.
export function normalize_transformer(t: Record<string, unknown>): Transformer {
  const analysis = (t.analysis && typeof t.analysis === "object" ? t.analysis : {}) as Record<string, unknown>;
  return {
    id: str(t.id), name: str(t.name), area: str(t.area), check_meter: str(t.check_meter), consumers: [],
    balance_alert: analysis.alert === true,
  };
}

// The consumer ids of `GET /api/v1/transformers/{id}`'s `transformer`.
export function consumer_ids(t: Record<string, unknown>): string[] {
  return Array.isArray(t.consumers) ? t.consumers.filter((c): c is string => typeof c === "string") : [];
}

// Transformers with their consumers; null when the server has no transformers route (404) or the
// caller may not list them (403). The list carries only `consumer_count`; the members come from
// `GET /api/v1/transformers/{id}`, asked for up to 300 transformers, four at a time; beyond that
// the members stay unknown (empty).
export async function list_transformers(): Promise<Transformer[] | null> {
  let rows: Record<string, unknown>[];
  try {
    const r = await call<{ transformers: Record<string, unknown>[] }>("GET", "/api/v1/transformers");
    rows = r.transformers;
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 403)) return null;
    throw err;
  }
  const out = rows.map(normalize_transformer);
  const missing = rows.map((t, i) => (num(t.consumer_count) > 0 ? i : -1)).filter((i) => i >= 0);
  if (missing.length === 0 || missing.length > kMaxTransformerDetails) return out;
  let next = 0;
  const worker = async () => {
    while (next < missing.length) {
      const i = missing[next++];
      try {
        const d = await call<{ transformer: Record<string, unknown> }>("GET", `/api/v1/transformers/${encodeURIComponent(out[i].id)}`);
        out[i].consumers = consumer_ids(d.transformer);
      } catch {
        // one transformer's members unknown: the others still count
      }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return out;
}

export async function send_command(id: string, kind: string): Promise<CommandRecord> {
  const r = await call<{ command: Record<string, unknown> }>("POST", `/api/v1/meters/${encodeURIComponent(id)}/commands`, { kind });
  return normalize_command(r.command);
}

export async function get_command(meter_id: string, command_id: string): Promise<CommandRecord> {
  const r = await call<{ command: Record<string, unknown> }>(
    "GET", `/api/v1/meters/${encodeURIComponent(meter_id)}/commands/${encodeURIComponent(command_id)}`);
  return normalize_command(r.command);
}

// --- users (admins) ---

export interface UserRecord {
  name: string;
  role: Role;
  meters: string[];
  created_ms: number;
}

export async function list_users(): Promise<UserRecord[]> {
  const r = await call<{ users: UserRecord[] }>("GET", "/api/v1/users");
  return r.users;
}

export async function add_user(name: string, role: Role, password: string, meters: string[]): Promise<void> {
  await call<unknown>("POST", "/api/v1/users", { name, role, password, meters });
}

export async function delete_user(name: string): Promise<void> {
  await call<unknown>("DELETE", `/api/v1/users/${encodeURIComponent(name)}`);
}

export async function set_user_meters(name: string, meters: string[]): Promise<void> {
  await call<unknown>("PUT", `/api/v1/users/${encodeURIComponent(name)}/meters`, { meters });
}
