// Billing summary (operators, admins): the cycle in progress per area, from GET /api/v1/billing/summary:
// meters, how many are billed, kWh, the running total, prepaid meters, their balance, how many are in
// debt and how many the server disconnected for lack of credit.

import { billing_summary, is_off, type AreaSummary } from "../billing/billing_api";
import { kwh_amount, money_text } from "../billing/money";
import { h, set_text } from "../dom";

const kReloadMs = 60_000;

export function mount_billing_page(root: HTMLElement): () => void {
  let closed = false;
  let timer = 0;
  const body = h("tbody");
  const note = h("p", { class: "muted billing-summary-note", "aria-live": "polite" }, "loading…");
  const heads: [string, boolean][] = [["Area", false], ["Meters", true], ["Billed", true], ["kWh this cycle", true],
    ["Running total", true], ["Prepaid", true], ["Prepaid balance", true], ["In debt", true], ["Disconnected", true]];
  root.replaceChildren(h("section", { class: "page billing-page" },
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "← Fleet")),
    h("h1", null, "Billing"),
    h("p", { class: "muted" }, "The cycle in progress, per area. Each meter's running bill is computed when this page asks."),
    h("section", { class: "card" }, h("div", { class: "table-wrap" }, h("table", { class: "billing-summary" },
      h("thead", null, h("tr", null, ...heads.map(([t, right]) => h("th", { scope: "col", class: right ? "r" : null }, t)))),
      body)), note)));

  function row(a: AreaSummary): HTMLTableRowElement {
    const n = (v: number) => h("td", { class: "num r" }, String(v));
    return h("tr", { "data-area": a.area },
      h("th", { scope: "row" }, a.area || "(no area)"),
      n(a.meters), n(a.billed),
      h("td", { class: "num r" }, kwh_amount(a.kwh, 1)),
      h("td", { class: "num r running-total" }, a.running_total ? money_text(a.running_total) : "—"),
      n(a.prepaid),
      h("td", { class: `num r${a.prepaid_balance && a.prepaid_balance.minor < 0 ? " negative" : ""}` },
        a.prepaid > 0 && a.prepaid_balance ? money_text(a.prepaid_balance) : "—"),
      h("td", { class: `num r${a.in_debt > 0 ? " negative" : ""}` }, String(a.in_debt)),
      h("td", { class: `num r${a.disconnected > 0 ? " negative" : ""}` }, String(a.disconnected)));
  }

  async function load(): Promise<void> {
    try {
      const areas = await billing_summary();
      if (closed) return;
      if (is_off(areas)) {
        body.replaceChildren();
        set_text(note, "Billing is not configured on this server (no tariffs).");
        return;
      }
      body.replaceChildren(...areas.map(row));
      set_text(note, areas.length === 0 ? "No meters." : `${areas.length} area${areas.length === 1 ? "" : "s"}.`);
    } catch (err) {
      if (closed) return;
      set_text(note, `Could not load the billing summary: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!closed) timer = window.setTimeout(() => void load(), kReloadMs);
  }

  void load();
  return () => {
    closed = true;
    window.clearTimeout(timer);
  };
}
