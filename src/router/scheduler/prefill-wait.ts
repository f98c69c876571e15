import type { LatencyCoefficients } from '../../perf/profile.js';
import type { PrefillView } from './types.js';

/**
 * Estimated seconds before a new prompt could start on prefill instance `i`:
 * what is left of the batch now running, plus the queued prompts priced with
 * the profile's convex cost a + b·Σl + c·Σl², where the fixed term a is paid
 * once per batch of up to `tokenBudget` tokens. Shared by the length-aware
 * scorer and the short-lane filter so both judge queues the same way.
 */
export function prefillWaitSeconds(
  view: PrefillView,
  i: number,
  nowSeconds: number,
  coefficientsMs: LatencyCoefficients,
  tokenBudget: number,
): number {
  const [a, b, c] = coefficientsMs;
  const runningLeft = Math.max(0, (view.busyUntilSeconds[i] as number) - nowSeconds);
  const tokens = view.queuedTokens[i] as number;
  if (tokens <= 0) return runningLeft;
  const batches = Math.ceil(tokens / tokenBudget);
  return runningLeft + (a * batches + b * tokens + c * (view.queuedSquaredTokens[i] as number)) / 1000;
}

/** Seconds to prefill one prompt of `promptTokens` alone. */
export function ownPrefillSeconds(promptTokens: number, coefficientsMs: LatencyCoefficients): number {
  const [a, b, c] = coefficientsMs;
  return (a + b * promptTokens + c * promptTokens * promptTokens) / 1000;
}
