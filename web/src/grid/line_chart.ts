// A small line chart (uPlot) for the grid pages: named series on a time axis, optional shaded bands
// between two series, colours from the page's CSS (light and dark), resized with its box. Gaps (null)
// stay gaps. `data-drawn` counts paints, for tests and the perf probe.

import uPlot from "uplot";
import { h } from "../dom";
import { chart_theme, dark_query } from "../meter/chart_theme";

export interface LineSeries {
  label: string;
  values: (number | null)[];
  colour: string;   // a CSS custom property ("--accent") or a colour
  width?: number;
  dash?: number[];
  hidden_in_legend?: boolean;
}

export interface LineChartData {
  x_ms: number[];
  series: LineSeries[];
  bands?: [number, number][];  // [upper, lower] indexes into series: the area between is shaded
  unit: string;
  digits: number;
}

function css_colour(name: string): string {
  if (!name.startsWith("--")) return name;
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

export class LineChart {
  readonly element: HTMLDivElement;
  private plot: uPlot | null = null;
  private data: LineChartData | null = null;
  private readonly resize: ResizeObserver;
  private readonly on_scheme = () => this.rebuild();

  constructor(cls: string, aria_label: string, private readonly aspect = 0.35, private readonly max_height = 300) {
    this.element = h("div", { class: `line-chart ${cls}`, role: "img", "aria-label": aria_label });
    this.resize = new ResizeObserver(() => {
      if (this.plot) this.plot.setSize(this.size());
    });
    this.resize.observe(this.element);
    dark_query.addEventListener("change", this.on_scheme);
  }

  show(data: LineChartData): void {
    this.data = data;
    this.element.dataset.points = String(data.x_ms.length);
    this.rebuild();
  }

  destroy(): void {
    this.resize.disconnect();
    dark_query.removeEventListener("change", this.on_scheme);
    this.plot?.destroy();
    this.plot = null;
  }

  private size(): { width: number; height: number } {
    const width = Math.max(200, this.element.clientWidth);
    return { width, height: Math.max(140, Math.min(this.max_height, Math.round(width * this.aspect))) };
  }

  private rebuild(): void {
    this.plot?.destroy();
    this.plot = null;
    const d = this.data;
    if (!d) return;
    const theme = chart_theme();
    const axis = { stroke: theme.text, grid: { stroke: theme.grid, width: 1 }, ticks: { stroke: theme.grid, width: 1 } };
    const value = (_u: uPlot, v: number | null) => (v === null || v === undefined ? "–" : `${v.toFixed(d.digits)} ${d.unit}`);
    const series: uPlot.Series[] = [{}, ...d.series.map((s) => ({
      label: s.label, stroke: css_colour(s.colour), width: s.width ?? 1.5, dash: s.dash, value, spanGaps: false,
    }))];
    const bands: uPlot.Band[] = (d.bands ?? []).map(([upper, lower]) => ({
      series: [upper + 1, lower + 1] as [number, number], fill: theme.band,
    }));
    const columns = [d.x_ms.map((t) => t / 1000), ...d.series.map((s) => s.values)] as uPlot.AlignedData;
    this.plot = new uPlot({
      ...this.size(),
      series,
      bands,
      scales: { x: { time: true } },
      axes: [{ ...axis }, { ...axis, label: d.unit, size: 56 }],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      hooks: { draw: [() => { this.element.dataset.drawn = String(Number(this.element.dataset.drawn ?? 0) + 1); }] },
    }, columns, this.element);
  }
}
