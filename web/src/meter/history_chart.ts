// History chart of one meter (uPlot): drag to zoom, buttons and arrow keys to pan and zoom; every change
// of the visible range asks the server again with a step that fits the range, so zooming goes from days
// of hourly averages down to the raw readings. Gaps (no readings) stay gaps, never zeros.

import uPlot from "uplot";
import { get_readings, type AggregatePoint, type Reading } from "../api";
import { h, set_text } from "../dom";
import { full_time } from "../format";
import { perf, push_bounded } from "../perf";
import { chart_theme, dark_query } from "./chart_theme";
import { step_for_range, step_label } from "./steps";

type Metric = "power" | "voltage" | "current" | "pf";

const kMetrics: Record<Metric, { label: string; unit: string; avg: keyof AggregatePoint; min?: keyof AggregatePoint; max?: keyof AggregatePoint; live: keyof Reading }> = {
  power: { label: "Power", unit: "W", avg: "p_avg_w", min: "p_min_w", max: "p_max_w", live: "p_w" },
  voltage: { label: "Voltage", unit: "V", avg: "vrms_avg", min: "vrms_min", max: "vrms_max", live: "vrms" },
  current: { label: "Current", unit: "A", avg: "irms_avg", live: "irms" },
  pf: { label: "Power factor", unit: "", avg: "pf_avg", live: "pf" },
};

export const kRanges: [string, number][] = [
  ["5 min", 300_000], ["1 h", 3600_000], ["6 h", 6 * 3600_000], ["24 h", 86400_000], ["7 d", 7 * 86400_000], ["30 d", 30 * 86400_000],
];

// How far back the first view looks for a meter's newest readings.
const kSearchBackMs = 400 * 86400_000;

export interface ShownHistory {
  from_ms: number;
  to_ms: number;
  step_s: number;
  source: string;
  points: AggregatePoint[];
}

export class HistoryChart {
  readonly element: HTMLElement;
  private plot: uPlot | null = null;
  private readonly plot_box: HTMLDivElement;
  private readonly info: HTMLElement;
  private metric: Metric = "power";
  private shown: ShownHistory;
  private follow = true;          // the range ends at "now" and moves with live readings
  private request_id = 0;
  private pending_draw_t0: number | null = null;  // when the shown data was requested (for perf)
  private refetch_timer = 0;
  private last_follow_fetch_ms = 0;
  private readonly resize: ResizeObserver;
  private readonly on_scheme = () => this.rebuild();

  constructor(private readonly meter_id: string, private readonly period_s: number, range_ms: number) {
    const now = Date.now();
    this.shown = { from_ms: now - range_ms, to_ms: now, step_s: 0, source: "", points: [] };
    this.plot_box = h("div", {
      class: "chart-box", tabindex: "0", role: "img",
      "aria-label": "History chart. Left and right arrows pan, plus and minus zoom; drag with the mouse to zoom in.",
      onkeydown: (ev: KeyboardEvent) => this.on_key(ev),
      ondblclick: () => this.set_range_ms(3600_000),
    });
    this.info = h("p", { class: "chart-info", "aria-live": "polite" });
    const metric_select = h("select", {
      "aria-label": "Quantity",
      onchange: () => { this.metric = metric_select.value as Metric; this.rebuild(); },
    }, ...Object.entries(kMetrics).map(([k, m]) => h("option", { value: k }, m.label)));
    const range_buttons = kRanges.map(([label, ms]) =>
      h("button", { type: "button", class: "chip", onclick: () => this.set_range_ms(ms) }, label));
    this.element = h("div", { class: "history" },
      h("div", { class: "chart-tools" },
        metric_select,
        h("div", { class: "chips", role: "group", "aria-label": "Range" }, ...range_buttons),
        h("div", { class: "chips", role: "group", "aria-label": "Move" },
          h("button", { type: "button", class: "chip", title: "Earlier", "aria-label": "Earlier", onclick: () => this.pan(-0.5) }, "◀"),
          h("button", { type: "button", class: "chip", title: "Zoom out", "aria-label": "Zoom out", onclick: () => this.zoom(2) }, "−"),
          h("button", { type: "button", class: "chip", title: "Zoom in", "aria-label": "Zoom in", onclick: () => this.zoom(0.5) }, "+"),
          h("button", { type: "button", class: "chip", title: "Later", "aria-label": "Later", onclick: () => this.pan(0.5) }, "▶"),
          h("button", { type: "button", class: "chip", title: "Back to now", onclick: () => this.go_live() }, "Now"))),
      this.plot_box, this.info);
    this.resize = new ResizeObserver(() => {
      if (this.plot) this.plot.setSize(this.size());
    });
    this.resize.observe(this.plot_box);
    dark_query.addEventListener("change", this.on_scheme);
  }

  get data(): ShownHistory {
    return this.shown;
  }

