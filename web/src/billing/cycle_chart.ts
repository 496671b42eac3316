// The cycle's use as a chart (uPlot): cumulative kWh so far (solid), the projection to the cycle's end
// (dashed p50, with the p10-p90 band shaded when the server has a real interval), and the tariff's slab
// bounds as horizontal lines, so a household sees when it will cross into a dearer slab.

import uPlot from "uplot";
import { h } from "../dom";
import { day_label } from "../format";
import { chart_theme, dark_query } from "../meter/chart_theme";
import { cycle_series, kwh_scale_max, type CycleSeries } from "./cycle_series";
import type { BillingStatus } from "./billing_api";
import { kwh_amount } from "./money";

export class CycleChart {
  readonly element: HTMLDivElement;
  private plot: uPlot | null = null;
  private status: BillingStatus | null = null;
  private series: CycleSeries | null = null;
  private bounds: number[] = [];
  private readonly resize: ResizeObserver;
  private readonly on_scheme = () => this.rebuild();

  constructor() {
    this.element = h("div", {
      class: "cycle-chart", role: "img",
      "aria-label": "This cycle's cumulative use in kWh, its projection to the cycle's end and the slab bounds",
    });
    this.resize = new ResizeObserver(() => {
      if (this.plot) this.plot.setSize(this.size());
    });
    this.resize.observe(this.element);
    dark_query.addEventListener("change", this.on_scheme);
  }

  show(status: BillingStatus): void {
    const had = this.kind;
    this.status = status;
    this.series = cycle_series(status.used, status.projection?.daily ?? null, status.projection?.method === "forecast");
    this.bounds = status.tariff.slabs.map((s) => s.upto_kwh).filter((b): b is number => b !== null);
    // A band is another set of series, and the projection's kind names one: a new plot.
    if (this.plot && had !== this.kind) this.rebuild();
    // Both scales come from range functions (the cycle, the kWh top), which setData runs again.
    else if (this.plot) this.plot.setData(this.columns());
    else this.rebuild();
    this.element.dataset.points = String(status.used.length);
    this.element.dataset.projected = String(status.projection?.daily.length ?? 0);
  }

  private get kind(): string {
    return `${this.status?.projection?.method ?? "none"}/${this.series?.banded ?? false}`;
  }

  destroy(): void {
    this.resize.disconnect();
    dark_query.removeEventListener("change", this.on_scheme);
    this.plot?.destroy();
    this.plot = null;
  }

  private columns(): uPlot.AlignedData {
    const s = this.series!;
    return (s.banded ? [s.x, s.used, s.p50, s.p10, s.p90] : [s.x, s.used, s.p50]) as uPlot.AlignedData;
  }

  private size(): { width: number; height: number } {
    const width = Math.max(200, this.element.clientWidth);
    return { width, height: Math.max(180, Math.min(280, Math.round(width * 0.4))) };
  }

  private rebuild(): void {
    this.plot?.destroy();
    this.plot = null;
    if (!this.status || !this.series) return;
    this.plot = new uPlot(this.options(), this.columns(), this.element);
  }

  private options(): uPlot.Options {
    const theme = chart_theme();
    const status = this.status!;
    const s = this.series!;
    const axis = { stroke: theme.text, grid: { stroke: theme.grid, width: 1 }, ticks: { stroke: theme.grid, width: 1 } };
    const kwh_value = (_u: uPlot, v: number | null) => (v === null ? "–" : `${kwh_amount(v, 1)} kWh`);
    const series: uPlot.Series[] = [
      {},
      { label: "Used", stroke: theme.line, width: 2, value: kwh_value },
      {
        label: !status.projection ? "Projected" : status.projection.method === "forecast" ? "Projected (median)" : "Projected (7-day average)",
        stroke: theme.line, width: 1.5, dash: [6, 5], value: kwh_value,
      },
    ];
    const bands: uPlot.Band[] = [];
    if (s.banded) {
      series.push({ label: "p10", stroke: "transparent", width: 0, value: kwh_value });
      series.push({ label: "p90", stroke: "transparent", width: 0, value: kwh_value });
      bands.push({ series: [4, 3], fill: theme.band });
    }
    return {
      ...this.size(),
      scales: {
        x: { time: true, range: () => [(this.status?.cycle.start_ms ?? 0) / 1000, (this.status?.cycle.end_ms ?? 0) / 1000] },
        y: { range: () => [0, kwh_scale_max(this.series?.max_kwh ?? 0, this.bounds)] },
      },
      series,
      bands,
      axes: [
        { ...axis, values: (_u, ticks) => ticks.map((t) => day_label(t * 1000)) },
        { ...axis, label: "kWh", size: 60 },
      ],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      hooks: { draw: [(u) => this.draw_bounds(u, theme.text)] },
    };
  }

  // Slab bounds inside the visible kWh range, as labelled horizontal lines.
  private draw_bounds(u: uPlot, colour: string): void {
    const ctx = u.ctx;
    const top = u.scales.y.max ?? 0;
    ctx.save();
    ctx.strokeStyle = colour;
    ctx.fillStyle = colour;
    ctx.lineWidth = Math.max(1, devicePixelRatio);
    ctx.setLineDash([2 * devicePixelRatio, 3 * devicePixelRatio]);
    ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
    ctx.textAlign = "right";
    // Highest first: when bounds crowd together (a big user's 100/300/500 kWh on a 15,000 kWh scale) the
    // highest keeps its label and the ones too close below it go without.
    let last_label_y = -Infinity;
    for (const b of [...this.bounds].sort((x, y) => y - x)) {
      if (b > top) continue;
      const y = Math.round(u.valToPos(b, "y", true));
      ctx.beginPath();
      ctx.moveTo(u.bbox.left, y);
      ctx.lineTo(u.bbox.left + u.bbox.width, y);
      ctx.stroke();
      if (y - last_label_y < 14 * devicePixelRatio) continue;
      ctx.fillText(`slab bound ${kwh_amount(b)} kWh`, u.bbox.left + u.bbox.width - 4, y - 3 * devicePixelRatio);
      last_label_y = y;
    }
    ctx.restore();
    this.element.dataset.drawn = String(Number(this.element.dataset.drawn ?? 0) + 1);
  }
}
