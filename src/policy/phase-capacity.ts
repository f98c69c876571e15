import { decodeCapacity, meanPrefillSeconds } from '../perf/capacity.js';
import type { Profile } from '../perf/profile.js';
import { md1WaitQuantileSeconds } from '../perf/queueing.js';
import { bisectLargest } from '../lib/stats.js';

/**
 * How many requests per second one instance of each phase serves within
 * the SLO, from the profile alone. Shared by the `oracle` policy and the
 * `pdpilot plan` placement search, so both judge a split the same way.
 */

/** Length moments of the requests being served. */
export interface LengthMoments {
  inputMean: number;
  /** E[l²], tokens². */
  inputSecondMoment: number;
  outputMean: number;
}

/**
 * Largest arrival rate (req/s) one prefill instance takes while the
 * `attainment` percentile of TTFT stays within `ttftSeconds`: DistServe's
 * M/D/1 model with the mean service time from the length moments (so a
 * long-tailed prompt mix costs more than its mean suggests), TTFT = wait
 * percentile + service. 0 when even an idle instance misses the bound.
 */
export function prefillInstanceRate(profile: Profile, ttftSeconds: number, attainment: number, lengths: LengthMoments): number {
  const serviceSeconds = meanPrefillSeconds(profile, lengths.inputMean, lengths.inputSecondMoment);
  if (!(serviceSeconds > 0)) return Number.POSITIVE_INFINITY;
  if (serviceSeconds > ttftSeconds) return 0;
  const maxRate = 1 / serviceSeconds;
  const meets = (rate: number) => serviceSeconds + md1WaitQuantileSeconds(rate, serviceSeconds, attainment) <= ttftSeconds;
  return bisectLargest(meets, 0, maxRate * (1 - 1e-9), 1e-4);
}

export interface DecodeInstanceRate {
  /** Requests per second one decode instance completes within the TPOT bound. */
  requestsPerSecond: number;
  /** Concurrent requests at that rate (the batch), and what bounds it. */
  batch: number;
  limitedBy: 'tpot' | 'kv';
  stepSeconds: number;
}

/**
 * Decode throughput of one instance in requests per second: the largest
 * batch within the TPOT bound and the KV capacity at the mean resident
 * context ISL + OSL/2 (a request's context grows from ISL to ISL + OSL),
 * each request holding its slot for OSL steps.
 */
export function decodeInstanceRate(profile: Profile, tpotSeconds: number, lengths: LengthMoments): DecodeInstanceRate {
  const outputTokens = Math.max(1, lengths.outputMean);
  const cap = decodeCapacity(profile, tpotSeconds, lengths.inputMean + outputTokens / 2);
  const requestsPerSecond = cap.maxBatch === 0 ? 0 : cap.maxBatch / (outputTokens * cap.stepSeconds);
  return { requestsPerSecond, batch: cap.maxBatch, limitedBy: cap.limitedBy, stepSeconds: cap.stepSeconds };
}
