// The meter page's "Notices" card: what the server told (or tried to tell) the consumer about this meter's
// use, bills and credit, newest first, with where each was sent.

import { h, set_text } from "../dom";
import { full_time } from "../format";
import { get_notices, type Notice } from "./billing_api";

const kShown = 20;

export class NoticesList {
  readonly element: HTMLElement;
  private readonly body = h("tbody");
  private readonly note = h("p", { class: "muted notices-note" });

  constructor(private readonly meter_id: string) {
    this.element = h("section", { class: "card notices-card", "aria-labelledby": "h-notices" },
      h("h2", { id: "h-notices" }, "Notices"),
      h("div", { class: "table-wrap" }, h("table", { class: "notices" },
        h("thead", null, h("tr", null, h("th", { scope: "col" }, "Time"), h("th", { scope: "col" }, "Notice"),
          h("th", { scope: "col" }, "Message"), h("th", { scope: "col" }, "Sent to"))),
        this.body)),
      this.note);
  }

  async load(): Promise<void> {
    try {
      const notices = await get_notices(this.meter_id);
      const shown = notices.slice(0, kShown);
      this.body.replaceChildren(...shown.map(row));
      set_text(this.note, notices.length === 0 ? "No notices yet." : notices.length > kShown ? `The newest ${kShown} of ${notices.length}.` : "");
    } catch (err) {
      set_text(this.note, `Could not load the notices: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

function row(n: Notice): HTMLTableRowElement {
  const sent = n.deliveries.map((d) => `${d.notifier}: ${d.state}${d.attempts > 1 ? ` (${d.attempts} attempts)` : ""}`).join(", ");
  return h("tr", { "data-kind": n.kind },
    h("td", null, full_time(n.time_ms)),
    h("td", null, `${n.kind.replace(/_/g, " ")}${n.threshold ? ` (${n.threshold})` : ""}`),
    h("td", null, n.text),
    h("td", null, sent || "not sent (no phone or webhook)"));
}
