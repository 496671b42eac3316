// Relay control: a confirmation dialog, then the command's life shown as it happens (sent, acknowledged,
// failed, timed out). A command is only shown as done when the meter acknowledged it.

import { ApiError, get_command, send_command, type CommandRecord, type RelayState } from "../api";
import { h, set_text } from "../dom";
import { clock_time } from "../format";

const kPollMs = 500;
// The server times out unacknowledged commands itself (30 s by default); this only guards against a
// server that never says so.
const kGiveUpMs = 60_000;

export class RelayControl {
  readonly element: HTMLElement;
  private readonly state_el: HTMLElement;
  private readonly result_el: HTMLElement;
  private readonly off_button: HTMLButtonElement;
  private readonly on_button: HTMLButtonElement;
  private readonly dialog: HTMLDialogElement;
  private readonly dialog_text: HTMLElement;
  private pending_kind: "relay_off" | "relay_on" | null = null;
  private active: { id: string; started_ms: number } | null = null;
  private poll_timer = 0;
  private relay: RelayState = "unknown";

  // `on_relay`: the meter acknowledged a command and reported its relay state (the page's own copy
  // of the meter state must follow, or its next refresh would show the old state).
  constructor(private readonly meter_id: string, can_command: boolean, private readonly on_relay: (relay: RelayState) => void) {
    this.state_el = h("strong", { class: "relay-state" }, "unknown");
    this.result_el = h("p", { class: "command-result", role: "status", "aria-live": "polite" });
    this.off_button = h("button", { type: "button", class: "danger", onclick: () => this.ask("relay_off") }, "Turn supply off…");
    this.on_button = h("button", { type: "button", onclick: () => this.ask("relay_on") }, "Turn supply on…");
    this.dialog_text = h("p");
    const confirm_button = h("button", { type: "submit", class: "danger", value: "confirm" }, "Confirm");
    this.dialog = h("dialog", { class: "confirm", "aria-labelledby": `relay-dialog-title` },
      h("form", { method: "dialog" },
        h("h2", { id: "relay-dialog-title" }, "Confirm relay command"),
        this.dialog_text,
        h("div", { class: "dialog-buttons" },
          h("button", { type: "submit", value: "cancel", autofocus: true }, "Cancel"),
          confirm_button)));
    this.dialog.addEventListener("close", () => {
      if (this.dialog.returnValue === "confirm" && this.pending_kind) void this.send(this.pending_kind);
      this.pending_kind = null;
    });
    this.element = h("div", { class: "relay" },
      h("p", null, "Supply relay: ", this.state_el),
      can_command ? h("div", { class: "relay-buttons" }, this.off_button, this.on_button)
        : h("p", { class: "muted" }, "Only operators can switch the relay."),
      this.result_el, this.dialog);
  }

  // A transformer's check meter measures the feeder and has no supply relay (the API refuses relay
  // commands to it): the card says so instead of offering switches that could only fail.
  show_no_relay(transformer: string): void {
    this.element.replaceChildren(h("p", { class: "muted no-relay" },
      `This is the check meter of transformer ${transformer}: it measures the whole feeder and has no supply relay. ` +
      "Switch a consumer's meter instead."));
  }

  destroy(): void {
    window.clearTimeout(this.poll_timer);
    if (this.dialog.open) this.dialog.close();
  }

  set_relay(relay: RelayState): void {
    this.relay = relay;
    set_text(this.state_el, relay === "on" ? "on (closed)" : relay === "off" ? "off (open)" : "unknown");
    this.state_el.dataset.relay = relay;
  }

  // A command update pushed on the live feed.
  update_from_live(c: { id: string; state: string; message: string; relay: RelayState }): void {
    if (this.active && c.id === this.active.id) this.show({ ...empty_record(), ...c, state: c.state as CommandRecord["state"] });
  }

  private ask(kind: "relay_off" | "relay_on"): void {
    this.pending_kind = kind;
    set_text(this.dialog_text, kind === "relay_off"
      ? `Open the relay of meter ${this.meter_id}? The consumer loses power until it is turned on again.`
      : `Close the relay of meter ${this.meter_id} and restore the supply?`);
    this.dialog.returnValue = "";
    this.dialog.showModal();
  }

  private async send(kind: "relay_off" | "relay_on"): Promise<void> {
    window.clearTimeout(this.poll_timer);
    this.set_busy(true);
    this.result_el.dataset.state = "pending";
    set_text(this.result_el, `${label(kind)}: sending…`);
    try {
      const record = await send_command(this.meter_id, kind);
      this.active = { id: record.id, started_ms: Date.now() };
      this.show({ ...record, kind });
    } catch (err) {
      this.active = null;
      this.set_busy(false);
      this.result_el.dataset.state = "failed";
      const why = err instanceof ApiError ? err.message || err.code : String(err);
      set_text(this.result_el, `${label(kind)}: failed: ${why}`);
    }
  }

  private show(record: CommandRecord): void {
    if (!this.active) return;
    const kind = record.kind || "command";
    this.result_el.dataset.state = record.state;
    switch (record.state) {
      case "pending":
      case "sent":
        set_text(this.result_el, `${label(kind)}: ${record.state === "sent" ? "sent to the meter" : "queued"}, waiting for its acknowledgement…`);
        if (Date.now() - this.active.started_ms > kGiveUpMs) {
          this.finish();
          this.result_el.dataset.state = "timed_out";
          set_text(this.result_el, `${label(kind)}: timed out, no answer from the server. Not done.`);
          return;
        }
        window.clearTimeout(this.poll_timer);
        this.poll_timer = window.setTimeout(() => void this.poll(kind), kPollMs);
        return;
      case "acked":
        this.finish();
        if (record.relay !== "unknown") {
          this.set_relay(record.relay);
          this.on_relay(record.relay);
        }
        set_text(this.result_el, `${label(kind)}: acknowledged by the meter at ${clock_time(record.updated_ms || Date.now())}` +
          (record.relay !== "unknown" ? `; relay is ${record.relay}.` : "."));
        return;
      case "failed":
        this.finish();
        set_text(this.result_el, `${label(kind)}: failed${record.message ? `: ${record.message}` : ""}. Not done.`);
        return;
      case "timed_out":
        this.finish();
        set_text(this.result_el, `${label(kind)}: timed out, the meter did not answer. Not done.`);
        return;
    }
  }

  private async poll(kind: string): Promise<void> {
    if (!this.active) return;
    try {
      const record = await get_command(this.meter_id, this.active.id);
      this.show({ ...record, kind: record.kind || kind });
    } catch {
      // A failed poll is retried; the give-up time still applies.
      this.show({ ...empty_record(), id: this.active.id, kind, state: "sent" });
    }
  }

  private finish(): void {
    window.clearTimeout(this.poll_timer);
    this.active = null;
    this.set_busy(false);
  }

  private set_busy(busy: boolean): void {
    this.off_button.disabled = busy;
    this.on_button.disabled = busy;
    if (!busy) this.set_relay(this.relay);
  }
}

function label(kind: string): string {
  return kind === "relay_off" ? "Relay off" : kind === "relay_on" ? "Relay on" : kind;
}

function empty_record(): CommandRecord {
  return { id: "", meter_id: "", kind: "", state: "pending", message: "", relay: "unknown", created_ms: 0, updated_ms: 0 };
}
