// Fleet page: every meter the user may see with live power, today's kWh, status and badges; search,
// filter and sort over all of them; a virtualised list fed by batched live updates.

import { list_alerts, list_transformers, take_meter_list, type ListTiming, type MeterSummary, type SessionUser } from "../api";
import { open_counts } from "../alerts/alert_text";
import { h, set_text } from "../dom";
import { age, kNoData, kwh, power, when, fixed } from "../format";
import { LiveFeed, type LiveBatch } from "../live";
import {
  apply_reading, has_tamper, health_of, note_day_start, offline_since, relay_of, server_now, set_server_now,
  today_import_wh, type Health,
} from "../meter_state";
import { after_paint, perf, push_bounded } from "../perf";
import { VirtualList } from "../fleet/virtual_list";

type SortKey = "id" | "area" | "status" | "power" | "today";
type Filter = "all" | Health | "tamper" | "alerts" | "relay_off";

const kHealthRank: Record<Health, number> = { offline: 0, stale: 1, unknown: 2, online: 3 };
const kRowHeightWide = 44;
const kRowHeightNarrow = 64;
const narrow_query = "(max-width: 720px)";

// Search, filter, sort and scroll survive a visit to a meter page and back.
const saved = { sort_key: "id" as SortKey, sort_descending: false, filter: "all" as Filter, query: "", scroll_top: 0, transformer: "" };
const kAlertsPollMs = 30_000;

interface RowParts {
  id: HTMLElement; name: HTMLElement; area: HTMLElement; dot: HTMLElement; status: HTMLElement;
  power: HTMLElement; today: HTMLElement; volts: HTMLElement; badges: HTMLElement; badge_key: string;
}

