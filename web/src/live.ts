// The live WebSocket (/api/v1/live): reconnects with back-off and hands messages to the page in
// batches, at most one batch per animation frame, so 2,000 readings a second cost one DOM update per frame.

import { check_session, normalize_reading, type Reading, type Connectivity, type RelayState } from "./api";

export interface StatusChange {
  meter_id: string;
  status: Connectivity;
  since_ms: number;
  last_seen_ms: number;
  reason: string;
  relay: RelayState;
}

export interface CommandChange {
  id: string;
  meter_id: string;
  state: string;
  message: string;
  relay: RelayState;
}

export interface LiveBatch {
  readings: Reading[];
  statuses: StatusChange[];
  commands: CommandChange[];
  events: Record<string, unknown>[];
  receive_ms: number;  // main-thread time spent parsing this batch's frames
}

export type LiveState = "connecting" | "open" | "closed";

export interface LiveOptions {
  meters?: string[];                       // only these meters; all the user may see when absent
  on_batch: (batch: LiveBatch) => void;
  on_state?: (state: LiveState) => void;
  // Called when the feed is connected again after a break: messages were missed, so the page
  // reloads the current state (the server drops clients that fall too far behind).
  on_reconnect?: () => void;
}

export class LiveFeed {
  private socket: WebSocket | null = null;
  private pending: LiveBatch = empty_batch();
  private flush_scheduled = false;
  private retry_ms = 500;
  private stopped = false;
  private retry_timer = 0;
  private was_open = false;

  constructor(private readonly options: LiveOptions) {
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.retry_timer);
    this.socket?.close(1000, "page closed");
    this.socket = null;
  }

  private connect(): void {
    if (this.stopped) return;
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const query = this.options.meters ? `?meters=${this.options.meters.map(encodeURIComponent).join(",")}` : "";
    const socket = new WebSocket(`${proto}//${location.host}/api/v1/live${query}`);
    this.socket = socket;
    this.options.on_state?.("connecting");
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.retry_ms = 500;
      this.options.on_state?.("open");
      if (this.was_open) this.options.on_reconnect?.();
      this.was_open = true;
    };
    socket.onmessage = (ev) => this.receive(ev.data);
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.options.on_state?.("closed");
      if (this.stopped) return;
      // A refused upgrade looks like any failed connection; an expired session is the usual cause.
      if (!opened) void check_session();
      this.retry_timer = window.setTimeout(() => this.connect(), this.retry_ms);
      this.retry_ms = Math.min(this.retry_ms * 2, 15_000);
    };
  }

  private receive(data: unknown): void {
    if (typeof data !== "string") return;
    const t0 = performance.now();
    let msg: unknown;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    this.take(msg);
    this.pending.receive_ms += performance.now() - t0;
    if (!this.flush_scheduled) {
      this.flush_scheduled = true;
      // rAF does not run in a hidden tab; the timeout keeps state current there at low cost.
      if (document.hidden) window.setTimeout(() => this.flush(), 1000);
      else requestAnimationFrame(() => this.flush());
    }
  }

  // Accepts one message, an array of messages or {"type":"batch","messages":[...]}.
  private take(msg: unknown): void {
    if (Array.isArray(msg)) {
      for (const m of msg) this.take(m);
      return;
    }
    if (!msg || typeof msg !== "object") return;
    const m = msg as Record<string, unknown>;
    const type = typeof m.type === "string" ? m.type : "reading";
    if (type === "batch" && Array.isArray(m.messages)) {
      for (const x of m.messages) this.take(x);
    } else if (type === "reading") {
      const reading = normalize_reading(m.reading ?? m);
      if (reading) {
        if (!reading.meter_id && typeof m.meter_id === "string") reading.meter_id = m.meter_id;
        this.pending.readings.push(reading);
      }
    } else if (type === "status") {
      const s = (m.status && typeof m.status === "object" ? m.status : m) as Record<string, unknown>;
      const status = s.status ?? s.connectivity;
      this.pending.statuses.push({
        meter_id: String(s.meter_id ?? m.meter_id ?? ""),
        status: status === "online" || status === "offline" ? status : "unknown",
        since_ms: Number(s.since_ms ?? 0),
        last_seen_ms: Number(s.last_seen_ms ?? 0),
        reason: String(s.offline_reason ?? s.reason ?? ""),
        relay: s.relay === "on" || s.relay === "off" ? s.relay : "unknown",
      });
    } else if (type === "command") {
      const c = (m.command && typeof m.command === "object" ? m.command : m) as Record<string, unknown>;
      const relay = c.relay === "on" || c.relay === "off" ? c.relay : "unknown";
      this.pending.commands.push({
        id: String(c.id ?? ""), meter_id: String(c.meter_id ?? ""), state: String(c.state ?? ""),
        message: String(c.message ?? ""), relay,
      });
    } else if (type === "event") {
      this.pending.events.push((m.event && typeof m.event === "object" ? m.event : m) as Record<string, unknown>);
    }
  }

  private flush(): void {
    this.flush_scheduled = false;
    const batch = this.pending;
    this.pending = empty_batch();
    if (this.stopped) return;
    this.options.on_batch(batch);
  }
}

function empty_batch(): LiveBatch {
  return { readings: [], statuses: [], commands: [], events: [], receive_ms: 0 };
}
