// Daily (last 31 days) and monthly (last 12 months) imported and exported kWh as bar charts, from one
// query at a 1-day step; months are summed here from the days. Days are UTC days, as the server's rollups.
// Export is drawn below the axis so the two never hide each other.

import uPlot from "uplot";
import { get_readings, type AggregatePoint } from "../api";
import { h, set_text } from "../dom";
import { day_label, month_label } from "../format";
import { chart_theme, dark_query } from "./chart_theme";

const kDayMs = 86_400_000;

interface Bars {
  labels: string[];
  import_kwh: (number | null)[];
  export_kwh: (number | null)[];
}

export class EnergyBars {
  readonly element: HTMLElement;
  private readonly daily_box: HTMLDivElement;
  private readonly monthly_box: HTMLDivElement;
  private readonly info: HTMLElement;
  private plots: uPlot[] = [];
  private daily: Bars = { labels: [], import_kwh: [], export_kwh: [] };
  private monthly: Bars = { labels: [], import_kwh: [], export_kwh: [] };
  private readonly resize: ResizeObserver;
  private readonly on_scheme = () => this.draw();

  constructor(private readonly meter_id: string) {
    this.daily_box = h("div", { class: "bars-box", role: "img", "aria-label": "Energy per day, last 31 days" });
    this.monthly_box = h("div", { class: "bars-box", role: "img", "aria-label": "Energy per month, last 12 months" });
    this.info = h("p", { class: "chart-info" }, "loading…");
    this.element = h("div", { class: "energy" },
      h("div", { class: "bars" }, h("h3", null, "Per day"), this.daily_box),
      h("div", { class: "bars" }, h("h3", null, "Per month"), this.monthly_box),
      this.info);
    let last_width = 0;
    this.resize = new ResizeObserver(() => {
      const w = this.daily_box.clientWidth;
      if (w !== last_width) {
        last_width = w;
        this.draw();
      }
    });
    this.resize.observe(this.element);
    dark_query.addEventListener("change", this.on_scheme);
  }

  destroy(): void {
    this.resize.disconnect();
    dark_query.removeEventListener("change", this.on_scheme);
    for (const p of this.plots) p.destroy();
  }

  async load(): Promise<void> {
    const today = Math.floor(Date.now() / kDayMs) * kDayMs;
    const from = today - 365 * kDayMs;
    try {
      const series = await get_readings(this.meter_id, from, today + kDayMs, 86400);
      this.daily = daily_bars(series.points, today);
      this.monthly = monthly_bars(series.points, today);
      const total = this.daily.import_kwh.reduce<number>((s, v) => s + (v ?? 0), 0);
      set_text(this.info, `Last 31 days: ${total.toFixed(1)} kWh imported. Days are UTC days.`);
      this.draw();
    } catch (err) {
      set_text(this.info, `Could not load the energy totals: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private draw(): void {
    for (const p of this.plots) p.destroy();
    this.plots = [
      bar_chart(this.daily_box, this.daily),
      bar_chart(this.monthly_box, this.monthly),
    ];
  }
}

function daily_bars(points: AggregatePoint[], today_ms: number): Bars {
  const by_day = new Map(points.map((p) => [Math.floor(p.t_ms / kDayMs), p]));
  const bars: Bars = { labels: [], import_kwh: [], export_kwh: [] };
  for (let d = 30; d >= 0; d--) {
    const t = today_ms - d * kDayMs;
    const p = by_day.get(t / kDayMs);
    bars.labels.push(day_label(t));
    bars.import_kwh.push(p ? p.energy_import_wh / 1000 : null);
    bars.export_kwh.push(p ? -p.energy_export_wh / 1000 : null);
  }
  return bars;
}

function monthly_bars(points: AggregatePoint[], today_ms: number): Bars {
  const key = (ms: number) => { const d = new Date(ms); return d.getUTCFullYear() * 12 + d.getUTCMonth(); };
  const sums = new Map<number, { imp: number; exp: number }>();
  for (const p of points) {
    const k = key(p.t_ms);
    const s = sums.get(k) ?? { imp: 0, exp: 0 };
    s.imp += p.energy_import_wh;
    s.exp += p.energy_export_wh;
    sums.set(k, s);
  }
  const bars: Bars = { labels: [], import_kwh: [], export_kwh: [] };
  const last = key(today_ms);
  for (let k = last - 11; k <= last; k++) {
    const s = sums.get(k);
    bars.labels.push(month_label(Date.UTC(Math.floor(k / 12), k % 12, 1)));
    bars.import_kwh.push(s ? s.imp / 1000 : null);
    bars.export_kwh.push(s ? -s.exp / 1000 : null);
  }
  return bars;
}

function bar_chart(box: HTMLElement, bars: Bars): uPlot {
  const theme = chart_theme();
  const xs = bars.labels.map((_, i) => i);
  const bar_paths = uPlot.paths.bars!({ size: [0.8, 40], gap: 1 });
  const width = Math.max(200, box.clientWidth);
  const axis = { stroke: theme.text, grid: { stroke: theme.grid, width: 1 }, ticks: { show: false } };
  return new uPlot({
    width,
    height: 180,
    scales: { x: { time: false, range: (_u, min, max) => [min - 0.5, max + 0.5] }, y: { range: (_u, min, max) => [Math.min(0, min) * 1.1, Math.max(0.1, max) * 1.1] } },
    series: [
      { label: "", value: (_u, v) => (v === null ? "" : bars.labels[v] ?? "") },
      { label: "import kWh", fill: theme.import_bar, stroke: theme.import_bar, paths: bar_paths, points: { show: false },
        value: (_u, v) => (v === null ? "–" : v.toFixed(2)) },
      { label: "export kWh", fill: theme.export_bar, stroke: theme.export_bar, paths: bar_paths, points: { show: false },
        value: (_u, v) => (v === null ? "–" : Math.abs(v).toFixed(2)) },
    ],
    axes: [
      { ...axis, values: (_u, splits) => splits.map((i) => bars.labels[i] ?? ""), space: 50 },
      { ...axis, label: "kWh", size: 50 },
    ],
    cursor: { drag: { x: false, y: false } },
  }, [xs, bars.import_kwh, bars.export_kwh], box);
}
