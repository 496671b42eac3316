// Meter page: live values from the WebSocket, history chart, daily/monthly energy, relay control,
// this cycle's bill, prepaid credit, bills, budget and notices (billing/meter_billing.ts),
// events and alerts, CSV of the shown range. An offline meter shows "no data" and when it was last seen.

import {
  ApiError, get_alerts, get_events, get_meter, list_transformers, type MeterEvent, type MeterStatus, type MeterSummary, type Reading,
  type SessionUser,
} from "../api";
import { alerts_table } from "../alerts/alerts_table";
import { MeterBilling } from "../billing/meter_billing";
import { h, set_text } from "../dom";
import { age, fixed, full_time, kNoData, kwh, power, when } from "../format";
import { LiveFeed, type LiveBatch } from "../live";
import { apply_reading, apply_status, merge_reloaded, offline_since, relay_of, server_now, shows_values, tamper_names } from "../meter_state";
import { EnergyBars } from "../meter/energy_bars";
import { HistoryChart } from "../meter/history_chart";
import { RelayControl } from "../meter/relay_control";
import { history_csv } from "../meter/csv";

const kDefaultRangeMs = 3600_000;

interface Tile {
  key: string;
  label: string;
  value: (r: Reading) => string;
}

const kTiles: Tile[] = [
  { key: "vrms", label: "Voltage", value: (r) => `${fixed(r.vrms, 1)} V` },
  { key: "irms", label: "Current", value: (r) => `${fixed(r.irms, 2)} A` },
  { key: "p_w", label: "Real power P", value: (r) => power(r.p_w) },
  { key: "s_va", label: "Apparent power S", value: (r) => `${fixed(r.s_va, 0)} VA` },
  { key: "q_var", label: "Reactive power Q", value: (r) => `${fixed(r.q_var, 0)} var` },
  { key: "pf", label: "Power factor", value: (r) => fixed(r.pf, 3) },
  { key: "freq_hz", label: "Frequency", value: (r) => `${fixed(r.freq_hz, 2)} Hz` },
  { key: "e_import_wh", label: "Imported", value: (r) => kwh(r.e_import_wh, 3) },
  { key: "e_export_wh", label: "Exported", value: (r) => kwh(r.e_export_wh, 3) },
];

export function mount_meter_page(root: HTMLElement, user: SessionUser, meter_id: string): () => void {
  let closed = false;
  const cleanups: (() => void)[] = [];
  const title = h("h1", null, meter_id);
  root.replaceChildren(h("section", { class: "page meter-page" },
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, user.role === "consumer" ? "← My meters" : "← Fleet")),
    title, h("p", { class: "muted" }, "loading…")));

  get_meter(meter_id).then((meter) => {
    if (!closed) cleanups.push(build(root, user, meter));
  }).catch((err) => {
    if (closed) return;
    const denied = err instanceof ApiError && (err.status === 403 || err.status === 404);
    root.replaceChildren(h("section", { class: "page meter-page" },
      h("p", { class: "crumbs" }, h("a", { href: "#/" }, "← Back")),
      h("h1", null, "Meter not available"),
      h("p", { class: "error", role: "alert", "data-denied": denied ? "true" : "false" },
        denied ? `Meter ${meter_id} does not exist or is not yours.`
          : `Could not load meter ${meter_id}: ${err instanceof Error ? err.message : String(err)}`)));
  });

  return () => {
    closed = true;
    for (const c of cleanups) c();
  };
}

