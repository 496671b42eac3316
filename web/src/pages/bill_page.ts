// Printable bill page (#/bill/<meter>/<YYYY-MM>): every slab line, the fixed charge, tax and total, whether
// the bill is issued or the running bill of a cycle not yet closed, a Print button (print CSS hides the
// dashboard around it) and the server's CSV of the same bill.

import { ApiError } from "../api";
import { bill_csv_url, get_bill, list_tariffs, type Bill, type BillDocument, type Tariff } from "../billing/billing_api";
import { line_window, slab_range_text } from "../billing/bill_lines";
import { amount_text, decimal_text, rate_text, trim_zeros } from "../billing/money";
import { h } from "../dom";
import { full_time } from "../format";

export function mount_bill_page(root: HTMLElement, meter_id: string, cycle: string): () => void {
  let closed = false;
  const back = h("p", { class: "crumbs" }, h("a", { href: `#/meter/${encodeURIComponent(meter_id)}` }, `← Meter ${meter_id}`));
  root.replaceChildren(h("section", { class: "page bill-page" }, back,
    h("h1", null, `Bill of ${cycle}`), h("p", { class: "muted" }, "loading…")));

  Promise.all([get_bill(meter_id, cycle), list_tariffs().catch(() => [] as Tariff[])]).then(([doc, tariffs]) => {
    if (closed) return;
    const tariff = tariffs.find((t) => t.version === doc.tariff_version) ?? null;
    root.replaceChildren(h("section", { class: "page bill-page" }, back, bill_view(meter_id, cycle, doc, tariff)));
  }).catch((err) => {
    if (closed) return;
    const text = err instanceof ApiError && err.status === 404 && err.code === "meter_not_found"
      ? `Meter ${meter_id} does not exist or is not yours.`
      : `Could not load the bill of ${cycle}: ${err instanceof Error ? err.message : String(err)}`;
    root.replaceChildren(h("section", { class: "page bill-page" }, back,
      h("h1", null, `Bill of ${cycle}`), h("p", { class: "error", role: "alert" }, text)));
  });
  return () => { closed = true; };
}

function bill_view(meter_id: string, cycle: string, doc: BillDocument, tariff: Tariff | null): HTMLElement {
  const b = doc.bill;
  const money = (text: string) => amount_text(b.currency, text);
  const state = doc.issued ? "Issued" : "Running bill (cycle not closed)";
  return h("article", { class: "bill", "data-issued": doc.issued ? "true" : "false" },
    h("div", { class: "page-head" },
      h("h1", null, `Bill of ${b.cycle || cycle}`, h("small", null, ` meter ${b.meter || meter_id}`)),
      h("div", { class: "bill-actions" },
        h("button", { type: "button", onclick: () => window.print() }, "Print"),
        h("a", { href: bill_csv_url(meter_id, cycle), download: `bill-${meter_id}-${cycle}.csv`, class: "csv-link" }, "Download CSV"))),
    h("p", { class: "bill-state" }, h("span", { class: `badge ${doc.issued ? "" : "alert"}` }, state)),
    h("p", { class: "muted bill-tariff" }, `Tariff ${doc.tariff_version || b.tariff}` +
      (tariff ? ` (${tariff.slab_mode}, ${tariff.currency}, cycle ${tariff.cycle}, UTC${tariff.time_zone})` : "")),
    h("div", { class: "table-wrap" }, h("table", { class: "bill-lines" },
      h("caption", { class: "sr-only" }, `Bill lines of meter ${b.meter || meter_id} for ${b.cycle || cycle}`),
      h("thead", null, h("tr", null,
        h("th", { scope: "col" }, "Slab"), h("th", { scope: "col" }, "Time of day"), h("th", { scope: "col", class: "r" }, "kWh"),
        h("th", { scope: "col", class: "r" }, "Rate"), h("th", { scope: "col", class: "r" }, "Amount"))),
      h("tbody", null, b.lines.length === 0
        ? h("tr", null, h("td", { colspan: "5", class: "muted" }, "No energy used in this cycle."))
        : b.lines.map((l) => h("tr", { class: "bill-line" },
          h("td", null, slab_range_text(l)),
          h("td", null, line_window(l, tariff) || "—"),
          h("td", { class: "num r" }, decimal_text(l.kwh)),
          h("td", { class: "num r" }, rate_text(b.currency, l.rate)),
          h("td", { class: "num r line-amount" }, money(l.amount))))),
      h("tfoot", null, totals(b, tariff).map(([label, kwh, amount, cls]) => h("tr", { class: cls },
        h("th", { scope: "row", colspan: "2" }, label), h("td", { class: "num r" }, kwh), h("td", null, ""),
        h("td", { class: "num r" }, money(amount))))))),
    h("p", { class: "muted bill-printed" }, `Printed from wattguard on ${full_time(Date.now())}.`));
}

function totals(b: Bill, tariff: Tariff | null): [string, string, string, string][] {
  const tax = tariff?.tax_percent ? `Tax ${trim_zeros(tariff.tax_percent)} %` : "Tax";
  return [
    ["Energy charge", decimal_text(b.kwh), b.energy_charge, "bill-energy"],
    ["Fixed charge", "", b.fixed_charge, "bill-fixed"],
    [tax, "", b.tax, "bill-tax"],
    ["Total", "", b.total, "bill-total"],
  ];
}
