// The meter page's "This cycle" card: the running bill so far (kWh, total with its energy, fixed and tax
// parts), where the use stands in the slabs, the tariff, and the cycle's use and projection as a chart.

import { h, set_text } from "../dom";
import { full_time } from "../format";
import type { BillingStatus, Tariff } from "./billing_api";
import { CycleChart } from "./cycle_chart";
import { kwh_amount, kwh_figure, money_text, trim_zeros } from "./money";
import { slab_fill, slab_text } from "./slab_text";

export class CyclePanel {
  readonly element: HTMLElement;
  private readonly chart = new CycleChart();
  private readonly period = h("p", { class: "muted cycle-period" });
  private readonly kwh = h("span", { class: "figure-value num cycle-kwh" });
  private readonly total = h("span", { class: "figure-value num cycle-total" });
  private readonly energy = h("dd", { class: "num cycle-energy" });
  private readonly fixed = h("dd", { class: "num cycle-fixed" });
  private readonly tax = h("dd", { class: "num cycle-tax" });
  private readonly slab = h("p", { class: "slab-text" });
  private readonly slab_meter = h("meter", { class: "slab-meter", min: "0", max: "1", "aria-label": "Use of the current slab" });
  private readonly tariff = h("p", { class: "muted cycle-tariff" });
  private readonly projection = h("p", { class: "cycle-projection" });

  constructor() {
    this.element = h("section", { class: "card cycle-card", "aria-labelledby": "h-cycle" },
      h("h2", { id: "h-cycle" }, "This cycle"),
      this.period,
      h("div", { class: "figures" },
        h("div", { class: "figure" }, h("span", { class: "tile-label" }, "Used so far"), this.kwh),
        h("div", { class: "figure" }, h("span", { class: "tile-label" }, "Bill so far"), this.total,
          h("dl", { class: "breakdown" },
            h("dt", null, "Energy"), this.energy, h("dt", null, "Fixed charge"), this.fixed, h("dt", null, "Tax"), this.tax))),
      h("div", { class: "slab" }, this.slab, this.slab_meter),
      this.chart.element,
      this.projection,
      this.tariff);
  }

  show(s: BillingStatus): void {
    set_text(this.period, `Cycle ${s.cycle.label}: ${full_time(s.cycle.start_ms)} to ${full_time(s.cycle.end_ms)}` +
      (s.covered_to_ms > 0 ? ` · readings up to ${full_time(s.covered_to_ms)}` : ""));
    set_text(this.kwh, `${kwh_figure(s.kwh)} kWh`);
    set_text(this.total, money_text(s.total));
    this.total.dataset.minor = String(s.total?.minor ?? "");
    set_text(this.energy, money_text(s.energy_charge));
    set_text(this.fixed, money_text(s.fixed_charge));
    set_text(this.tax, money_text(s.tax));
    const slab = slab_text(s.kwh, s.slab, s.tariff.currency);
    set_text(this.slab, slab.charAt(0).toUpperCase() + slab.slice(1));
    const fill = slab_fill(s.kwh, s.slab);
    this.slab_meter.hidden = fill === null;
    this.slab_meter.value = fill ?? 0;
    this.slab_meter.setAttribute("aria-valuetext", slab);
    set_text(this.tariff, tariff_text(s.tariff));
    set_text(this.projection, projection_text(s));
    this.projection.dataset.method = s.projection?.method ?? "none";
    this.chart.show(s);
  }

  destroy(): void {
    this.chart.destroy();
  }
}

export function tariff_text(t: Tariff): string {
  const tod = t.tod.map((w) => `${w.window} ×${w.factor}`).join(", ");
  return `Tariff ${t.version} (${t.slab_mode}, ${t.cycle}, ${t.currency}, UTC${t.time_zone}` +
    `${t.tax_percent && Number(t.tax_percent) !== 0 ? `, tax ${trim_zeros(t.tax_percent)} %` : ""})${tod ? ` · time-of-day ${tod}` : ""}`;
}

function projection_text(s: BillingStatus): string {
  const p = s.projection;
  if (!p) return "No projection yet: it needs at least a day of this meter's history.";
  const kwh = `${kwh_amount(p.cycle_end_kwh.p50, 1)} kWh`;
  const money = money_text(p.cycle_end_total.p50);
  if (p.method === "recent_mean") {
    return `By the cycle's end: about ${kwh} and ${money} (projection: your average of the last 7 days).`;
  }
  const { p10, p90 } = p.cycle_end_kwh;
  const range = p10 !== null && p90 !== null ? ` (likely ${kwh_amount(p10, 1)} to ${kwh_amount(p90, 1)} kWh` +
    (p.cycle_end_total.p10 && p.cycle_end_total.p90
      ? `, ${money_text(p.cycle_end_total.p10)} to ${money_text(p.cycle_end_total.p90)})` : ")") : "";
  return `By the cycle's end: about ${kwh} and ${money}${range} (forecast from this meter's history).`;
}