function build(root: HTMLElement, user: SessionUser, meter: MeterSummary): () => void {
  const can_command = user.role === "operator" || user.role === "admin";
  const status_dot = h("span", { class: "dot", "aria-hidden": "true" });
  const status_text = h("span", { class: "status-text" });
  const seen_text = h("span", { class: "muted seen" });
  const tamper_el = h("span", { class: "badges" });
  const tile_values = new Map<string, HTMLElement>();
  const tiles = h("div", { class: "tiles", role: "group", "aria-label": "Live values" },
    ...kTiles.map((t) => {
      const value = h("span", { class: "tile-value num", "data-key": t.key }, kNoData);
      tile_values.set(t.key, value);
      return h("div", { class: "tile" }, h("span", { class: "tile-label" }, t.label), value);
    }));
  const live_note = h("p", { class: "live-note muted", "aria-live": "polite" });

  const chart = new HistoryChart(meter.id, meter.period_s, kDefaultRangeMs);
  const bars = new EnergyBars(meter.id);
  const relay = new RelayControl(meter.id, can_command, (state) => { meter.relay = state; });
  const events_body = h("tbody");
  const alerts = alerts_table({ show_meter: false, can_act: can_command, on_changed: () => void load_alerts() });
  const meta_el = h("p", { class: "muted meter-meta" });
  const billing = new MeterBilling(meter, user);

  const csv_button = h("button", { type: "button", onclick: () => download_csv() }, "Download CSV of the shown range");

  root.replaceChildren(h("section", { class: "page meter-page" },
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, user.role === "consumer" ? "← My meters" : "← Fleet")),
    h("div", { class: "page-head" },
      h("h1", null, meter.id, meter.name ? h("small", null, ` ${meter.name}`) : null),
      h("p", { class: "status-line" }, status_dot, status_text, " ", seen_text, " ", tamper_el)),
    meta_el,
    h("section", { class: "card", "aria-labelledby": "h-live" }, h("h2", { id: "h-live" }, "Now"), tiles, live_note),
    h("section", { class: "card", "aria-labelledby": "h-relay" }, h("h2", { id: "h-relay" }, "Supply"), relay.element),
    h("section", { class: "card", "aria-labelledby": "h-history" },
      h("div", { class: "card-head" }, h("h2", { id: "h-history" }, "History"), csv_button), chart.element),
    h("section", { class: "card", "aria-labelledby": "h-energy" }, h("h2", { id: "h-energy" }, "Energy"), bars.element),
    billing.element,
    h("section", { class: "card", "aria-labelledby": "h-alerts" }, h("h2", { id: "h-alerts" }, "Alerts"), alerts.element),
    h("section", { class: "card", "aria-labelledby": "h-events" }, h("h2", { id: "h-events" }, "Events"),
      h("div", { class: "table-wrap" }, h("table", null,
        h("thead", null, h("tr", null, h("th", null, "Time"), h("th", null, "Event"), h("th", null, "Details"))),
        events_body)))));

  let last_status: MeterStatus | null = null;
  function render_live(): void {
    const now = server_now();
    const status = meter.status;
    const live = shows_values(meter);
    const r = meter.last_reading;
    for (const t of kTiles) set_text(tile_values.get(t.key)!, live && r ? t.value(r) : kNoData);
    if (status !== last_status) {
      status_dot.className = `dot ${status}`;
      tiles.dataset.health = status;
      last_status = status;
    }
    set_text(status_text, status === "offline" ? `offline since ${when(offline_since(meter), now)}`
      : status === "stale" ? "stale" : status === "unknown" ? "never seen" : "online");
    status_text.dataset.health = status;
    set_text(seen_text, meter.last_seen_ms > 0 ? `last seen ${full_time(meter.last_seen_ms)} (${age(now - meter.last_seen_ms)} ago)` : "");
    set_text(live_note, !live ? (r ? `No data: the last reading was at ${full_time(r.time_ms)}.` : "No data: this meter has not reported yet.")
      : r ? `Reading of ${full_time(r.time_ms)}, #${r.seq}.` : "");
    const tampers = tamper_names(meter);
    const key = tampers.join(",");
    if (tamper_el.dataset.key !== key) {
      tamper_el.dataset.key = key;
      tamper_el.replaceChildren(...tampers.map((t) => h("span", { class: "badge tamper" }, `tamper: ${t}`)));
    }
    relay.set_relay(relay_of(meter));
  }

  function on_batch(batch: LiveBatch): void {
    const now = server_now();
    for (const r of batch.readings) {
      if (r.meter_id !== meter.id) continue;
      if (apply_reading(meter, r, now)) chart.live(r);
    }
    for (const s of batch.statuses) {
      if (s.meter_id === meter.id) apply_status(meter, s);
    }
    for (const c of batch.commands) {
      if (c.meter_id !== meter.id) continue;
      relay.update_from_live(c);
      if (c.state === "acked" && c.relay !== "unknown") meter.relay = c.relay;
    }
    if (batch.events.some((e) => e.meter_id === meter.id)) {
      void load_events();
      void load_alerts();  // a tamper event may have raised or cleared an alert
    }
    render_live();
  }

  async function load_events(): Promise<void> {
    try {
      const events = await get_events(meter.id, 50);
      events_body.replaceChildren(...(events.length === 0
        ? [h("tr", null, h("td", { colspan: "3", class: "muted" }, "No events."))]
        : events.map((e: MeterEvent) => h("tr", null,
          h("td", null, full_time(e.time_ms)),
          h("td", null, `${e.kind.replace(/_/g, " ")}${e.edge && e.edge !== "instant" ? ` (${e.edge})` : ""}`),
          h("td", null, e.details || "")))));
    } catch (err) {
      events_body.replaceChildren(h("tr", null, h("td", { colspan: "3" }, `Could not load events: ${err instanceof Error ? err.message : String(err)}`)));
    }
  }

  async function load_alerts(): Promise<void> {
    try {
      const list = await get_alerts(meter.id);
      if (list === null) alerts.show_note("This server does not provide alerts yet.");
      else alerts.show(list, "No alerts for this meter.");
    } catch (err) {
      alerts.show_note(`Could not load alerts: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  // Area, owner, period and (when the server knows the grid) the transformer feeding the meter.
  let transformer = "";
  function render_meta(): void {
    set_text(meta_el, [meter.area && `Area ${meter.area}`, transformer && `transformer ${transformer}`,
      meter.owner && `owner ${meter.owner}`, `reports every ${meter.period_s} s`].filter(Boolean).join(" · "));
  }
  async function load_transformer(): Promise<void> {
    const all = await list_transformers().catch(() => null);
    const t = all?.find((x) => x.check_meter === meter.id || x.consumers.includes(meter.id));
    if (!t) return;
    transformer = t.name ? `${t.id} (${t.name})` : t.id;
    if (t.check_meter === meter.id) {
      transformer += ", its check meter";
      relay.show_no_relay(t.id);
    }
    render_meta();
  }

  function download_csv(): void {
    const blob = new Blob([history_csv(meter.id, chart.data)], { type: "text/csv" });
    const url = URL.createObjectURL(blob);
    const a = h("a", { href: url, download: `${meter.id}-${new Date(chart.data.from_ms).toISOString().slice(0, 16)}-${chart.data.step_s}s.csv` });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  render_live();
  render_meta();
  void load_transformer();
  void chart.open_on_latest(kDefaultRangeMs);
  void bars.load();
  billing.start();
  void load_events();
  void load_alerts();
  const feed = new LiveFeed({
    meters: [meter.id],
    on_batch,
    // Readings and status changes were missed during the break: take the server's current state.
    on_reconnect: () => {
      get_meter(meter.id).then((fresh) => {
        Object.assign(meter, merge_reloaded(meter, fresh));
        render_live();
      }).catch(() => undefined);
      void load_events();
      void load_alerts();
    },
  });
  const tick = window.setInterval(render_live, 1000);
  // Server-side detections (energy balance, patterns) raise alerts without a meter event.
  const alerts_tick = window.setInterval(() => void load_alerts(), 30_000);
  return () => {
    feed.stop();
    window.clearInterval(tick);
    window.clearInterval(alerts_tick);
    chart.destroy();
    bars.destroy();
    billing.destroy();
    relay.destroy();
  };
}
