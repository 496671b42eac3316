// The query step for a visible time range: the smallest "round" step that gives at most about one
// point per pixel. The server picks the rollup (raw, 1 min, 15 min, 1 h, 1 day) that fits the step.

const kNiceSteps_s = [
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800,
];

export function step_for_range(range_ms: number, max_points: number, min_step_s: number): number {
  const wanted_s = range_ms / 1000 / Math.max(1, max_points);
  for (const step of kNiceSteps_s) if (step >= wanted_s && step >= min_step_s) return step;
  return kNiceSteps_s[kNiceSteps_s.length - 1];
}

export function step_label(step_s: number): string {
  if (step_s < 60) return `${step_s} s`;
  if (step_s < 3600) return `${step_s / 60} min`;
  if (step_s < 86400) return `${step_s / 3600} h`;
  return `${step_s / 86400} d`;
}
