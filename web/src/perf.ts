// In-browser performance figures (read by the e2e/perf scripts through window.__wattguard_perf):
// first render of the fleet, main-thread time per live batch, history draw time, and long tasks.

export interface PerfRecord {
  fleet_first_render_ms: number | null;     // navigation start -> first rows painted
  fleet_data_to_render_ms: number | null;   // meter list received -> first rows painted
  fleet_meter_count: number;
  fleet_list: { request_ms: number; normalize_ms: number; bytes: number; server_ms: number; download_ms: number } | null;
  live_batch_ms: number[];                  // main-thread time of each live batch (fleet page): parse + apply
  live_batch_readings: number[];            // readings in each batch
  live_apply_ms: number[];                  // the applying part of each batch alone (one animation-frame task)
  fleet_tick_ms: number[];                  // the fleet page's once-a-second refresh (ages, counts)
  history_draw_ms: number[];                // request -> chart drawn, per history load
  history_fetch_ms: number[];               // request -> answer parsed (the server's and network's part of the above)
  history_points: number[];
  long_tasks: { start_ms: number; duration_ms: number }[];  // PerformanceObserver "longtask" entries
}

export const perf: PerfRecord = {
  fleet_first_render_ms: null,
  fleet_data_to_render_ms: null,
  fleet_meter_count: 0,
  fleet_list: null,
  live_batch_ms: [],
  live_batch_readings: [],
  live_apply_ms: [],
  fleet_tick_ms: [],
  history_draw_ms: [],
  history_fetch_ms: [],
  history_points: [],
  long_tasks: [],
};

const kKeep = 2000;  // bounded so a dashboard left open for days does not grow

export function push_bounded(list: number[], value: number): void {
  list.push(value);
  if (list.length > kKeep) list.splice(0, list.length - kKeep);
}

// Resolves after the next frame has been painted (rAF runs before paint; the timeout after it).
export function after_paint(): Promise<number> {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(() => resolve(performance.now()), 0)));
}

export function install_perf_probe(): void {
  (window as unknown as { __wattguard_perf: PerfRecord }).__wattguard_perf = perf;
  try {
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        perf.long_tasks.push({ start_ms: Math.round(entry.startTime), duration_ms: Math.round(entry.duration) });
        if (perf.long_tasks.length > kKeep) perf.long_tasks.shift();
      }
    });
    observer.observe({ type: "longtask", buffered: true });
  } catch {
    // Browsers without long-task timing: the other figures still work.
  }
}
