import { bisectLargest, logFactorial, normalUpperTail } from '../lib/stats.js';
import { decodeCapacity, meanPrefillSeconds } from '../perf/capacity.js';
import { decodeStepMs, kvTransferSeconds } from '../perf/latency.js';
import type { Profile } from '../perf/profile.js';
import type { LengthMoments } from './phase-capacity.js';

/**
 * Pool-level phase capacities for `pdpilot` (docs/policies/pdpilot.md,
 * "Capacity"). Unlike phase-capacity.ts, which sizes one instance as an
 * isolated M/D/1 queue, these model a role's instances as one pool behind
 * the router — the router sends each prompt to the instance that finishes
 * it soonest and each decode to the one with free KV — so capacity grows
 * faster than linearly in the instance count (pooling), and the prompt-length
 * spread enters the prefill wait (M/G/c, not M/D/c).
 */

/** Rates above this fraction of the raw service capacity are never searched: the queue would be unstable. */
const STABLE_FRACTION = 1 - 1e-9;
/** Relative precision of the capacity bisections: well inside the goodput search's 2 %. */
const RATE_TOLERANCE = 1e-3;

/**
 * Erlang C: the probability that an arrival waits in an M/M/c queue with
 * offered load `offered` = λ·E[S] (in servers), via the Erlang B recursion
 * B(k) = a·B(k−1) / (k + a·B(k−1)), C = c·B / (c − a·(1 − B)). 1 when unstable.
 */
export function erlangC(servers: number, offered: number): number {
  if (offered <= 0) return 0;
  if (offered >= servers) return 1;
  let b = 1;
  for (let k = 1; k <= servers; k++) b = (offered * b) / (k + offered * b);
  return (servers * b) / (servers - offered * (1 - b));
}

/** Prefill service-time figures of a prompt mix. */
export interface PrefillService {
  /** E[S], seconds: a + b·E[l] + c·E[l²] (exact for the mean, since S is linear in l and l²). */
  meanSeconds: number;
  /**
   * Squared coefficient of variation of S. With only E[l] and E[l²] known,
   * S is taken along its secant S ≈ a + k·l, k = (E[S] − a)/E[l], so
   * Var(S) ≈ k²·Var(l): the spread of prompt lengths becomes the spread of
   * service times (slightly under-stated, as S is convex in l).
   */
  scv: number;
}

export function prefillService(profile: Profile, lengths: LengthMoments): PrefillService {
  const meanSeconds = meanPrefillSeconds(profile, lengths.inputMean, lengths.inputSecondMoment);
  const fixedSeconds = meanPrefillSeconds(profile, 0, 0);
  const variance = Math.max(0, lengths.inputSecondMoment - lengths.inputMean ** 2);
  const slope = lengths.inputMean > 0 ? (meanSeconds - fixedSeconds) / lengths.inputMean : 0;
  const scv = meanSeconds > 0 ? (slope * slope * variance) / (meanSeconds * meanSeconds) : 0;
  return { meanSeconds, scv };
}

/**
 * The `quantile` of the waiting time of an M/G/c queue, seconds (Infinity
 * when unstable). M/M/c has P(W > t) = C(c, a)·e^(−(c − a)·t/E[S]); the
 * Allen–Cunneen approximation scales the M/M/c wait by (1 + c_s²)/2 for
 * general service, so P(W > t) ≈ C·e^(−(c − a)·t / (E[S]·(1 + c_s²)/2)).
 * With c_s² = 0 and c = 1 this is within a few percent of the exact M/D/1
 * tail of perf/queueing.ts at the percentiles SLOs use.
 */
export function mgcWaitQuantileSeconds(arrivalsPerSecond: number, servers: number, service: PrefillService, quantile: number): number {
  const offered = arrivalsPerSecond * service.meanSeconds;
  if (offered >= servers) return Number.POSITIVE_INFINITY;
  const waitProbability = erlangC(servers, offered);
  const tail = 1 - quantile;
  if (waitProbability <= tail) return 0;
  const scale = (service.meanSeconds * (1 + service.scv)) / 2;
  return (scale / (servers - offered)) * Math.log(waitProbability / tail);
}

