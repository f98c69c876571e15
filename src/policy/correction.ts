import type { FleetSnapshot } from '../domain/fleet.js';
import type { Role } from '../domain/role.js';

/**
 * Correction factors = observed ÷ profiled latency (Dynamo's SLA planner:
 * prefill_correction = actual_ttft / expected_ttft, decode_correction =
 * actual_itl / expected_itl; DOPD uses the same ratio). They carry what the
 * profile does not model — queueing under bursts, prefix-cache hits,
 * interference — into the next sizing decision.
 *
 * Observed figures are the mean over non-stale workers of the role of the
 * p90 they report (our workers export p90, Dynamo reads the frontend's
 * mean). A factor is 1 — no correction — when nothing was observed or the
 * profiled figure is 0: missing metrics never push the decision (HPA).
 */
export function observedMean(snapshot: FleetSnapshot, role: Role, metric: 'ttftP90Seconds' | 'tpotP90Seconds'): number | undefined {
  let sum = 0;
  let n = 0;
  for (const w of snapshot.workers) {
    const v = w[metric];
    if (w.role !== role || w.status === 'stale' || v === undefined || !(v > 0)) continue;
    sum += v;
    n++;
  }
  return n === 0 ? undefined : sum / n;
}

export function correctionFactor(observedSeconds: number | undefined, profiledSeconds: number): number {
  if (observedSeconds === undefined || !(profiledSeconds > 0) || !Number.isFinite(observedSeconds)) return 1;
  return observedSeconds / profiledSeconds;
}

/** Mean of a per-worker figure over the non-stale workers of a role (0 when there are none). */
export function meanOverRole(snapshot: FleetSnapshot, role: Role, figure: (w: FleetSnapshot['workers'][number]) => number): number {
  const ws = snapshot.workers.filter((w) => w.role === role && w.status !== 'stale');
  return ws.length === 0 ? 0 : ws.reduce((s, w) => s + figure(w), 0) / ws.length;
}
