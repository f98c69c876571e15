import { Type, type Static } from '@sinclair/typebox';
import type { LoadSample } from '../domain/load.js';
import type { Profile } from '../perf/profile.js';
import { meanPrefillSeconds } from '../perf/capacity.js';
import type { Slo } from '../domain/slo.js';
import { decodeInstanceRate, prefillInstanceRate } from './phase-capacity.js';
import type { Policy, PolicyContext, PolicyDecision } from './policy.js';
import { currentSplit, flipsToward, usableWorkers } from './split.js';

/**
 * `oracle`: knows the true load of the coming intervals (context.future,
 * which only the simulator supplies) and picks the split the profile says
 * serves it best; the simulator makes its flips free. It is the upper bound
 * of the bench, not a deployable policy (docs/policies/oracle.md).
 *
 * A split (p, d) is scored by its pressure, the larger of
 *   prefill: λ / (p · prefill rate one instance serves within the TTFT SLO at the attainment percentile, M/D/1),
 *   decode:  λ / (d · decode rate one instance serves within the TPOT SLO under KV),
 * worst over the lookahead; the lowest score wins, ties to the split nearest
 * the current one. When no split meets the SLO, raw utilisation decides.
 */
export const OracleParamsSchema = Type.Object(
  {
    lookaheadIntervals: Type.Integer({ minimum: 1, default: 1, description: 'future intervals the split must serve (worst case over them)' }),
  },
  { additionalProperties: false },
);
export type OracleParams = Static<typeof OracleParamsSchema>;

interface PhaseRates {
  requestsPerSecond: number;
  /** Per-instance rates within the SLO (0 when the SLO cannot be met). */
  prefillSlo: number;
  decodeSlo: number;
  /** Per-instance rates with no latency bound: prefill at 100% busy, decode at the KV-bound batch. */
  prefillRaw: number;
  decodeRaw: number;
}

function ratesOf(sample: LoadSample, profile: Profile, slo: Slo): PhaseRates {
  const lengths = { inputMean: sample.inputMean, inputSecondMoment: Math.max(sample.inputSecondMoment, sample.inputMean ** 2), outputMean: sample.outputMean };
  return {
    requestsPerSecond: sample.intervalSeconds > 0 ? sample.requests / sample.intervalSeconds : 0,
    prefillSlo: prefillInstanceRate(profile, slo.ttftSeconds, slo.attainment, lengths),
    decodeSlo: decodeInstanceRate(profile, slo.tpotSeconds, lengths).requestsPerSecond,
    prefillRaw: 1 / meanPrefillSeconds(profile, lengths.inputMean, lengths.inputSecondMoment),
    decodeRaw: decodeInstanceRate(profile, Number.POSITIVE_INFINITY, lengths).requestsPerSecond,
  };
}

function pressure(rate: number, instances: number, perInstance: number): number {
  if (rate <= 0) return 0;
  return perInstance > 0 ? rate / (instances * perInstance) : Number.POSITIVE_INFINITY;
}

/** SLO pressure and raw utilisation of split (prefill, decode) under one interval's load. */
export function splitPressure(rates: PhaseRates, prefill: number, decode: number): { slo: number; raw: number } {
  const r = rates.requestsPerSecond;
  return {
    slo: Math.max(pressure(r, prefill, rates.prefillSlo), pressure(r, decode, rates.decodeSlo)),
    raw: Math.max(pressure(r, prefill, rates.prefillRaw), pressure(r, decode, rates.decodeRaw)),
  };
}

export class OraclePolicy implements Policy {
  readonly name = 'oracle';

  constructor(readonly params: OracleParams) {}

  decide(context: PolicyContext): PolicyDecision {
    const { snapshot, profile, slo } = context;
    if (!context.future) throw new Error('the oracle policy needs the true future load (context.future), which only the simulator supplies');
    const current = currentSplit(snapshot);
    const pool = usableWorkers(snapshot).length;
    const coming = context.future.slice(0, this.params.lookaheadIntervals).filter((s) => s.requests > 0);
    if (coming.length === 0 || pool < 2) {
      const reason = { code: 'idle', message: 'no load in the coming intervals: keeping the split', detail: { pool } };
      return { target: current, changes: [], reason };
    }
    const rates = coming.map((s) => ratesOf(s, profile, slo));
    let best = { prefill: current.prefill, slo: Infinity, raw: Infinity };
    for (let prefill = 1; prefill < pool; prefill++) {
      let sloScore = 0;
      let rawScore = 0;
      for (const r of rates) {
        const p = splitPressure(r, prefill, pool - prefill);
        sloScore = Math.max(sloScore, p.slo);
        rawScore = Math.max(rawScore, p.raw);
      }
      const better =
        sloScore < best.slo ||
        (sloScore === best.slo && (rawScore < best.raw || (rawScore === best.raw && Math.abs(prefill - current.prefill) < Math.abs(best.prefill - current.prefill))));
      if (better) best = { prefill, slo: sloScore, raw: rawScore };
    }
    const target = { prefill: best.prefill, decode: pool - best.prefill };
    const first = rates[0] as PhaseRates;
    const reason = {
      code: Number.isFinite(best.slo) ? 'oracle-best-split' : 'oracle-slo-infeasible',
      message: `true load ${first.requestsPerSecond.toFixed(2)} req/s: ${target.prefill}P/${target.decode}D has the lowest pressure (${best.slo.toFixed(3)})`,
      detail: { requestsPerSecond: first.requestsPerSecond, pressure: best.slo, utilisation: best.raw, prefill: target.prefill, decode: target.decode },
    };
    return { target, changes: flipsToward(snapshot, target, reason), reason };
  }
}