export function mount_fleet_page(root: HTMLElement, user: SessionUser): () => void {
  let meters: MeterSummary[] = [];
  let search_keys: string[] = [];
  const index_of = new Map<string, number>();
  let view = new Int32Array(0);            // view position -> meter index
  let position_of = new Int32Array(0);     // meter index -> view position, -1 when filtered out
  let sort_key: SortKey = saved.sort_key;
  let sort_descending = saved.sort_descending;
  let filter: Filter = saved.filter;
  let query = saved.query.trim().toLowerCase();
  let view_stale = false;                  // live data changed something the filter/sort depends on
  let transformer_of = new Map<string, string>();  // meter id -> transformer id (when the server knows the grid)
  let transformer_filter = saved.transformer;
  const parts = new WeakMap<HTMLElement, RowParts>();

  const title = user.role === "consumer" ? "My meters" : "Fleet";
  const counts_el = h("p", { class: "fleet-counts", "aria-live": "polite" }, "loading meters…");
  const live_el = h("span", { class: "live-state", title: "live connection" }, "connecting");
  const search_el = h("input", {
    type: "search", placeholder: "Search id, name, area, owner", "aria-label": "Search meters", class: "search",
    oninput: () => { query = search_el.value.trim().toLowerCase(); rebuild_view(); },
  });
  const filter_el = h("select", {
    "aria-label": "Show",
    onchange: () => { filter = filter_el.value as Filter; rebuild_view(); },
  },
  ...([["all", "All meters"], ["online", "Online"], ["stale", "Stale"], ["offline", "Offline"], ["unknown", "Never seen"],
    ["tamper", "Tamper"], ["alerts", "With alerts"], ["relay_off", "Relay off"]] as const)
    .map(([v, label]) => h("option", { value: v }, label)));
  const shown_el = h("span", { class: "shown" });
  // Filled when the server lists transformers; hidden otherwise.
  const transformer_el = h("select", {
    "aria-label": "Transformer", hidden: true,
    onchange: () => { transformer_filter = transformer_el.value; rebuild_view(); },
  }, h("option", { value: "" }, "All transformers"));

  const header_buttons = new Map<SortKey, HTMLButtonElement>();
  // Column titles; the sortable ones are buttons ("Sort by" group), pressed when active.
  const header_cell = (key: SortKey | null, label: string, cls: string) => {
    if (!key) return h("span", { class: cls, "aria-hidden": "true" }, label);
    const button = h("button", { type: "button", class: "sort", "aria-pressed": "false", onclick: () => set_sort(key) }, label);
    header_buttons.set(key, button);
    return h("span", { class: cls }, button);
  };
  const header_row = h("div", { class: "frow fhead", role: "group", "aria-label": "Sort by" },
    header_cell("id", "Meter", "c-meter"), header_cell("area", "Area", "c-area"), header_cell("status", "Status", "c-status"),
    header_cell("power", "Power", "c-power"), header_cell("today", "Today", "c-today"), header_cell(null, "Voltage", "c-volts"),
    header_cell(null, "Badges", "c-badges"));

  const list = new VirtualList({
    create() {
      const row = h("a", { class: "frow", href: "#" });
      const id = h("b"), name = h("small"), area = h("span", { class: "c-area" });
      const dot = h("span", { class: "dot", "aria-hidden": "true" }), status = h("span");
      const pw = h("span", { class: "c-power num" }), today = h("span", { class: "c-today num" });
      const volts = h("span", { class: "c-volts num" }), badges = h("span", { class: "c-badges" });
      row.append(h("span", { class: "c-meter" }, id, name), area, h("span", { class: "c-status" }, dot, status), pw, today, volts, badges);
      parts.set(row, { id, name, area, dot, status, power: pw, today, volts, badges, badge_key: "" });
      return row;
    },
    update(el, index) {
      const m = meters[view[index]];
      const p = parts.get(el)!;
      const href = `#/meter/${encodeURIComponent(m.id)}`;
      if (el.getAttribute("href") !== href) el.setAttribute("href", href);
      set_text(p.id, m.id);
      set_text(p.name, m.name || m.owner || "");
      set_text(p.area, m.area);
      const now = server_now();
      const health = health_of(m, now);
      if (p.dot.className !== `dot ${health}`) p.dot.className = `dot ${health}`;
      set_text(p.status, status_text(m, health, now));
      const live = health === "online" || health === "stale";
      const r = m.last_reading;
      set_text(p.power, live && r ? power(r.p_w) : kNoData);
      set_text(p.today, kwh(today_import_wh(m)));
      set_text(p.volts, live && r ? `${fixed(r.vrms, 1)} V` : kNoData);
      const tamper = has_tamper(m), relay_off = relay_of(m) === "off";
      const key = `${tamper ? 1 : 0}${m.alerts_open}${relay_off ? 1 : 0}`;
      if (key !== p.badge_key) {
        p.badge_key = key;
        p.badges.replaceChildren(
          ...(tamper ? [h("span", { class: "badge tamper" }, "tamper")] : []),
          ...(m.alerts_open > 0 ? [h("span", { class: "badge alert" }, `${m.alerts_open} alert${m.alerts_open > 1 ? "s" : ""}`)] : []),
          ...(relay_off ? [h("span", { class: "badge relay" }, "relay off")] : []));
      }
    },
  }, window.matchMedia(narrow_query).matches ? kRowHeightNarrow : kRowHeightWide, "Meters");

  const media = window.matchMedia(narrow_query);
  const on_media = () => list.set_row_height(media.matches ? kRowHeightNarrow : kRowHeightWide);
  media.addEventListener("change", on_media);

  root.replaceChildren(h("section", { class: "page fleet-page" },
    h("div", { class: "page-head" }, h("h1", null, title), live_el),
    counts_el,
    h("div", { class: "toolbar", role: "search" }, search_el, filter_el, transformer_el, shown_el),
    h("div", { class: "fleet-table" }, header_row, list.viewport)));

  search_el.value = saved.query;
  filter_el.value = filter;

  function set_sort(key: SortKey): void {
    if (sort_key === key) sort_descending = !sort_descending;
    else {
      sort_key = key;
      sort_descending = key === "power" || key === "today";
    }
    rebuild_view();
  }

  function search_key(m: MeterSummary): string {
    return `${m.id}\u0000${m.name}\u0000${m.area}\u0000${m.owner}\u0000${transformer_of.get(m.id) ?? ""}`.toLowerCase();
  }

  function matches(m: MeterSummary, i: number, now: number): boolean {
    if (query && !search_keys[i].includes(query)) return false;
    if (transformer_filter && transformer_of.get(m.id) !== transformer_filter) return false;
    switch (filter) {
      case "all": return true;
      case "tamper": return has_tamper(m);
      case "alerts": return m.alerts_open > 0;
      case "relay_off": return relay_of(m) === "off";
      default: return health_of(m, now) === filter;
    }
  }

  function sort_value(m: MeterSummary, now: number): number | string {
    switch (sort_key) {
      case "id": return m.id;
      case "area": return m.area;
      case "status": return kHealthRank[health_of(m, now)];
      case "power": {
        const h2 = health_of(m, now);
        return (h2 === "online" || h2 === "stale") && m.last_reading ? m.last_reading.p_w : -Infinity;
      }
      case "today": return today_import_wh(m) ?? -Infinity;
    }
  }

  function rebuild_view(): void {
    view_stale = false;
    const now = server_now();
    const chosen: number[] = [];
    for (let i = 0; i < meters.length; i++) if (matches(meters[i], i, now)) chosen.push(i);
    const keys = new Map<number, number | string>();
    for (const i of chosen) keys.set(i, sort_value(meters[i], now));
    const dir = sort_descending ? -1 : 1;
    chosen.sort((a, b) => {
      const ka = keys.get(a)!, kb = keys.get(b)!;
      if (ka < kb) return -dir;
      if (ka > kb) return dir;
      return meters[a].id < meters[b].id ? -1 : 1;  // stable, readable tie-break
    });
    view = Int32Array.from(chosen);
    position_of = new Int32Array(meters.length).fill(-1);
    for (let k = 0; k < view.length; k++) position_of[view[k]] = k;
    for (const [key, button] of header_buttons) {
      const active = key === sort_key;
      button.setAttribute("aria-pressed", String(active));
      button.setAttribute("aria-label", `${button.textContent}${active ? (sort_descending ? ", descending" : ", ascending") : ""}`);
      button.dataset.sort = active ? (sort_descending ? "desc" : "asc") : "";
    }
    set_text(shown_el, view.length === meters.length ? `${meters.length} shown` : `${view.length} of ${meters.length} shown`);
    list.reset(view.length);
  }

  function update_counts(): void {
    const now = server_now();
    let online = 0, stale = 0, offline = 0, unknown = 0, tamper = 0, alerts = 0, total_w = 0;
    for (const m of meters) {
      const health = health_of(m, now);
      if (health === "online") online++;
      else if (health === "stale") stale++;
      else if (health === "offline") offline++;
      else unknown++;
      if (has_tamper(m)) tamper++;
      if (m.alerts_open > 0) alerts++;
      if ((health === "online" || health === "stale") && m.last_reading) total_w += m.last_reading.p_w;
    }
    set_text(counts_el, `${meters.length} meter${meters.length === 1 ? "" : "s"} · ${online} online · ${stale} stale · ${offline} offline` +
      (unknown ? ` · ${unknown} never seen` : "") + ` · ${tamper} tamper · ${alerts} with alerts · total ${power(total_w)}`);
  }

  const live_sorts = new Set<SortKey>(["status", "power", "today"]);
  function on_batch(batch: LiveBatch): void {
    const t0 = performance.now();
    const dirty: number[] = [];
    const now = server_now();
    for (const r of batch.readings) {
      const i = index_of.get(r.meter_id);
      if (i === undefined) continue;
      if (apply_reading(meters[i], r, now) && position_of[i] >= 0) dirty.push(position_of[i]);
    }
    for (const s of batch.statuses) {
      const i = index_of.get(s.meter_id);
      if (i === undefined) continue;
      const m = meters[i];
      m.status = s.status;
      if (s.since_ms > 0) m.since_ms = s.since_ms;
      if (s.last_seen_ms > 0) m.last_seen_ms = Math.max(m.last_seen_ms, s.last_seen_ms);
      m.offline_reason = s.reason;
      if (s.relay !== "unknown") m.relay = s.relay;
      if (position_of[i] >= 0) dirty.push(position_of[i]);
      view_stale = view_stale || filter !== "all";
    }
    for (const c of batch.commands) {
      const i = index_of.get(c.meter_id);
      if (i !== undefined && c.relay !== "unknown") {
        meters[i].relay = c.relay;
        if (position_of[i] >= 0) dirty.push(position_of[i]);
      }
    }
    if (batch.readings.length > 0 && live_sorts.has(sort_key)) view_stale = true;
    list.refresh(dirty);
    // Main-thread cost of the batch: parsing its frames plus applying it.
    const apply_ms = performance.now() - t0;
    push_bounded(perf.live_batch_ms, batch.receive_ms + apply_ms);
    push_bounded(perf.live_apply_ms, apply_ms);
    push_bounded(perf.live_batch_readings, batch.readings.length);
  }

  let feed: LiveFeed | null = null;
  let closed = false;
  // Ages, stale/offline states and counts move with time even without messages.
  const tick = window.setInterval(() => {
    const t0 = performance.now();
    list.refresh_all();
    update_counts();
    push_bounded(perf.fleet_tick_ms, performance.now() - t0);
  }, 1000);
  // Re-filtering/re-sorting on live data is throttled so rows do not jump on every reading.
  const resort = window.setInterval(() => {
    if (view_stale || (filter !== "all" && filter !== "tamper" && filter !== "alerts")) rebuild_view();
  }, 3000);

  const timing: ListTiming = { request_ms: 0, normalize_ms: 0, bytes: 0 };
  take_meter_list(timing).then(async (result) => {
    if (closed) return;
    const t_data = performance.now();
    set_server_now(result.now_ms);
    meters = result.meters;
    search_keys = meters.map(search_key);
    for (let i = 0; i < meters.length; i++) {
      index_of.set(meters[i].id, i);
      note_day_start(meters[i], result.now_ms);
    }
    rebuild_view();
    list.viewport.scrollTop = saved.scroll_top;
    list.render();
    update_counts();
    void load_grid();
    void poll_alerts();
    feed = new LiveFeed({
      on_batch,
      on_state: (s) => { set_text(live_el, s === "open" ? "live" : s); live_el.dataset.state = s; },
      on_reconnect: () => void reload(),
    });
    const t_painted = await after_paint();
    if (perf.fleet_first_render_ms === null) {
      perf.fleet_first_render_ms = t_painted;
      perf.fleet_data_to_render_ms = t_painted - t_data;
      perf.fleet_meter_count = meters.length;
      const entry = performance.getEntriesByType("resource").filter((e) => e.name.includes("/api/v1/meters?")).pop() as
        PerformanceResourceTiming | undefined;
      perf.fleet_list = {
        ...timing,
        server_ms: entry ? entry.responseStart - entry.requestStart : 0,
        download_ms: entry ? entry.responseEnd - entry.responseStart : 0,
      };
    }
  }).catch((err) => {
    if (!closed) set_text(counts_el, `Could not load the meters: ${err instanceof Error ? err.message : String(err)}`);
  });

  // Transformers (optional server route): a filter, and the transformer id in the search keys.
  async function load_grid(): Promise<void> {
    const transformers = await list_transformers().catch(() => null);
    if (closed || !transformers || !transformers.some((t) => t.consumers.length > 0 || t.check_meter)) {
      transformer_filter = "";
      return;
    }
    const map = new Map<string, string>();
    for (const t of transformers) {
      for (const c of t.consumers) map.set(c, t.id);
      if (t.check_meter) map.set(t.check_meter, t.id);
    }
    transformer_of = map;
    const sorted = [...transformers].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    transformer_el.replaceChildren(h("option", { value: "" }, "All transformers"),
      ...sorted.map((t) => h("option", { value: t.id },
        `${t.name ? `${t.id} · ${t.name}` : t.id}${t.balance_alert ? " (energy balance alert)" : ""}`)));
    transformer_el.hidden = false;
    if (!map.size || !sorted.some((t) => t.id === transformer_filter)) transformer_filter = "";
    transformer_el.value = transformer_filter;
    search_keys = meters.map(search_key);
    rebuild_view();
  }

  // Open-alert badges stay current: the alerts that are not closed, counted per meter. Without an
  // alerts route (404) the list's own alerts_open is kept and polling stops.
  let alerts_timer = 0;
  async function poll_alerts(): Promise<void> {
    if (closed) return;
    let supported = true;
    try {
      const [open, acknowledged] = await Promise.all([
        list_alerts({ state: "open", limit: 1000 }), list_alerts({ state: "acknowledged", limit: 1000 })]);
      if (open === null || acknowledged === null) supported = false;
      else if (!closed) {
        const counts = open_counts([...open, ...acknowledged]);
        const dirty: number[] = [];
        for (let i = 0; i < meters.length; i++) {
          const n = counts.get(meters[i].id) ?? 0;
          if (meters[i].alerts_open !== n) {
            meters[i].alerts_open = n;
            if (position_of[i] >= 0) dirty.push(position_of[i]);
            if (filter === "alerts") view_stale = true;
          }
        }
        if (dirty.length) {
          list.refresh(dirty);
          update_counts();
        }
      }
    } catch {
      // A failed poll keeps the last counts; the next one tries again.
    }
    if (supported && !closed) alerts_timer = window.setTimeout(() => void poll_alerts(), kAlertsPollMs);
  }

  // After a break in the live feed: the current state of every meter, in place (view and scroll kept).
  async function reload(): Promise<void> {
    try {
      const result = await take_meter_list({ request_ms: 0, normalize_ms: 0, bytes: 0 });
      if (closed) return;
      set_server_now(result.now_ms);
      let added = false;
      for (const fresh of result.meters) {
        const i = index_of.get(fresh.id);
        if (i === undefined) { added = true; continue; }
        const m = meters[i];
        // Keep a newer live reading than the list's (the feed may already be flowing again).
        const keep = m.last_reading && fresh.last_reading && m.last_reading.time_ms > fresh.last_reading.time_ms ? m.last_reading : null;
        Object.assign(m, fresh);
        if (keep) m.last_reading = keep;
      }
      if (added || result.meters.length !== meters.length) {
        // Meters were added or removed: rebuild the indexes from the new list.
        meters = result.meters;
        search_keys = meters.map(search_key);
        index_of.clear();
        for (let i = 0; i < meters.length; i++) {
          index_of.set(meters[i].id, i);
          note_day_start(meters[i], result.now_ms);
        }
      }
      rebuild_view();
      update_counts();
    } catch {
      // The next reconnect or the 401 handler takes over.
    }
  }

  return () => {
    closed = true;
    Object.assign(saved, { sort_key, sort_descending, filter, query: search_el.value, scroll_top: list.viewport.scrollTop,
      transformer: transformer_filter });
    window.clearTimeout(alerts_timer);
    feed?.stop();
    window.clearInterval(tick);
    window.clearInterval(resort);
    media.removeEventListener("change", on_media);
  };
}

function status_text(m: MeterSummary, health: Health, now: number): string {
  switch (health) {
    case "online": return "online";
    case "stale": return `stale, ${age(now - m.last_seen_ms)} ago`;
    case "offline": return `offline since ${when(offline_since(m), now)}`;
    case "unknown": return "never seen";
  }
}