/**
 * Largest arrival rate (req/s) `instances` prefill instances take while the
 * `attainment` percentile of TTFT = E[S] + wait + KV transfer stays within
 * `ttftSeconds`. 0 when even an idle pool misses; Infinity with no service time.
 */
export function prefillPoolRate(
  profile: Profile,
  instances: number,
  ttftSeconds: number,
  attainment: number,
  lengths: LengthMoments,
  linkBytesPerSecond: number,
): number {
  if (instances <= 0) return 0;
  const service = prefillService(profile, lengths);
  if (!(service.meanSeconds > 0)) return Number.POSITIVE_INFINITY;
  // The first token reaches the user when the KV lands on the decode instance (docs/sim.md).
  const budget = ttftSeconds - service.meanSeconds - kvTransferSeconds(profile, lengths.inputMean, linkBytesPerSecond);
  if (budget < 0) return 0;
  const meets = (rate: number) => mgcWaitQuantileSeconds(rate, instances, service, attainment) <= budget;
  return bisectLargest(meets, 0, (instances / service.meanSeconds) * STABLE_FRACTION, RATE_TOLERANCE);
}

/**
 * P(N > k) for N ~ Poisson(mean). Up to a mean of POISSON_EXACT_MAX_MEAN the
 * terms are summed in log space (so a large mean neither overflows nor gives
 * NaN), and only those within POISSON_WINDOW_SIGMAS standard deviations of
 * the mean: the rest are below e^-70 of the mode and do not change a double.
 * Above it, the Wilson–Hilferty cube-root normal approximation of the
 * equivalent χ² tail, P(N > k) = P(χ²(2k + 2) < 2·mean), whose error there is
 * below 1e-6 (tested against the sum). Why it matters: decodePoolRate calls
 * this inside a bisection for every candidate split, and a fleet of fast
 * instances has a million decode slots; summing from 0 once took the daemon
 * 9 s per reconcile, on the event loop the router shares, and the windowed
 * sum alone still took 120 ms under load.
 */
export function poissonTail(mean: number, k: number): number {
  if (mean <= 0) return 0;
  if (k < 0) return 1;
  if (mean > POISSON_EXACT_MAX_MEAN) {
    const dof = 2 * (k + 1);
    const z = (Math.cbrt((2 * mean) / dof) - (1 - 2 / (9 * dof))) / Math.sqrt(2 / (9 * dof));
    return normalUpperTail(-z);
  }
  const halfWindow = POISSON_WINDOW_SIGMAS * Math.sqrt(mean) + 30;
  if (k < mean - halfWindow) return 1;
  if (k > mean + halfWindow) return 0;
  const first = Math.max(0, Math.floor(mean - halfWindow));
  const logMean = Math.log(mean);
  let logTerm = -mean + first * logMean - logFactorial(first);
  let cdf = Math.exp(logTerm);
  for (let i = first + 1; i <= k; i++) {
    logTerm += logMean - Math.log(i);
    cdf += Math.exp(logTerm);
  }
  return Math.max(0, 1 - cdf);
}

const POISSON_WINDOW_SIGMAS = 12;
const POISSON_EXACT_MAX_MEAN = 10_000;

/** What one decode instance holds at the TPOT bound. */
export interface DecodeSlots {
  /** Largest batch within the TPOT bound whose reserved KV fits. */
  batch: number;
  /** Step time at that batch, seconds: the slowest step the SLO accepts. */
  stepSeconds: number;
}

/**
 * The batch one decode instance runs at the TPOT bound. Step time is taken
 * at the mean resident context ISL + OSL/2 (a context grows from ISL to
 * ISL + OSL); the KV bound counts ISL + OSL per request, because a request's
 * whole KV is reserved when it is admitted (docs/sim.md; an engine that
 * cannot preempt must do the same).
 */
