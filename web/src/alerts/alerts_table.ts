// A table of alerts (meter page: one meter's; alerts page: the fleet's), rebuilt when the list is
// reloaded. Closed alerts are dimmed; a cleared condition is shown next to the state.

import { ApiError, change_alert, type Alert } from "../api";
import { h, set_text } from "../dom";
import { full_time } from "../format";
import { alert_kind_label, deliveries_text, evidence_text } from "./alert_text";

export interface AlertsTable {
  element: HTMLElement;
  show(alerts: Alert[], empty_text: string): void;
  show_note(text: string): void;
}

// can_act: operators and admins get Acknowledge / Close buttons; on_changed reloads the list after one.
export function alerts_table(opts: { show_meter: boolean; can_act?: boolean; on_changed?: () => void }): AlertsTable {
  const body = h("tbody");
  const note = h("p", { class: "muted alerts-note" });
  const heads = ["Raised", "Kind", ...(opts.show_meter ? ["Meter", "Transformer", "Area"] : []), "State", "Score", "Evidence", "Notified", ...(opts.can_act ? [""] : [])];
  const table = h("table", { class: "alerts" }, h("thead", null, h("tr", null, ...heads.map((t) => h("th", null, t)))), body);
  const action_note = h("p", { class: "muted alerts-action", role: "status", "aria-live": "polite" });
  const element = h("div", null, h("div", { class: "table-wrap" }, table), note, action_note);

  function row(a: Alert): HTMLElement {
    const state = h("span", { class: `badge ${a.state === "closed" ? "" : "alert"}` }, a.state);
    const cleared = a.cleared_ms > 0 ? h("small", { class: "muted" }, ` cleared ${full_time(a.cleared_ms)}`) : null;
    const meter_cells = opts.show_meter ? [
      h("td", null, a.meter_id ? h("a", { href: `#/meter/${encodeURIComponent(a.meter_id)}` }, a.meter_id) : "—"),
      h("td", null, a.transformer_id ? h("a", { href: `#/transformer/${encodeURIComponent(a.transformer_id)}` }, a.transformer_id) : "—"),
      h("td", null, a.area || "—"),
    ] : [];
    return h("tr", { class: a.state === "closed" ? "closed" : "", "data-alert": a.id, "data-state": a.state },
      h("td", null, full_time(a.raised_ms)),
      h("td", null, alert_kind_label(a.kind)),
      ...meter_cells,
      h("td", null, state, cleared),
      h("td", { class: "num" }, a.score === null ? "—" : String(Math.round(a.score * 100) / 100)),
      h("td", { class: "evidence" }, evidence_text(a.evidence)),
      h("td", null, deliveries_text(a.deliveries) || "—"),
      ...(opts.can_act ? [h("td", { class: "alert-actions" },
        a.state === "open" ? action_button(a, "acknowledge", "Acknowledge") : null,
        a.state !== "closed" ? action_button(a, "close", "Close") : null)] : []));
  }

  function action_button(a: Alert, action: "acknowledge" | "close", label: string): HTMLButtonElement {
    const button = h("button", { type: "button", "data-action": action }, label);
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await change_alert(a.id, action);
        set_text(action_note, `Alert ${a.id}: ${action === "close" ? "closed" : "acknowledged"}.`);
        opts.on_changed?.();
      } catch (err) {
        button.disabled = false;
        set_text(action_note, `Could not ${action} alert ${a.id}: ${err instanceof ApiError || err instanceof Error ? err.message : String(err)}`);
      }
    });
    return button;
  }

  return {
    element,
    show(alerts, empty_text) {
      set_text(note, "");
      body.replaceChildren(...(alerts.length === 0
        ? [h("tr", null, h("td", { colspan: String(heads.length), class: "muted" }, empty_text))]
        : alerts.map(row)));
    },
    show_note(text) {
      body.replaceChildren();
      set_text(note, text);
    },
  };
}
