// The meter page's "Bills" card: issued bills, newest first, each linking to its printable page, and a link
// to the running bill of the cycle in progress.

import { h, set_text } from "../dom";
import { full_time } from "../format";
import { bill_page_href, list_bills, is_off, type StoredBill } from "./billing_api";
import { amount_text, decimal_text } from "./money";

export class BillHistory {
  readonly element: HTMLElement;
  private readonly body = h("tbody");
  private readonly running = h("p", { class: "running-bill" });
  private readonly note = h("p", { class: "muted bills-note" });

  constructor(private readonly meter_id: string) {
    this.element = h("section", { class: "card bills-card", "aria-labelledby": "h-bills" },
      h("h2", { id: "h-bills" }, "Bills"),
      this.running,
      h("div", { class: "table-wrap" }, h("table", { class: "bills" },
        h("thead", null, h("tr", null,
          h("th", { scope: "col" }, "Cycle"), h("th", { scope: "col", class: "r" }, "kWh"), h("th", { scope: "col", class: "r" }, "Total"),
          h("th", { scope: "col" }, "Tariff version"), h("th", { scope: "col" }, "Issued"), h("th", { scope: "col" }, "Bill"))),
        this.body)),
      this.note);
  }

  // The cycle in progress, for the running bill's link.
  set_running_cycle(cycle: string): void {
    if (this.running.dataset.cycle === cycle) return;
    this.running.dataset.cycle = cycle;
    this.running.replaceChildren(h("a", { href: bill_page_href(this.meter_id, cycle), class: "running-bill-link" },
      `Running bill of ${cycle} (cycle not closed)`));
  }

  async load(): Promise<void> {
    try {
      const bills = await list_bills(this.meter_id);
      if (is_off(bills)) {
        this.body.replaceChildren();
        set_text(this.note, "No bills: this meter is not billed.");
        return;
      }
      this.body.replaceChildren(...bills.map((b) => this.row(b)));
      set_text(this.note, bills.length === 0 ? "No bill has been issued yet: a cycle's bill is issued an hour after it ends." : "");
    } catch (err) {
      set_text(this.note, `Could not load the bills: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private row(b: StoredBill): HTMLTableRowElement {
    return h("tr", { "data-cycle": b.cycle },
      h("td", null, b.cycle),
      h("td", { class: "num r" }, decimal_text(b.bill.kwh)),
      h("td", { class: "num r" }, amount_text(b.bill.currency, b.bill.total)),
      h("td", null, b.tariff_version),
      h("td", null, b.issued_ms > 0 ? full_time(b.issued_ms) : ""),
      h("td", null, h("a", { href: bill_page_href(this.meter_id, b.cycle), "aria-label": `Bill of ${b.cycle}` }, "View and print")));
  }
}
