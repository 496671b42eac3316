// Transformer page (operators, admins): why the analysis says what it says. The balance state in plain
// words; the last day's 15-minute balance (check meter, consumers, the technical-loss band and what is
// left unexplained); the balance per day over four weeks from the stored readings; the alarm's episodes;
// the ranked suspects, each with a one-line reason and its last week against its own usual week.

import { ApiError, get_readings, list_alerts, type AggregatePoint } from "../api";
import { h, set_text } from "../dom";
import { full_time, when } from "../format";
import { balance_state, balance_text, episode_duration } from "../grid/balance_text";
import { daily_balance } from "../grid/daily_balance";
import { get_transformer, type Episode, type Suspect, type TransformerDetail } from "../grid/grid_api";
import { LineChart } from "../grid/line_chart";
import { change_text, usual_week } from "../grid/usual_week";

const kDayMs = 86400_000;
const kDailyDays = 28;
const kMaxDailyConsumers = 120;  // beyond this the daily view would ask too much of the server at once
const kSuspectCharts = 3;

export function mount_transformer_page(root: HTMLElement, id: string): () => void {
  let closed = false;
  const charts: LineChart[] = [];
  const chart = (cls: string, label: string, aspect?: number, max_height?: number) => {
    const c = new LineChart(cls, label, aspect, max_height);
    charts.push(c);
    return c;
  };
  const status_el = h("p", { class: "balance-status", "aria-live": "polite" }, "loading…");
  const meta_el = h("p", { class: "muted transformer-meta" });
  const evidence_el = h("ul", { class: "balance-evidence" });
  const interval_chart = chart("balance-intervals", "Energy per 15 minutes: check meter, consumers with the technical-loss band, and the unexplained rest");
  const interval_note = h("p", { class: "muted" });
  const daily_chart = chart("balance-daily", "Energy per day: check meter, sum of the consumers and the difference");
  const daily_note = h("p", { class: "muted" }, "loading the stored readings…");
  const episodes_body = h("tbody");
  const episodes_note = h("p", { class: "muted" });
  const suspects_body = h("tbody");

  root.replaceChildren(h("section", { class: "page transformer-page" },
    h("p", { class: "crumbs" }, h("a", { href: "#/grid" }, "← Grid")),
    h("h1", null, `Transformer ${id}`),
    status_el, meta_el, evidence_el,
    h("section", { class: "card", "aria-labelledby": "h-intervals" },
      h("h2", { id: "h-intervals" }, "Energy balance, latest intervals"), interval_chart.element, interval_note),
    h("section", { class: "card", "aria-labelledby": "h-daily" },
      h("h2", { id: "h-daily" }, `Energy balance per day, last ${kDailyDays} days`), daily_chart.element, daily_note),
    h("section", { class: "card", "aria-labelledby": "h-episodes" },
      h("h2", { id: "h-episodes" }, "Alarm episodes"),
      h("div", { class: "table-wrap" }, h("table", { class: "episodes" },
        h("thead", null, h("tr", null, ...["Started", "Ended", "Lasted", "Energy", "Peak loss"].map((t) => h("th", null, t)))),
        episodes_body)), episodes_note),
    h("section", { class: "card", "aria-labelledby": "h-suspects" },
      h("h2", { id: "h-suspects" }, "Suspects, most likely first"),
      h("div", { class: "table-wrap" }, h("table", { class: "suspects" },
        h("thead", null, h("tr", null, ...["Rank", "Meter", "Score", "Why"].map((t) => h("th", null, t)))),
        suspects_body)))));

  void load();

  async function load(): Promise<void> {
    let t: TransformerDetail;
    try {
      t = await get_transformer(id, 96);
    } catch (err) {
      if (closed) return;
      set_text(status_el, err instanceof ApiError && err.status === 404 ? `No transformer ${id}.`
        : `Could not load the transformer: ${err instanceof Error ? err.message : String(err)}`);
      status_el.classList.add("error");
      return;
    }
    if (closed) return;
    render_head(t);
    render_intervals(t);
    render_suspects(t);
    void render_episodes(t);
    void render_daily(t);
  }

  function render_head(t: TransformerDetail): void {
    document.title = `Transformer ${t.id} · wattguard`;
    const state = balance_state(t.analysis);
    status_el.dataset.state = state;
    set_text(status_el, balance_text(t.analysis));
    meta_el.replaceChildren(...[
      t.name && `${t.name} · `, t.area && `area ${t.area} · `, "check meter ",
      t.check_meter ? h("a", { href: `#/meter/${encodeURIComponent(t.check_meter)}` }, t.check_meter) : "none",
      ` · ${t.consumers.length} consumers`,
      t.analysis?.analysed_to_ms ? ` · analysed to ${full_time(t.analysis.analysed_to_ms)}` : "",
    ].filter((x) => x !== ""));
    evidence_el.replaceChildren(...(t.analysis?.evidence ?? []).map((e) => h("li", null, e)));
  }

  function render_intervals(t: TransformerDetail): void {
    const series = t.analysis?.series ?? [];
    if (series.length === 0) {
      set_text(interval_note, "No analysed intervals yet.");
      return;
    }
    const x = series.map((p) => p.end_ms - 15 * 60_000);
    interval_chart.show({
      x_ms: x, unit: "kWh", digits: 2,
      series: [
        { label: "check meter", values: series.map((p) => p.check_kwh), colour: "--accent", width: 2 },
        { label: "consumers", values: series.map((p) => p.consumers_kwh), colour: "--ok" },
        { label: "consumers + technical loss", values: series.map((p) => p.consumers_kwh + p.expected_loss_kwh), colour: "--fg-muted", dash: [4, 4] },
        { label: "unexplained", values: series.map((p) => p.unexplained_kwh), colour: "--bad", width: 2 },
      ],
      bands: [[2, 1]],
    });
    const missing = series.filter((p) => p.check_kwh === null).length;
    set_text(interval_note, `${series.length} intervals of 15 minutes up to ${full_time(series[series.length - 1].end_ms)}; ` +
      "the shaded band is the technical loss the model expects" + (missing ? `; ${missing} without a check-meter reading (not evaluated).` : "."));
  }

  async function render_daily(t: TransformerDetail): Promise<void> {
    const to = Math.ceil(t.now_ms / kDayMs) * kDayMs;
    const from = to - kDailyDays * kDayMs;
    const members = t.consumers.slice(0, kMaxDailyConsumers);
    try {
      const check = t.check_meter ? (await get_readings(t.check_meter, from, to, 86400)).points : [];
      const consumers: AggregatePoint[][] = new Array(members.length);
      let next = 0;
      const worker = async () => {
        while (next < members.length && !closed) {
          const i = next++;
          consumers[i] = (await get_readings(members[i], from, to, 86400).catch(() => ({ points: [] as AggregatePoint[] }))).points;
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
      if (closed) return;
      const days = daily_balance(check, consumers.map((c) => c ?? []));
      if (days.length === 0) {
        set_text(daily_note, "No stored readings in the last four weeks.");
        return;
      }
      daily_chart.show({
        x_ms: days.map((d) => d.t_ms), unit: "kWh", digits: 1,
        series: [
          { label: "check meter", values: days.map((d) => d.check_kwh), colour: "--accent", width: 2 },
          { label: "consumers", values: days.map((d) => (d.consumers_reporting ? d.consumers_kwh : null)), colour: "--ok" },
          { label: "difference", values: days.map((d) => d.difference_kwh), colour: "--bad", width: 2 },
        ],
      });
      const partial = days.filter((d) => d.consumers_reporting < d.consumers_total).length;
      set_text(daily_note, "Net energy per day from the stored readings; the difference is technical loss plus anything unexplained." +
        (partial ? ` On ${partial} day(s) some consumers have no reading, which inflates the difference.` : "") +
        (t.consumers.length > members.length ? ` The first ${members.length} of ${t.consumers.length} consumers are summed.` : ""));
    } catch (err) {
      if (!closed) set_text(daily_note, `Could not load the stored readings: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  async function render_episodes(t: TransformerDetail): Promise<void> {
    let episodes: Episode[] | null = t.analysis?.episodes ?? null;
    let source = "the analysis";
    if (episodes === null) {
      // A server without episodes in its analysis: the transformer's energy-balance alerts are its episodes.
      const alerts = await list_alerts({ transformer: t.id, limit: 200 }).catch(() => null);
      if (closed) return;
      episodes = (alerts ?? []).filter((a) => a.kind === "energy_balance").map((a) => ({
        start_ms: a.raised_ms, end_ms: a.cleared_ms > 0 ? a.cleared_ms : null, energy_kwh: null, peak_loss_share: null, open: a.cleared_ms <= 0,
      }));
      source = "the transformer's energy-balance alerts";
    }
    const sorted = [...episodes].sort((a, b) => b.start_ms - a.start_ms);
    episodes_body.replaceChildren(...(sorted.length === 0
      ? [h("tr", null, h("td", { colspan: "5", class: "muted" }, "No alarm episodes."))]
      : sorted.map((e) => h("tr", { class: e.open ? "open" : "" },
        h("td", null, full_time(e.start_ms)),
        h("td", null, e.end_ms === null ? h("span", { class: "badge alert" }, "ongoing") : full_time(e.end_ms)),
        h("td", null, episode_duration(e, t.now_ms)),
        h("td", { class: "num" }, e.energy_kwh === null ? "—" : `${e.energy_kwh.toFixed(1)} kWh`),
        h("td", { class: "num" }, e.peak_loss_share === null ? "—" : `${(e.peak_loss_share * 100).toFixed(1)} %`)))));
    set_text(episodes_note, `From ${source}.`);
  }

  function suspect_reason(s: Suspect): string {
    if (s.reason) return s.reason;
    return s.evidence.length ? s.evidence.join("; ") : "no particular sign";
  }

  function render_suspects(t: TransformerDetail): void {
    const suspects = t.analysis?.suspects ?? [];
    if (suspects.length === 0) {
      suspects_body.replaceChildren(h("tr", null, h("td", { colspan: "4", class: "muted" }, "No suspects yet (the analysis has not ranked the consumers).")));
      return;
    }
    const rows: HTMLElement[] = [];
    suspects.forEach((s, i) => {
      rows.push(h("tr", { class: s.flagged ? "suspect flagged" : "suspect", "data-meter": s.meter },
        h("td", { class: "num" }, String(s.rank || i + 1)),
        h("td", null, h("a", { href: `#/meter/${encodeURIComponent(s.meter)}` }, s.meter),
          s.flagged ? h("span", { class: "badge tamper" }, " flagged") : null),
        h("td", { class: "num" }, s.score.toFixed(2)),
        h("td", { class: "reason" }, suspect_reason(s),
          s.first_flagged_ms ? h("small", { class: "muted" }, ` (flagged ${when(s.first_flagged_ms, t.now_ms)})`) : null)));
      if (i < kSuspectCharts) {
        const c = chart("suspect-week", `${s.meter}: use per hour in the last week against its usual week`, 0.22, 160);
        const note = h("p", { class: "muted week-change" }, "loading its last four weeks…");
        rows.push(h("tr", { class: "suspect-chart-row" }, h("td", null), h("td", { colspan: "3" }, c.element, note)));
        // The week that ends where the analysis ends (imported history may stop before now).
        void render_week(s.meter, c, note, Math.min(t.now_ms, t.analysis?.analysed_to_ms || t.now_ms));
      }
    });
    suspects_body.replaceChildren(...rows);
  }

  async function render_week(meter: string, c: LineChart, note: HTMLElement, end_ms: number): Promise<void> {
    const end = Math.floor(end_ms / 3600_000) * 3600_000;
    try {
      const series = await get_readings(meter, end - 28 * kDayMs, end, 3600);
      if (closed) return;
      const u = usual_week(series.points, end);
      c.show({
        x_ms: u.t_ms, unit: "kWh", digits: 2,
        series: [
          { label: "last week", values: u.recent_kwh, colour: "--bad", width: 1.5 },
          { label: "usual week", values: u.usual_kwh, colour: "--fg-muted", dash: [4, 3] },
        ],
      });
      note.dataset.change = u.change === null ? "" : u.change.toFixed(3);
      set_text(note, `Last week: ${change_text(u.change)} (the usual week is the median of the three before).`);
    } catch (err) {
      if (!closed) set_text(note, `Could not load its readings: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  return () => {
    closed = true;
    for (const c of charts) c.destroy();
  };
}
