// Fleet page: every meter the user may see with live power, today's kWh, status and badges; search,
// filter and sort over all of them; a virtualised list fed by batched live updates. The page is a thin
// view over one state object (fleet/fleet_state.ts, which also applies live batches); what is shown
// and in which order is decided by fleet/fleet_view.ts.

import { list_alerts, list_transformers, take_meter_list, type ListTiming, type SessionUser } from "../api";
import { open_counts } from "../alerts/alert_text";
import { h, set_text } from "../dom";
import { LiveFeed, type LiveBatch, type LiveState } from "../live";
import { server_now, set_server_now } from "../meter_state";
import { after_paint, perf, push_bounded } from "../perf";
import { VirtualList } from "../fleet/virtual_list";
import { FleetHeader, create_row, update_row } from "../fleet/fleet_rows";
import {
  build_view, count_fleet, counts_text, filter_needs_periodic_rebuild, grid_is_known, kDefaultViewOptions, kFilterChoices, next_sort,
  normalize_query, shown_text, transformer_choices, transformer_of_meters, type Filter, type ViewOptions,
} from "../fleet/fleet_view";
import { apply_alert_counts, apply_batch, new_fleet_state, reload_meters, set_meters, set_transformers } from "../fleet/fleet_state";

const kRowHeightWide = 44;
const kRowHeightNarrow = 64;
const kNarrowQuery = "(max-width: 720px)";
const kAlertsPollMs = 30_000;
// Re-filtering and re-sorting on live data happen at most this often, so rows do not jump under the pointer.
const kResortMs = 3000;

// Search, filter, sort and scroll survive a visit to a meter page and back.
const saved = { options: { ...kDefaultViewOptions }, query_text: "", scroll_top: 0 };

export function mount_fleet_page(root: HTMLElement, user: SessionUser): () => void {
  // Everything the page knows; the DOM is drawn from it.
  const state = new_fleet_state(saved.options);

  const counts_el = h("p", { class: "fleet-counts", "aria-live": "polite" }, "loading meters…");
  const live_el = h("span", { class: "live-state", title: "live connection" }, "connecting");
  const toolbar = render_toolbar(state.options, (change) => { Object.assign(state.options, change); rebuild(); });
  const header = new FleetHeader((key) => { Object.assign(state.options, next_sort(state.options, key)); rebuild(); });
  const media = window.matchMedia(kNarrowQuery);
  const row_height = () => (media.matches ? kRowHeightNarrow : kRowHeightWide);
  const list = new VirtualList({
    create: create_row,
    update: (el, position) => update_row(el, state.meters[state.view.order[position]], server_now()),
  }, row_height(), "Meters");
  const on_media = () => list.set_row_height(row_height());
  media.addEventListener("change", on_media);

  root.replaceChildren(h("section", { class: "page fleet-page" },
    h("div", { class: "page-head" }, h("h1", null, user.role === "consumer" ? "My meters" : "Fleet"), live_el),
    counts_el,
    toolbar.element,
    h("div", { class: "fleet-table" }, header.element, list.viewport)));

  function rebuild(): void {
    state.view_stale = false;
    state.view = build_view(state.meters, state.keys, state.transformer_of, state.options);
    header.show(state.options);
    set_text(toolbar.shown, shown_text(state.view.order.length, state.meters.length));
    list.reset(state.view.order.length);
  }

  function update_counts(): void {
    set_text(counts_el, counts_text(count_fleet(state.meters)));
  }

  // Redraws the rows of these meters (by index) that are in the view.
  function refresh_meters(indices: Iterable<number>): void {
    const positions: number[] = [];
    for (const i of indices) if (state.view.position_of[i] >= 0) positions.push(state.view.position_of[i]);
    list.refresh(positions);
  }

  function on_batch(batch: LiveBatch): void {
    const t0 = performance.now();
    const changed = apply_batch(state, batch, server_now());
    refresh_meters(changed);
    const apply_ms = performance.now() - t0;
    // Main-thread cost of the batch: parsing its frames plus applying it.
    push_bounded(perf.live_batch_ms, batch.receive_ms + apply_ms);
    push_bounded(perf.live_apply_ms, apply_ms);
    push_bounded(perf.live_batch_readings, batch.readings.length);
  }

  let feed: LiveFeed | null = null;
  // Ages ("stale, 12 s ago", "offline since") move with time even without messages.
  const tick = window.setInterval(() => {
    const t0 = performance.now();
    list.refresh_all();
    update_counts();
    push_bounded(perf.fleet_tick_ms, performance.now() - t0);
  }, 1000);
  const resort = window.setInterval(() => {
    if (state.view_stale || filter_needs_periodic_rebuild(state.options.filter)) rebuild();
  }, kResortMs);

  const timing: ListTiming = { request_ms: 0, normalize_ms: 0, bytes: 0 };
  take_meter_list(timing).then(async (result) => {
    if (state.closed) return;
    const t_data = performance.now();
    set_server_now(result.now_ms);
    set_meters(state, result.meters, result.now_ms);
    rebuild();
    list.viewport.scrollTop = saved.scroll_top;
    list.render();
    update_counts();
    void load_grid();
    void poll_alerts();
    feed = new LiveFeed({ on_batch, on_state: (s) => show_live_state(live_el, s), on_reconnect: () => void reload() });
    await record_first_render(t_data, timing, state.meters.length);
  }).catch((err) => {
    if (!state.closed) set_text(counts_el, `Could not load the meters: ${err instanceof Error ? err.message : String(err)}`);
  });

  // Transformers (optional server route): a filter, and the transformer id in the search keys.
  async function load_grid(): Promise<void> {
    const transformers = await list_transformers().catch(() => null);
    if (state.closed) return;
    if (!grid_is_known(transformers)) {
      state.options.transformer = "";
      return;
    }
    set_transformers(state, transformer_of_meters(transformers));
    const choices = transformer_choices(transformers);
    if (!state.transformer_of.size || !choices.some((c) => c.value === state.options.transformer)) state.options.transformer = "";
    toolbar.show_transformers(choices, state.options.transformer);
    rebuild();
  }

  // Open-alert badges stay current: the alerts that are not closed, counted per meter. Without an
  // alerts route (404) the list's own alerts_open is kept and polling stops.
  let alerts_timer = 0;
  async function poll_alerts(): Promise<void> {
    if (state.closed) return;
    let supported = true;
    try {
      const [open, acknowledged] = await Promise.all([
        list_alerts({ state: "open", limit: 1000 }), list_alerts({ state: "acknowledged", limit: 1000 })]);
      if (open === null || acknowledged === null) supported = false;
      else if (!state.closed) {
        const changed = apply_alert_counts(state, open_counts([...open, ...acknowledged]));
        if (changed.length) {
          refresh_meters(changed);
          update_counts();
        }
      }
    } catch {
      // A failed poll keeps the last counts; the next one tries again.
    }
    if (supported && !state.closed) alerts_timer = window.setTimeout(() => void poll_alerts(), kAlertsPollMs);
  }

  // After a break in the live feed: the current state of every meter, in place (view and scroll kept).
  async function reload(): Promise<void> {
    try {
      const result = await take_meter_list({ request_ms: 0, normalize_ms: 0, bytes: 0 });
      if (state.closed) return;
      set_server_now(result.now_ms);
      reload_meters(state, result.meters, result.now_ms);
      rebuild();
      update_counts();
    } catch {
      // The next reconnect or the 401 handler takes over.
    }
  }

  return () => {
    state.closed = true;
    Object.assign(saved, { options: { ...state.options }, query_text: toolbar.query_text(), scroll_top: list.viewport.scrollTop });
    window.clearTimeout(alerts_timer);
    feed?.stop();
    window.clearInterval(tick);
    window.clearInterval(resort);
    media.removeEventListener("change", on_media);
  };
}

