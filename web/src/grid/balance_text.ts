// A transformer's balance state in plain words, for the grid list and the transformer page: what an
// operator should take from the analysis, with the numbers a reviewer needs. Data in, text out.

import { age, full_time } from "../format";
import type { BalanceAnalysis, Episode } from "./grid_api";

export type BalanceState = "alarm" | "not_evaluable" | "calibrating" | "balanced" | "none";

// Order of attention in the grid list.
export const kBalanceRank: Readonly<Record<BalanceState, number>> = { alarm: 0, not_evaluable: 1, calibrating: 2, balanced: 3, none: 4 };

const kServerStates: Readonly<Record<string, BalanceState>> = {
  alert: "alarm", not_evaluable: "not_evaluable", calibrating: "calibrating", clean: "balanced",
};

export function balance_state(a: BalanceAnalysis | null): BalanceState {
  if (!a) return "none";
  // The server's own decision when it gives one; older servers only give the alarm and the intervals.
  const said = kServerStates[a.state];
  if (said) return said;
  if (a.alert) return "alarm";
  if (!a.calibrated) return "calibrating";
  const last = a.series.length ? a.series[a.series.length - 1] : null;
  // A silent check meter leaves the balance unknown: never call that clean.
  if (last && !last.evaluated) return "not_evaluable";
  return "balanced";
}

const pct = (share: number): string => `${(share * 100).toFixed(share < 0.1 ? 1 : 0)} %`;
const kwh_text = (kwh: number): string => `${kwh.toFixed(Math.abs(kwh) < 100 ? 1 : 0)} kWh`;

export function balance_text(a: BalanceAnalysis | null): string {
  switch (balance_state(a)) {
    case "none": return "Not analysed yet.";
    case "calibrating": return "Learning this transformer's technical loss from its history; nothing alarms until then.";
    case "not_evaluable": return "Not evaluable: the check meter has stopped reporting, so the balance is unknown (not clean).";
    case "alarm": {
      const since = a!.alert_since_ms ? ` since ${full_time(a!.alert_since_ms)}` : "";
      return `Energy balance alarm${since}: ${kwh_text(a!.unexplained_kwh)} (${pct(a!.loss_share)} of the energy supplied) ` +
        "is not explained by the consumers' meters and the technical loss.";
    }
    case "balanced":
      return `Balanced: ${kwh_text(a!.unexplained_kwh)} (${pct(a!.loss_share)}) beyond the consumers' meters and the modelled ` +
        "technical loss since calibration, within its noise.";
  }
}

export function episode_duration(e: Episode, now_ms: number): string {
  return age((e.end_ms ?? now_ms) - e.start_ms);
}
