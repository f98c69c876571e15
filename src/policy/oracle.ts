import { Type, type Static } from '@sinclair/typebox';
import type { LoadSample } from '../domain/load.js';
import type { LengthMoments } from './phase-capacity.js';
import { bestSplit, BurstFactor, phaseFloors, splitModel, type SplitModel } from './pdpilot-policy.js';
import type { Policy, PolicyContext, PolicyDecision } from './policy.js';
import { currentSplit, flipsToward, MIN_INSTANCES_PER_ROLE, usableWorkers } from './split.js';

/**
 * `oracle`: the upper bound of the bench (docs/policies/oracle.md). It runs
 * the strongest planner we have — pdpilot's pool-level capacity model and
 * split search (pdpilot-policy.ts `splitModel`, `bestSplit`) — on the
 * **true** load of the coming intervals (context.future, which only the
 * simulator supplies), and the simulator makes its flips free. So it is
 * pdpilot with a perfect forecast and no flip cost: what pdpilot could
 * reach with perfect knowledge, not a weaker heuristic.
 *
 * Each interval, for each coming interval i of the lookahead: lengths
 * (E[l], E[l²], E[o]) and rate λ_i of that interval; demand on prefill
 * κ·λ_i + queued prompts ÷ horizon, on decode λ_i + queued decodes ÷
 * horizon (κ: pdpilot's burst factor from the observed TTFT, because the
 * true per-interval rate says nothing of the bursts within the interval).
 * A split's headroom is its worst over the lookahead; the oracle moves
 * straight to the split with the most (no hysteresis, no cost test: flips
 * are free). It reads nothing pdpilot could not, except the future.
 */
export const OracleParamsSchema = Type.Object(
  {
    lookaheadIntervals: Type.Integer({ minimum: 1, default: 1, description: 'future intervals the split must serve (worst headroom over them)' }),
    linkGBps: Type.Number({ exclusiveMinimum: 0, default: 300, description: "prefill→decode KV link, GB/s, for the TTFT budget (as pdpilot's)" }),
    kvPressure: Type.Number({ minimum: 0, maximum: 1, default: 0.9, description: "decode KV usage above which a late first token is not blamed on prefill (as pdpilot's burst factor)" }),
  },
  { additionalProperties: false },
);
export type OracleParams = Static<typeof OracleParamsSchema>;

function lengthsOf(sample: LoadSample): LengthMoments {
  return { inputMean: sample.inputMean, inputSecondMoment: Math.max(sample.inputSecondMoment, sample.inputMean ** 2), outputMean: sample.outputMean };
}

export class OraclePolicy implements Policy {
  readonly name = 'oracle';
  /** pdpilot's burst factor κ (BurstFactor), from the contexts seen. */
  private readonly burst = new BurstFactor();

  constructor(readonly params: OracleParams) {}

  decide(context: PolicyContext): PolicyDecision {
    const { snapshot } = context;
    if (!context.future) throw new Error('the oracle policy needs the true future load (context.future), which only the simulator supplies');
    const current = currentSplit(snapshot);
    const workers = usableWorkers(snapshot);
    const pool = workers.length;
    const linkBytesPerSecond = this.params.linkGBps * 1e9;
    const queuedPrefill = workers.filter((w) => w.role === 'prefill').reduce((n, w) => n + w.queuedRequests, 0);
    const queuedDecode = workers.filter((w) => w.role === 'decode').reduce((n, w) => n + w.queuedRequests, 0);
    const burst = this.burst.update(context, workers, queuedDecode, this.params.kvPressure, linkBytesPerSecond);
    const coming = context.future.slice(0, this.params.lookaheadIntervals).filter((s) => s.requests > 0 && s.intervalSeconds > 0 && s.inputMean > 0);
    if (coming.length === 0 || pool < 2 * MIN_INSTANCES_PER_ROLE) {
      const reason = { code: 'idle', message: 'no load in the coming intervals: keeping the split', detail: { pool } };
      return { target: current, changes: [], reason };
    }
    const horizonSeconds = context.future.slice(0, this.params.lookaheadIntervals).reduce((s, x) => s + x.intervalSeconds, 0);
    const models: SplitModel[] = coming.map((s) => {
      const rate = s.requests / s.intervalSeconds;
      return splitModel(
        context,
        pool,
        lengthsOf(s),
        burst * rate + queuedPrefill / horizonSeconds,
        rate + queuedDecode / horizonSeconds,
        linkBytesPerSecond,
        rate + queuedPrefill / horizonSeconds,
      );
    });
    const prefillHeadroom = (p: number) => Math.min(...models.map((m) => m.prefillHeadroom(p)));
    const decodeHeadroom = (d: number) => Math.min(...models.map((m) => m.decodeHeadroom(d)));
    // pdpilot's phase floors, over every interval of the lookahead: κ never starves decode.
    const bounds = phaseFloors(
      pool,
      (p) => models.every((m) => m.prefillCarriesBase(p)),
      (d) => models.every((m) => m.decodeHeadroom(d) >= 1),
    );
    const best = bestSplit(pool, prefillHeadroom, decodeHeadroom, current.prefill, bounds);
    const headroom = Math.min(prefillHeadroom(best), decodeHeadroom(pool - best));
    const target = { prefill: best, decode: pool - best };
    const first = coming[0] as LoadSample;
    const rate = first.requests / first.intervalSeconds;
    const reason = {
      code: headroom > 0 ? 'oracle-best-split' : 'oracle-slo-infeasible',
      message: `true load ${rate.toFixed(2)} req/s: ${target.prefill}P/${target.decode}D has the most headroom (${Number.isFinite(headroom) ? headroom.toFixed(3) : '∞'}× the demand)`,
      detail: {
        requestsPerSecond: rate,
        inputMean: first.inputMean,
        outputMean: first.outputMean,
        burstFactor: burst,
        headroom: Number.isFinite(headroom) ? headroom : 1e9,
        prefill: target.prefill,
        decode: target.decode,
      },
    };
    return { target, changes: flipsToward(snapshot, target, reason), reason };
  }
}
