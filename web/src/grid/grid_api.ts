// The grid's API for the grid and transformer pages: transformers with their energy-balance analysis
// (`GET /api/v1/transformers[/{id}]`, docs/api.md "Grid and theft analysis"), normalised so the pages
// never meet a missing member. Fields a newer server adds (alert episodes, a suspect's one-line reason)
// are read when present and empty otherwise.

import { ApiError, call, num, opt_num, str } from "../api";

// One 15-minute balance interval of the analysis.
export interface BalancePoint {
  end_ms: number;
  check_kwh: number | null;        // null without a check-meter reading
  consumers_kwh: number;
  consumers_missing: number;
  evaluated: boolean;
  expected_loss_kwh: number;       // the technical loss the model expects
  unexplained_kwh: number | null;  // null when not evaluated
  alert: boolean;
}

export interface Suspect {
  meter: string;
  rank: number;
  score: number;
  flagged: boolean;
  loss_share: number | null;
  attributed_kwh_per_day: number | null;
  first_flagged_ms: number | null;
  reason: string;      // one line in plain words ("" when the server gives none)
  evidence: string[];
}

// An alert episode of the transformer's balance: raised once, closed when the loss has clearly stopped.
export interface Episode {
  start_ms: number;
  end_ms: number | null;  // null while open
  energy_kwh: number | null;
  peak_loss_share: number | null;
  open: boolean;
}

export interface BalanceAnalysis {
  state: string;  // the server's: "alert", "not_evaluable", "calibrating", "clean" ("" from older servers)
  analysed_to_ms: number;
  calibrated: boolean;
  alert: boolean;
  alert_since_ms: number | null;
  unexplained_kwh: number;
  check_kwh: number;
  loss_share: number;
  alerts_raised: number;
  evidence: string[];
  series: BalancePoint[];
  suspects: Suspect[];
  episodes: Episode[] | null;  // null: this server does not report episodes
}

export interface TransformerRow {
  id: string;
  name: string;
  area: string;
  check_meter: string;
  consumer_count: number;
  analysis: BalanceAnalysis | null;  // null before the first analysis (or with the analysis off)
}

export interface TransformerDetail extends TransformerRow {
  consumers: string[];
  now_ms: number;
}

const bool = (v: unknown): boolean => v === true;
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === "object" && !Array.isArray(v) ? v as Record<string, unknown> : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const strings = (v: unknown): string[] => arr(v).filter((x): x is string => typeof x === "string");

export function normalize_point(raw: unknown): BalancePoint {
  const p = obj(raw);
  return {
    end_ms: num(p.end_ms), check_kwh: opt_num(p.check_kwh), consumers_kwh: num(p.consumers_kwh),
    consumers_missing: num(p.consumers_missing), evaluated: bool(p.evaluated), expected_loss_kwh: num(p.expected_loss_kwh),
    unexplained_kwh: opt_num(p.unexplained_kwh), alert: bool(p.alert),
  };
}

export function normalize_suspect(raw: unknown): Suspect {
  const s = obj(raw);
  return {
    meter: str(s.meter), rank: num(s.rank), score: num(s.score), flagged: bool(s.flagged), loss_share: opt_num(s.loss_share),
    attributed_kwh_per_day: opt_num(s.attributed_kwh_per_day), first_flagged_ms: opt_num(s.first_flagged_ms),
    reason: str(s.reason), evidence: strings(s.evidence),
  };
}

export function normalize_episode(raw: unknown): Episode {
  const e = obj(raw);
  const end = opt_num(e.end_ms);
  return {
    start_ms: num(e.start_ms), end_ms: end, energy_kwh: opt_num(e.energy_kwh), peak_loss_share: opt_num(e.peak_loss_share),
    open: typeof e.open === "boolean" ? e.open : end === null,
  };
}

export function normalize_analysis(raw: unknown): BalanceAnalysis | null {
  if (!raw || typeof raw !== "object") return null;
  const a = obj(raw);
  return {
    state: str(a.state), analysed_to_ms: num(a.analysed_to_ms), calibrated: bool(a.calibrated), alert: bool(a.alert),
    alert_since_ms: opt_num(a.alert_since_ms), unexplained_kwh: num(a.unexplained_kwh), check_kwh: num(a.check_kwh),
    loss_share: num(a.loss_share), alerts_raised: num(a.alerts_raised), evidence: strings(a.evidence),
    series: arr(a.series).map(normalize_point),
    suspects: arr(a.suspects ?? a.top_suspects).map(normalize_suspect),
    episodes: Array.isArray(a.episodes) ? a.episodes.map(normalize_episode) : null,
  };
}

function normalize_row(raw: unknown): TransformerRow {
  const t = obj(raw);
  const consumers = strings(t.consumers);
  return {
    id: str(t.id), name: str(t.name), area: str(t.area), check_meter: str(t.check_meter),
    consumer_count: typeof t.consumer_count === "number" ? num(t.consumer_count) : consumers.length,
    analysis: normalize_analysis(t.analysis),
  };
}

// Every transformer with its latest analysis; null when the server has no grid (404) or the caller
// may not see it (403).
export async function list_transformer_rows(): Promise<TransformerRow[] | null> {
  try {
    const r = await call<{ transformers: unknown[] }>("GET", "/api/v1/transformers");
    return arr(r.transformers).map(normalize_row);
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 403)) return null;
    throw err;
  }
}

// One transformer with its members and the analysis in full (the last `intervals` balance intervals).
export async function get_transformer(id: string, intervals = 96): Promise<TransformerDetail> {
  const r = await call<Record<string, unknown>>("GET", `/api/v1/transformers/${encodeURIComponent(id)}?intervals=${intervals}`);
  const t = obj(r.transformer);
  return { ...normalize_row({ ...t, analysis: r.analysis }), consumers: strings(t.consumers), now_ms: num(r.now_ms, Date.now()) };
}
