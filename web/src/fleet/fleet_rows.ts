// The fleet list's header and rows: the sortable column titles, and one row's elements created once
// and updated in place (only text that changed is written, badges only when they changed).

import type { MeterSummary } from "../api";
import { h, set_text } from "../dom";
import { fixed, kNoData, kwh, power } from "../format";
import { shows_values, today_import_wh } from "../meter_state";
import { alerts_badge_text, badges_key, badges_of, sort_label, status_text, type SortKey, type ViewOptions } from "./fleet_view";

interface RowParts {
  id: HTMLElement; name: HTMLElement; area: HTMLElement; dot: HTMLElement; status: HTMLElement;
  power: HTMLElement; today: HTMLElement; volts: HTMLElement; badges: HTMLElement; badge_key: string;
}

const parts = new WeakMap<HTMLElement, RowParts>();

export function create_row(): HTMLAnchorElement {
  const row = h("a", { class: "frow", href: "#" });
  const id = h("b"), name = h("small"), area = h("span", { class: "c-area" });
  const dot = h("span", { class: "dot", "aria-hidden": "true" }), status = h("span");
  const pw = h("span", { class: "c-power num" }), today = h("span", { class: "c-today num" });
  const volts = h("span", { class: "c-volts num" }), badges = h("span", { class: "c-badges" });
  row.append(h("span", { class: "c-meter" }, id, name), area, h("span", { class: "c-status" }, dot, status), pw, today, volts, badges);
  parts.set(row, { id, name, area, dot, status, power: pw, today, volts, badges, badge_key: "" });
  return row;
}

export function update_row(row: HTMLElement, m: MeterSummary, now_ms: number): void {
  const p = parts.get(row)!;
  const href = `#/meter/${encodeURIComponent(m.id)}`;
  if (row.getAttribute("href") !== href) row.setAttribute("href", href);
  set_text(p.id, m.id);
  set_text(p.name, m.name || m.owner || "");
  set_text(p.area, m.area);
  if (p.dot.className !== `dot ${m.status}`) p.dot.className = `dot ${m.status}`;
  set_text(p.status, status_text(m, now_ms));
  const r = shows_values(m) ? m.last_reading : null;
  set_text(p.power, r ? power(r.p_w) : kNoData);
  set_text(p.today, kwh(today_import_wh(m)));
  set_text(p.volts, r ? `${fixed(r.vrms, 1)} V` : kNoData);
  const badges = badges_of(m);
  const key = badges_key(badges);
  if (key !== p.badge_key) {
    p.badge_key = key;
    p.badges.replaceChildren(
      ...(badges.tamper ? [h("span", { class: "badge tamper" }, "tamper")] : []),
      ...(badges.alerts_open > 0 ? [h("span", { class: "badge alert" }, alerts_badge_text(badges.alerts_open))] : []),
      ...(badges.relay_off ? [h("span", { class: "badge relay" }, "relay off")] : []));
  }
}

// The column titles; the sortable ones are buttons ("Sort by" group), pressed when active.
export class FleetHeader {
  readonly element: HTMLElement;
  private readonly buttons = new Map<SortKey, HTMLButtonElement>();

  constructor(on_sort: (key: SortKey) => void) {
    const cell = (key: SortKey | null, label: string, cls: string) => {
      if (!key) return h("span", { class: cls, "aria-hidden": "true" }, label);
      const button = h("button", { type: "button", class: "sort", "aria-pressed": "false", onclick: () => on_sort(key) }, label);
      this.buttons.set(key, button);
      return h("span", { class: cls }, button);
    };
    this.element = h("div", { class: "frow fhead", role: "group", "aria-label": "Sort by" },
      cell("id", "Meter", "c-meter"), cell("area", "Area", "c-area"), cell("status", "Status", "c-status"),
      cell("power", "Power", "c-power"), cell("today", "Today", "c-today"), cell(null, "Voltage", "c-volts"),
      cell(null, "Badges", "c-badges"));
  }

  show(o: ViewOptions): void {
    for (const [key, button] of this.buttons) {
      const active = key === o.sort_key;
      button.setAttribute("aria-pressed", String(active));
      button.setAttribute("aria-label", sort_label(button.textContent ?? "", active, o.sort_descending));
      button.dataset.sort = active ? (o.sort_descending ? "desc" : "asc") : "";
    }
  }
}
