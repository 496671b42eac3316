// Alerts page (operators, admins): the fleet's alerts that need someone (open or acknowledged), or
// any state, with kind and area filters; each alert links to its meter. Reloaded every 15 s.

import { list_alerts, type Alert, type AlertState } from "../api";
import { h, set_text } from "../dom";
import { alerts_table } from "../alerts/alerts_table";
import { alert_kind_label } from "../alerts/alert_text";

type StateChoice = "active" | AlertState | "all";
const kReloadMs = 15_000;
const kLimit = 1000;

export function mount_alerts_page(root: HTMLElement): () => void {
  let closed = false;
  let alerts: Alert[] = [];
  let state: StateChoice = "active";
  let kind = "";
  let area = "";
  const counts_el = h("p", { class: "alerts-counts", "aria-live": "polite" }, "loading alerts…");
  const table = alerts_table({ show_meter: true, can_act: true, on_changed: () => void load() });
  const state_el = h("select", { "aria-label": "State", onchange: () => { state = state_el.value as StateChoice; void load(); } },
    ...([["active", "Open and acknowledged"], ["open", "Open"], ["acknowledged", "Acknowledged"], ["closed", "Closed"], ["all", "All"]] as const)
      .map(([v, label]) => h("option", { value: v }, label)));
  const kind_el = h("select", { "aria-label": "Kind", onchange: () => { kind = kind_el.value; render(); } });
  const area_el = h("select", { "aria-label": "Area", onchange: () => { area = area_el.value; render(); } });

  const toolbar = h("div", { class: "toolbar" }, state_el, kind_el, area_el);
  root.replaceChildren(h("section", { class: "page alerts-page" },
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "← Fleet")),
    h("h1", null, "Alerts"),
    counts_el,
    toolbar,
    h("section", { class: "card" }, table.element)));

  function options(el: HTMLSelectElement, all_label: string, values: string[], label: (v: string) => string, current: string): void {
    const key = `#${values.join("\u0000")}`;
    if (el.dataset.key !== key) {
      el.dataset.key = key;
      el.replaceChildren(h("option", { value: "" }, all_label), ...values.map((v) => h("option", { value: v }, label(v))));
    }
    el.value = values.includes(current) ? current : "";
  }

  function render(): void {
    const kinds = [...new Set(alerts.map((a) => a.kind))].sort();
    const areas = [...new Set(alerts.map((a) => a.area).filter(Boolean))].sort();
    options(kind_el, "All kinds", kinds, alert_kind_label, kind);
    options(area_el, "All areas", areas, (v) => v, area);
    kind = kind_el.value;
    area = area_el.value;
    const shown = alerts.filter((a) => (!kind || a.kind === kind) && (!area || a.area === area));
    const meters = new Set(shown.map((a) => a.meter_id).filter(Boolean)).size;
    set_text(counts_el, `${shown.length} alert${shown.length === 1 ? "" : "s"} on ${meters} meter${meters === 1 ? "" : "s"}` +
      (alerts.length >= kLimit ? ` (the newest ${kLimit} of each state)` : ""));
    table.show(shown, state === "active" ? "No open alerts." : "No alerts.");
  }

  options(kind_el, "All kinds", [], alert_kind_label, "");
  options(area_el, "All areas", [], (v) => v, "");

  let timer = 0;
  async function load(): Promise<void> {
    window.clearTimeout(timer);
    try {
      const wanted: (AlertState | undefined)[] = state === "active" ? ["open", "acknowledged"] : state === "all" ? [undefined] : [state];
      const lists = await Promise.all(wanted.map((s) => list_alerts({ state: s, limit: kLimit })));
      if (closed) return;
      if (lists.some((l) => l === null)) {
        set_text(counts_el, "");
        toolbar.hidden = true;
        table.show_note("This server does not provide alerts yet.");
        return;  // no route: no polling either
      }
      alerts = lists.flatMap((l) => l ?? []).sort((a, b) => b.raised_ms - a.raised_ms);
      render();
    } catch (err) {
      if (closed) return;
      set_text(counts_el, `Could not load alerts: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!closed) timer = window.setTimeout(() => void load(), kReloadMs);
  }

  void load();
  return () => {
    closed = true;
    window.clearTimeout(timer);
  };
}
