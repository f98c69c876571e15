import { Type, type Static } from '@sinclair/typebox';
import { decodeCapacity, meanPrefillSeconds } from '../perf/capacity.js';
import { decodeStepMs } from '../perf/latency.js';
import { correctionFactor, meanOverRole, observedMean } from './correction.js';
import type { Policy, PolicyContext, PolicyDecision } from './policy.js';
import { currentSplit, flipsToward, proportionalSplit, usableWorkers } from './split.js';

/**
 * `dynamo-sla`: NVIDIA Dynamo's SLA (throughput-based) planner
 * (docs/policies/dynamo-sla.md). From the forecast rate λ, ISL and OSL:
 *   prefill: load = λ·ISL·min(1, prefill_correction) tokens/s, over the
 *            profiled prefill throughput of one instance at ISL;
 *   decode:  the best decode throughput that meets TPOT / decode_correction
 *            at context ISL + OSL/2 under KV, over load λ·OSL tokens/s;
 * replicas = ⌈load / throughput⌉ per phase; corrections = observed ÷ expected
 * latency. Over (or under) the pool, both counts are scaled by pool ÷ wanted.
 */
export const DynamoSlaParamsSchema = Type.Object(
  {
    useCorrection: Type.Boolean({ default: true, description: "apply the correction factors (Dynamo's --no-correction turns them off)" }),
  },
  { additionalProperties: false },
);
export type DynamoSlaParams = Static<typeof DynamoSlaParamsSchema>;

export class DynamoSlaPolicy implements Policy {
  readonly name = 'dynamo-sla';

  constructor(readonly params: DynamoSlaParams) {}

  decide(context: PolicyContext): PolicyDecision {
    const { snapshot, forecast, profile, slo } = context;
    const current = currentSplit(snapshot);
    const pool = usableWorkers(snapshot).length;
    const rate = forecast.requestsPerSecond.mean;
    if (!(rate > 0) || !(forecast.inputMean > 0)) {
      const reason = { code: 'idle', message: 'no load forecast: keeping the split', detail: { requestsPerSecond: rate } };
      return { target: current, changes: [], reason };
    }
    const isl = forecast.inputMean;
    const osl = Math.max(1, forecast.outputMean);
    const contextTokens = isl + osl / 2;

    // Prefill is single-batched in Dynamo's profile, so its correction scales the load linearly;
    // min(1, ·) as in Dynamo: a slow TTFT does not inflate the token load, prefix-cache hits shrink it.
    const prefillSeconds = meanPrefillSeconds(profile, isl, Math.max(forecast.inputSecondMoment, isl * isl));
    const prefillTokensPerSecond = isl / prefillSeconds;
    const observedBatch = Math.max(1, Math.round(meanOverRole(snapshot, 'decode', (w) => w.runningRequests)));
    const prefillCorrection = this.params.useCorrection ? correctionFactor(observedMean(snapshot, 'prefill', 'ttftP90Seconds'), prefillSeconds) : 1;
    const decodeCorrection = this.params.useCorrection
      ? correctionFactor(observedMean(snapshot, 'decode', 'tpotP90Seconds'), decodeStepMs(profile, observedBatch, observedBatch * contextTokens) / 1000)
      : 1;
    const prefillLoad = rate * isl * Math.min(1, prefillCorrection);
    const prefillWanted = Math.ceil(prefillLoad / prefillTokensPerSecond);

    // Decode: the correction tightens (or loosens) the TPOT target the profile is read at.
    const correctedTpotSeconds = slo.tpotSeconds / decodeCorrection;
    const decode = decodeCapacity(profile, correctedTpotSeconds, contextTokens);
    const decodeLoad = rate * osl;
    // No batch meets the corrected TPOT: ask for the whole pool, the most decode can get.
    const decodeWanted = decode.tokensPerSecond > 0 ? Math.ceil(decodeLoad / decode.tokensPerSecond) : pool;

    const target = proportionalSplit(prefillWanted, decodeWanted, pool) ?? current;
    const reason = {
      code: decode.tokensPerSecond > 0 ? (prefillWanted + decodeWanted > pool ? 'sla-replicas-over-pool' : 'sla-replicas') : 'decode-tpot-infeasible',
      message: `prefill ${prefillLoad.toFixed(0)} tok/s ÷ ${prefillTokensPerSecond.toFixed(0)} → ${prefillWanted}; decode ${decodeLoad.toFixed(0)} tok/s ÷ ${decode.tokensPerSecond.toFixed(0)} at TPOT ${(correctedTpotSeconds * 1000).toFixed(1)} ms → ${decodeWanted}; ${target.prefill}P/${target.decode}D of ${pool}`,
      detail: {
        prefillLoadTokensPerSecond: prefillLoad,
        prefillTokensPerSecond,
        decodeLoadTokensPerSecond: decodeLoad,
        decodeTokensPerSecond: decode.tokensPerSecond,
        correctedTpotSeconds,
        prefillCorrection,
        decodeCorrection,
        prefillWanted,
        decodeWanted,
        prefill: target.prefill,
        decode: target.decode,
      },
    };
    return { target, changes: flipsToward(snapshot, target, reason), reason };
  }
}
