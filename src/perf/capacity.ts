import { decodeStepMs, prefillMsFromSums } from './latency.js';
import type { Profile } from './profile.js';

/**
 * Mean time in an M/D/1 system (Poisson arrivals at `arrivalsPerSecond`,
 * deterministic service of `serviceSeconds`): D + R·D²/(2(1−R·D)), DistServe's
 * TTFT model for a prefill instance. Infinity when the queue is unstable
 * (R·D ≥ 1); just D at zero load.
 */
export function md1MeanSeconds(arrivalsPerSecond: number, serviceSeconds: number): number {
  if (arrivalsPerSecond < 0 || serviceSeconds < 0) throw new RangeError('rate and service time must be ≥ 0');
  const utilisation = arrivalsPerSecond * serviceSeconds;
  if (utilisation >= 1) return Number.POSITIVE_INFINITY;
  return serviceSeconds + (arrivalsPerSecond * serviceSeconds * serviceSeconds) / (2 * (1 - utilisation));
}

/** Prefill service time of a single prompt of `promptTokens`, seconds (unbatched). */
export function prefillSeconds(profile: Profile, promptTokens: number): number {
  return prefillMsFromSums(profile, promptTokens, promptTokens * promptTokens) / 1000;
}

/**
 * Mean prefill service time for prompts with the given first and second
 * moments, seconds. Uses E[l] and E[l²] rather than the mean alone because the
 * cost is convex in l: a + b·E[l] + c·E[l²] (linear in the moments, so exact
 * for the mean of unbatched prefills).
 */
export function meanPrefillSeconds(profile: Profile, inputMean: number, inputSecondMoment: number): number {
  return prefillMsFromSums(profile, inputMean, inputSecondMoment) / 1000;
}

export interface DecodeCapacity {
  /** Largest batch whose step time meets the TPOT bound and whose KV fits. */
  maxBatch: number;
  /** Which bound stopped the batch from growing. */
  limitedBy: 'tpot' | 'kv';
  /** Step time at that batch, seconds. */
  stepSeconds: number;
  /** Output tokens per second the instance sustains at that batch. */
  tokensPerSecond: number;
}

/**
 * Decode throughput at a TPOT bound under the KV limit: the largest batch B
 * of requests with mean resident context `meanContextTokens` such that one
 * step takes ≤ `tpotSeconds` and B·context fits in KV. Returns maxBatch 0
 * when even one request cannot meet the bound.
 */
export function decodeCapacity(profile: Profile, tpotSeconds: number, meanContextTokens: number): DecodeCapacity {
  const context = Math.max(1, meanContextTokens);
  const kvBatch = Math.floor(profile.kvCapacityTokens / context);
  const fits = (batch: number) => decodeStepMs(profile, batch, batch * context) / 1000 <= tpotSeconds;
  // Step time is increasing in the batch within each regime, but the switch to
  // the large-batch fit can lower it; scan up to the KV bound with doubling
  // then bisection per regime.
  let best = 0;
  const threshold = profile.decodeMs.thresholdBatch;
  for (const [lo, hi] of [[1, Math.min(kvBatch, threshold - 1)], [threshold, kvBatch]] as const) {
    if (hi < lo || !fits(lo)) continue;
    let good = lo;
    let bad = hi + 1;
    if (fits(hi)) good = hi;
    else
      while (bad - good > 1) {
        const mid = Math.floor((good + bad) / 2);
        if (fits(mid)) good = mid;
        else bad = mid;
      }
    best = Math.max(best, good);
  }
  if (best === 0) return { maxBatch: 0, limitedBy: 'tpot', stepSeconds: decodeStepMs(profile, 1, context) / 1000, tokensPerSecond: 0 };
  const stepSeconds = decodeStepMs(profile, best, best * context) / 1000;
  return {
    maxBatch: best,
    limitedBy: best >= kvBatch ? 'kv' : 'tpot',
    stepSeconds,
    tokensPerSecond: best / stepSeconds,
  };
}