export function decodeSlots(profile: Profile, tpotSeconds: number, lengths: LengthMoments): DecodeSlots {
  const outputTokens = Math.max(1, lengths.outputMean);
  const residentTokens = lengths.inputMean + outputTokens / 2;
  const tpotBatch = decodeCapacity(profile, tpotSeconds, residentTokens).maxBatch;
  const batch = Math.min(tpotBatch, Math.floor(profile.kvCapacityTokens / Math.max(1, lengths.inputMean + outputTokens)));
  return { batch: Math.max(0, batch), stepSeconds: decodeStepMs(profile, Math.max(1, batch), Math.max(1, batch) * residentTokens) / 1000 };
}

/**
 * Mean time a request spends in decode when `instances` instances share
 * `arrivalsPerSecond`, seconds: E[o] steps at the step time of the batch
 * the instances actually run, not of the largest batch the SLO allows.
 * By Little's law the mean batch per instance is b = (λ/d)·E[o]·step(b),
 * and step(b) = a + β·b·(context + 1) + c·b is linear in b within a fit
 * regime, so b = r·a / (1 − r·(β·(context + 1) + c)) with r = λ·E[o]/d
 * (step in seconds); the regime is chosen by the solution (small-batch fit
 * below the profile's threshold). Infinity when the fixed point does not
 * exist (the instances cannot keep up at any batch).
 */
export function decodeResidenceSeconds(profile: Profile, instances: number, arrivalsPerSecond: number, lengths: LengthMoments): number {
  const outputTokens = Math.max(1, lengths.outputMean);
  const context = lengths.inputMean + outputTokens / 2;
  const perInstance = (arrivalsPerSecond * outputTokens) / Math.max(1, instances);
  const fit = profile.decodeMs;
  const solve = ([a, beta, c]: readonly number[]): number => {
    const slope = (perInstance * ((beta as number) * (context + 1) + (c as number))) / 1000 / profile.pipelineParallel;
    if (slope >= 1) return Number.POSITIVE_INFINITY;
    return (perInstance * (a as number)) / 1000 / profile.pipelineParallel / (1 - slope);
  };
  let batch = solve(fit.smallBatch);
  if (!(batch < fit.thresholdBatch)) batch = solve(fit.largeBatch);
  if (!Number.isFinite(batch)) return Number.POSITIVE_INFINITY;
  // At least one request in the step: a lone request still pays the step's fixed cost.
  const b = Math.max(1, batch);
  return outputTokens * (decodeStepMs(profile, b, b * context) / 1000);
}

/**
 * Largest arrival rate (req/s) `instances` decode instances take within the
 * TPOT bound at the attainment target. Requests in decode are an M/G/∞
 * population — Poisson with mean λ·T, T the decode residence at the batch
 * the load actually makes (decodeResidenceSeconds, Little's law) — and the
 * pool has instances × batch slots (batch: the largest the TPOT bound and
 * the reserved KV allow); a request that finds every slot taken waits for
 * KV (its TTFT grows) or would slow the step past the TPOT bound. So the
 * rate is the largest λ with P(Poisson(λ·T(λ)) > slots) ≤ 1 − attainment.
 * 0 when no batch meets the bound.
 */
export function decodePoolRate(profile: Profile, instances: number, slots: DecodeSlots, attainment: number, lengths: LengthMoments): number {
  if (instances <= 0 || slots.batch <= 0) return 0;
  const slowest = Math.max(1, lengths.outputMean) * slots.stepSeconds;
  const capacity = instances * slots.batch;
  const tail = 1 - attainment;
  const meets = (rate: number) => poissonTail(rate * Math.min(slowest, decodeResidenceSeconds(profile, instances, rate, lengths)), capacity) <= tail;
  // T(λ) ≤ the residence at the full batch, so λ = capacity / slowest bounds the search.
  return bisectLargest(meets, 0, (capacity / slowest) * STABLE_FRACTION, RATE_TOLERANCE);
}
