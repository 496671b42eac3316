// The live WebSocket (/api/v1/live): reconnects with back-off and hands messages to the page in
// batches, at most one batch per animation frame, so 2,000 readings a second cost one DOM update per frame.

import {
  check_session, normalize_command, normalize_reading, normalize_status_change, type CommandRecord, type Reading, type StatusChange,
} from "./api";

export interface LiveBatch {
  readings: Reading[];
  statuses: StatusChange[];
  commands: CommandRecord[];
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
    take_frame(msg, this.pending);
    this.pending.receive_ms += performance.now() - t0;
    if (!this.flush_scheduled) {
      this.flush_scheduled = true;
      // rAF does not run in a hidden tab; the timeout keeps state current there at low cost.
      if (document.hidden) window.setTimeout(() => this.flush(), 1000);
      else requestAnimationFrame(() => this.flush());
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

// Adds a frame's messages to `into`. A frame is a JSON array of messages (docs/api.md, "Live feed");
// anything else is ignored.
export function take_frame(frame: unknown, into: LiveBatch): void {
  if (!Array.isArray(frame)) return;
  for (const msg of frame) {
    if (!msg || typeof msg !== "object") continue;
    const m = msg as Record<string, unknown>;
    if (m.type === "reading") {
      const reading = normalize_reading(m.reading);
      if (reading) into.readings.push(reading);
    } else if (m.type === "status") {
      into.statuses.push(normalize_status_change(m));
    } else if (m.type === "command" && m.command && typeof m.command === "object") {
      into.commands.push(normalize_command(m.command as Record<string, unknown>));
    } else if (m.type === "event" && m.event && typeof m.event === "object") {
      into.events.push(m.event as Record<string, unknown>);
    }
  }
}

export function empty_batch(): LiveBatch {
  return { readings: [], statuses: [], commands: [], events: [], receive_ms: 0 };
}
