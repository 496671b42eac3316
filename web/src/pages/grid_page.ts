// Grid page (operators, admins): every transformer with its energy balance in plain words, what needs
// someone first (alarms, then transformers whose balance cannot be evaluated), each linking to its page
// with the evidence. Reloaded every minute (the analysis runs every 15).

import { h, set_text } from "../dom";
import { balance_state, balance_text, kBalanceRank } from "../grid/balance_text";
import { list_transformer_rows, type TransformerRow } from "../grid/grid_api";

const kReloadMs = 60_000;

export function sort_for_attention(rows: TransformerRow[]): TransformerRow[] {
  return [...rows].sort((a, b) =>
    kBalanceRank[balance_state(a.analysis)] - kBalanceRank[balance_state(b.analysis)] ||
    (b.analysis?.loss_share ?? 0) - (a.analysis?.loss_share ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export function mount_grid_page(root: HTMLElement): () => void {
  let closed = false;
  let timer = 0;
  const counts_el = h("p", { class: "grid-counts", "aria-live": "polite" }, "loading transformers…");
  const body = h("tbody");
  root.replaceChildren(h("section", { class: "page grid-page" },
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "← Fleet")),
    h("h1", null, "Grid"),
    counts_el,
    h("section", { class: "card" }, h("div", { class: "table-wrap" }, h("table", { class: "transformers" },
      h("thead", null, h("tr", null, ...["Transformer", "Area", "Consumers", "Balance", "Top suspect"].map((t) => h("th", null, t)))),
      body)))));

  async function load(): Promise<void> {
    try {
      const rows = await list_transformer_rows();
      if (closed) return;
      if (rows === null) {
        set_text(counts_el, "This server has no grid model (or you may not see it).");
        body.replaceChildren();
        return;
      }
      const sorted = sort_for_attention(rows);
      const alarms = rows.filter((r) => balance_state(r.analysis) === "alarm").length;
      set_text(counts_el, `${rows.length} transformer${rows.length === 1 ? "" : "s"}, ${alarms} with an energy balance alarm`);
      body.replaceChildren(...(sorted.length === 0
        ? [h("tr", null, h("td", { colspan: "5", class: "muted" }, "No transformers: import a topology (docs/grid.md)."))]
        : sorted.map(row)));
    } catch (err) {
      if (!closed) set_text(counts_el, `Could not load the transformers: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      if (!closed) timer = window.setTimeout(() => void load(), kReloadMs);
    }
  }

  function row(t: TransformerRow): HTMLElement {
    const state = balance_state(t.analysis);
    const top = t.analysis?.suspects[0];
    return h("tr", { "data-transformer": t.id, "data-state": state },
      h("td", null, h("a", { href: `#/transformer/${encodeURIComponent(t.id)}` }, t.id), t.name ? h("small", { class: "muted" }, ` ${t.name}`) : null),
      h("td", null, t.area || "—"),
      h("td", { class: "num" }, String(t.consumer_count)),
      h("td", { class: "balance" }, state === "alarm" ? h("span", { class: "badge alert" }, "alarm") : null, " ", balance_text(t.analysis)),
      h("td", null, top ? [h("a", { href: `#/meter/${encodeURIComponent(top.meter)}` }, top.meter),
        top.flagged ? h("span", { class: "badge tamper" }, " flagged") : null] : "—"));
  }

  void load();
  return () => {
    closed = true;
    window.clearTimeout(timer);
  };
}
