import { Type, type Static } from '@sinclair/typebox';
import { meanPrefillSeconds } from '../perf/capacity.js';
import { decodeStepMs } from '../perf/latency.js';
import { correctionFactor, meanOverRole, observedMean } from './correction.js';
import type { Policy, PolicyContext, PolicyDecision } from './policy.js';
import { currentSplit, flipsToward, proportionalSplit, usableWorkers } from './split.js';

/**
 * `dopd`: DOPD's P/D ratio rule (DESIGN.md; docs/policies/dopd.md).
 *   C_max = ⌊KV capacity / (ISL + OSL/2)⌋ concurrent requests per decode instance;
 *   r     = C_max · TTFT / (OSL · TPOT) prefill instances per decode instance
 *           (a decode instance finishes C_max requests every OSL·TPOT s, a
 *           prefill instance one every TTFT s);
 *   N_D   = ⌈predicted concurrency / C_max⌉, concurrency = λ · OSL · TPOT (Little);
 *   N_P   = ⌈r · N_D⌉;
 * TTFT and TPOT are the profile's, times correction factors observed ÷ profiled.
 * N_P : N_D is then fitted to the pool.
 */
export const DopdParamsSchema = Type.Object(
  {
    useCorrection: Type.Boolean({ default: true, description: 'scale profiled TTFT and TPOT by observed ÷ profiled latency' }),
  },
  { additionalProperties: false },
);
export type DopdParams = Static<typeof DopdParamsSchema>;

export class DopdPolicy implements Policy {
  readonly name = 'dopd';

  constructor(readonly params: DopdParams) {}

  decide(context: PolicyContext): PolicyDecision {
    const { snapshot, forecast, profile } = context;
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
    const cMax = Math.max(1, Math.floor(profile.kvCapacityTokens / contextTokens));

    const ttftProfiledSeconds = meanPrefillSeconds(profile, isl, Math.max(forecast.inputSecondMoment, isl * isl));
    const tpotProfiledSeconds = decodeStepMs(profile, cMax, cMax * contextTokens) / 1000;
    // The decode correction compares the observed TPOT with the profile at the
    // batch the decode instances actually run, not at C_max.
    const observedBatch = Math.max(1, Math.round(meanOverRole(snapshot, 'decode', (w) => w.runningRequests)));
    const prefillCorrection = this.params.useCorrection ? correctionFactor(observedMean(snapshot, 'prefill', 'ttftP90Seconds'), ttftProfiledSeconds) : 1;
    const decodeCorrection = this.params.useCorrection
      ? correctionFactor(observedMean(snapshot, 'decode', 'tpotP90Seconds'), decodeStepMs(profile, observedBatch, observedBatch * contextTokens) / 1000)
      : 1;
    const ttftSeconds = ttftProfiledSeconds * prefillCorrection;
    const tpotSeconds = tpotProfiledSeconds * decodeCorrection;

    const ratio = (cMax * ttftSeconds) / (osl * tpotSeconds);
    const concurrency = rate * osl * tpotSeconds;
    const decodeWanted = Math.ceil(concurrency / cMax);
    const prefillWanted = Math.ceil(ratio * decodeWanted);
    const target = proportionalSplit(prefillWanted, decodeWanted, pool) ?? current;
    const reason = {
      code: prefillWanted + decodeWanted > pool ? 'dopd-ratio-over-pool' : 'dopd-ratio',
      message: `C_max ${cMax}, r ${ratio.toFixed(2)}, N_D ${decodeWanted}, N_P ${prefillWanted} → ${target.prefill}P/${target.decode}D of ${pool}`,
      detail: { cMax, ratio, concurrency, decodeWanted, prefillWanted, prefillCorrection, decodeCorrection, ttftSeconds, tpotSeconds, prefill: target.prefill, decode: target.decode },
    };
    return { target, changes: flipsToward(snapshot, target, reason), reason };
  }
}