interface Toolbar {
  element: HTMLElement;
  shown: HTMLElement;
  query_text: () => string;
  show_transformers: (choices: { value: string; label: string }[], selected: string) => void;
}

// Search, the status filter, the transformer filter (hidden until the server lists transformers) and
// how many meters are shown.
function render_toolbar(options: Readonly<ViewOptions>, on_change: (change: Partial<ViewOptions>) => void): Toolbar {
  const search = h("input", {
    type: "search", placeholder: "Search id, name, area, owner", "aria-label": "Search meters", class: "search",
    oninput: () => on_change({ query: normalize_query(search.value) }),
  });
  const filter = h("select", { "aria-label": "Show", onchange: () => on_change({ filter: filter.value as Filter }) },
    ...kFilterChoices.map(([value, label]) => h("option", { value }, label)));
  const transformer = h("select", {
    "aria-label": "Transformer", hidden: true, onchange: () => on_change({ transformer: transformer.value }),
  }, h("option", { value: "" }, "All transformers"));
  const shown = h("span", { class: "shown" });
  search.value = saved.query_text;
  filter.value = options.filter;
  return {
    element: h("div", { class: "toolbar", role: "search" }, search, filter, transformer, shown),
    shown,
    query_text: () => search.value,
    show_transformers(choices, selected) {
      transformer.replaceChildren(h("option", { value: "" }, "All transformers"),
        ...choices.map((c) => h("option", { value: c.value }, c.label)));
      transformer.hidden = false;
      transformer.value = selected;
    },
  };
}

function show_live_state(el: HTMLElement, s: LiveState): void {
  set_text(el, s === "open" ? "live" : s);
  el.dataset.state = s;
}

// The first render's figures for the performance script (once per page load).
async function record_first_render(t_data: number, timing: ListTiming, meter_count: number): Promise<void> {
  const t_painted = await after_paint();
  if (perf.fleet_first_render_ms !== null) return;
  perf.fleet_first_render_ms = t_painted;
  perf.fleet_data_to_render_ms = t_painted - t_data;
  perf.fleet_meter_count = meter_count;
  const entry = performance.getEntriesByType("resource").filter((e) => e.name.includes("/api/v1/meters?")).pop() as
    PerformanceResourceTiming | undefined;
  perf.fleet_list = {
    ...timing,
    server_ms: entry ? entry.responseStart - entry.requestStart : 0,
    download_ms: entry ? entry.responseEnd - entry.responseStart : 0,
  };
}