  destroy(): void {
    this.resize.disconnect();
    dark_query.removeEventListener("change", this.on_scheme);
    window.clearTimeout(this.refetch_timer);
    this.plot?.destroy();
    this.plot = null;
  }

  set_range_ms(range_ms: number): void {
    this.follow = true;
    const now = Date.now();
    void this.load(now - range_ms, now);
  }

  go_live(): void {
    this.set_range_ms(this.shown.to_ms - this.shown.from_ms);
  }

  pan(fraction: number): void {
    const span = this.shown.to_ms - this.shown.from_ms;
    let from = this.shown.from_ms + span * fraction;
    const now = Date.now();
    this.follow = from + span >= now;
    if (this.follow) from = now - span;
    void this.load(from, from + span);
  }

  zoom(factor: number): void {
    const span = this.shown.to_ms - this.shown.from_ms;
    const new_span = Math.max(60_000, Math.min(400 * 86400_000, span * factor));
    const now = Date.now();
    const to = this.follow ? now : Math.min(now, (this.shown.from_ms + this.shown.to_ms) / 2 + new_span / 2);
    void this.load(to - new_span, to);
  }

  // A new reading of this meter: extends the chart when it follows "now" at the raw step.
  live(r: Reading): void {
    if (!this.follow || !this.plot) return;
    const span = this.shown.to_ms - this.shown.from_ms;
    if (this.shown.step_s <= this.period_s && this.shown.source === "raw") {
      const last = this.shown.points[this.shown.points.length - 1];
      if (last && r.time_ms <= last.t_ms) return;
      this.shown.points.push(point_from_reading(r));
      this.shown.to_ms = Math.max(r.time_ms, Date.now());
      this.shown.from_ms = this.shown.to_ms - span;
      while (this.shown.points.length > 0 && this.shown.points[0].t_ms < this.shown.from_ms) this.shown.points.shift();
      this.draw();
    } else if (Date.now() - this.last_follow_fetch_ms > Math.max(30_000, this.shown.step_s * 1000)) {
      this.set_range_ms(span);
    }
  }

  // The first view: the last `range_ms` up to now, or, when that holds nothing (a meter with only
  // imported history, or one silent for a while), the last day that has readings, so the page never
  // opens on an empty chart while weeks of data exist.
  async open_on_latest(range_ms: number): Promise<void> {
    const now = Date.now();
    await this.load(now - range_ms, now);
    if (this.shown.points.length > 0) return;
    const id = this.request_id;
    let newest_day_ms = -1;
    try {
      const days = await get_readings(this.meter_id, now - kSearchBackMs, now, 86400);
      for (const p of days.points) if (p.count > 0) newest_day_ms = Math.max(newest_day_ms, p.t_ms);
    } catch {
      return;  // the empty range and its message stay
    }
    if (newest_day_ms < 0 || id !== this.request_id) return;
    const to = Math.min(now, newest_day_ms + 86400_000);
    this.follow = to >= now;
    await this.load(to - Math.max(range_ms, 86400_000), to);
  }

