import type { DecodeCoefficients, LatencyCoefficients, Profile } from './profile.js';

/**
 * Prefill time of one batch from its sums: Σl (tokens) and Σl² (tokens²).
 * Working from sums lets callers keep running totals instead of arrays.
 */
export function prefillMsFromSums(profile: Profile, sumTokens: number, sumSquaredTokens: number, coefficients?: LatencyCoefficients): number {
  const [a, b, c] = coefficients ?? profile.prefillMs;
  const t = a + b * sumTokens + c * sumSquaredTokens;
  const pp = profile.pipelineParallel;
  // DistServe's simulator: each pipeline stage does 1/pp of the work, plus ~1 ms per stage of hand-off.
  return pp > 1 ? t / pp + pp : t;
}

/** Prefill time of a batch of prompts (lengths in tokens), milliseconds. */
export function prefillBatchMs(profile: Profile, promptTokens: readonly number[]): number {
  let sum = 0;
  let sumSquares = 0;
  for (const l of promptTokens) {
    sum += l;
    sumSquares += l * l;
  }
  return prefillMsFromSums(profile, sum, sumSquares);
}

/**
 * One decode step for `batch` requests whose contexts add up to
 * `sumContextTokens` (Σ context, before the new token), milliseconds. The
 * fitted form takes Σ(context+1), i.e. Σcontext + batch.
 */
export function decodeStepMs(profile: Profile, batch: number, sumContextTokens: number, coefficients?: DecodeCoefficients): number {
  if (batch <= 0) return 0;
  const fit = coefficients ?? profile.decodeMs;
  const [a, b, c] = batch < fit.thresholdBatch ? fit.smallBatch : fit.largeBatch;
  const t = a + b * (sumContextTokens + batch) + c * batch;
  return t / profile.pipelineParallel;
}

/** Seconds to move the KV of `tokens` tokens over a link of `bandwidthBytesPerSecond`. */
export function kvTransferSeconds(profile: Profile, tokens: number, bandwidthBytesPerSecond: number): number {
  if (!(bandwidthBytesPerSecond > 0)) throw new RangeError(`bandwidth must be positive, got ${bandwidthBytesPerSecond}`);
  return (tokens * profile.kvBytesPerToken) / bandwidthBytesPerSecond;
}