  async load(from_ms: number, to_ms: number): Promise<void> {
    const id = ++this.request_id;
    const width = this.plot_box.clientWidth || 800;
    const step_s = step_for_range(to_ms - from_ms, Math.min(1000, Math.max(200, width)), 1);
    const t0 = performance.now();
    set_text(this.info, "loading…");
    try {
      const series = await get_readings(this.meter_id, from_ms, to_ms, step_s);
      if (id !== this.request_id) return;
      push_bounded(perf.history_fetch_ms, performance.now() - t0);
      this.shown = { from_ms, to_ms, step_s: series.step_s, source: series.source, points: series.points };
      if (this.follow) this.last_follow_fetch_ms = Date.now();
      this.pending_draw_t0 = t0;
      this.draw();
    } catch (err) {
      if (id !== this.request_id) return;
      set_text(this.info, `Could not load the history: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private size(): { width: number; height: number } {
    const width = Math.max(200, this.plot_box.clientWidth);
    return { width, height: Math.max(180, Math.min(320, Math.round(width * 0.45))) };
  }

  private rebuild(): void {
    this.plot?.destroy();
    this.plot = null;
    this.draw();
  }

  private draw(): void {
    const m = kMetrics[this.metric];
    const data = to_columns(this.shown, m.avg, m.min, m.max);
    if (!this.plot) {
      this.plot = new uPlot(this.options(), data, this.plot_box);
    } else {
      this.plot.setData(data, false);
      this.plot.setScale("x", { min: this.shown.from_ms / 1000, max: this.shown.to_ms / 1000 });
    }
    const source = this.shown.source ? ` from the ${this.shown.source === "raw" ? "raw readings" : `${this.shown.source} rollup`}` : "";
    set_text(this.info, `${full_time(this.shown.from_ms)} – ${full_time(this.shown.to_ms)} · step ${step_label(this.shown.step_s)}${source} · ` +
      `${this.shown.points.length} points` + (this.shown.points.length === 0 ? " (no readings in this range)" : ""));
  }

  private options(): uPlot.Options {
    const theme = chart_theme();
    const m = kMetrics[this.metric];
    const axis = { stroke: theme.text, grid: { stroke: theme.grid, width: 1 }, ticks: { stroke: theme.grid, width: 1 } };
    const series: uPlot.Series[] = [
      {},
      { label: `${m.label} avg`, stroke: theme.line, width: 1.5, value: (_u, v) => (v === null ? "–" : `${v.toFixed(2)} ${m.unit}`) },
    ];
    const bands: uPlot.Band[] = [];
    if (m.min && m.max) {
      series.push({ label: "min", stroke: theme.band, width: 1, value: (_u, v) => (v === null ? "–" : v.toFixed(1)) });
      series.push({ label: "max", stroke: theme.band, width: 1, value: (_u, v) => (v === null ? "–" : v.toFixed(1)) });
      bands.push({ series: [3, 2], fill: theme.band });
    }
    return {
      ...this.size(),
      scales: { x: { time: true, min: this.shown.from_ms / 1000, max: this.shown.to_ms / 1000 } },
      series,
      bands,
      axes: [{ ...axis }, { ...axis, label: m.unit, size: 60 }],
      // A drag selects a range, which is then asked for at a step that fits it. (uPlot's own
      // drag-zoom is off: its setScale hook also fires, a microtask later, for the code's own scale
      // changes, and telling those apart raced with range buttons pressed meanwhile.)
      cursor: { drag: { x: true, y: false, setScale: false } },
      legend: { live: true },
      hooks: {
        // uPlot paints asynchronously after setData: the time to "drawn" is taken here.
        draw: [() => {
          if (this.pending_draw_t0 === null) return;
          const dt = performance.now() - this.pending_draw_t0;
          this.pending_draw_t0 = null;
          push_bounded(perf.history_draw_ms, dt);
          push_bounded(perf.history_points, this.shown.points.length);
          this.element.dataset.drawMs = dt.toFixed(1);
          this.element.dataset.points = String(this.shown.points.length);
          this.element.dataset.rangeMs = String(Math.round(this.shown.to_ms - this.shown.from_ms));
        }],
        setSelect: [(u) => {
          const { left, width } = u.select;
          if (width < 3) return;
          const min = u.posToVal(left, "x"), max = u.posToVal(left + width, "x");
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          window.clearTimeout(this.refetch_timer);
          this.refetch_timer = window.setTimeout(() => {
            this.follow = false;
            void this.load(min * 1000, max * 1000);
          }, 0);
        }],
      },
    };
  }

  private on_key(ev: KeyboardEvent): void {
    const actions: Record<string, () => void> = {
      ArrowLeft: () => this.pan(-0.25), ArrowRight: () => this.pan(0.25),
      "+": () => this.zoom(0.5), "=": () => this.zoom(0.5), "-": () => this.zoom(2), End: () => this.go_live(),
    };
    const action = actions[ev.key];
    if (action) {
      ev.preventDefault();
      action();
    }
  }
}

function point_from_reading(r: Reading): AggregatePoint {
  return {
    t_ms: r.time_ms, count: 1, p_avg_w: r.p_w, p_min_w: r.p_w, p_max_w: r.p_w, vrms_avg: r.vrms, vrms_min: r.vrms,
    vrms_max: r.vrms, irms_avg: r.irms, s_avg_va: r.s_va, q_avg_var: r.q_var, pf_avg: r.pf, freq_avg_hz: r.freq_hz,
    energy_import_wh: 0, energy_export_wh: 0, e_import_wh: r.e_import_wh, e_export_wh: r.e_export_wh, flags: r.flags,
  };
}

// Column arrays for uPlot, with a null after every gap longer than two steps so lines break there.
function to_columns(shown: ShownHistory, avg: keyof AggregatePoint, min?: keyof AggregatePoint, max?: keyof AggregatePoint): uPlot.AlignedData {
  const pts = shown.points;
  const gap_ms = Math.max(2 * shown.step_s * 1000, 1);
  const xs: number[] = [], a: (number | null)[] = [], lo: (number | null)[] = [], hi: (number | null)[] = [];
  for (let i = 0; i < pts.length; i++) {
    const p = pts[i];
    if (i > 0 && p.t_ms - pts[i - 1].t_ms > gap_ms) {
      xs.push((pts[i - 1].t_ms + p.t_ms) / 2000);
      a.push(null); lo.push(null); hi.push(null);
    }
    xs.push(p.t_ms / 1000);
    a.push(p[avg] as number);
    if (min && max) { lo.push(p[min] as number); hi.push(p[max] as number); }
  }
  return (min && max ? [xs, a, lo, hi] : [xs, a]) as uPlot.AlignedData;
}
