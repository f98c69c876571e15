import type { RequestOutcome } from '../domain/request.js';
import type { Slo } from '../domain/slo.js';

/**
 * Exact percentile of already-sorted values, interpolating linearly between
 * the closest ranks (numpy's default, the convention of the trace README):
 * rank = q/100 · (n − 1). Returns 0 for an empty list so that an idle
 * window reads as 0, never NaN.
 */
export function percentileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  if (q < 0 || q > 100 || Number.isNaN(q)) throw new RangeError(`percentile must be within 0..100, got ${q}`);
  const rank = (q / 100) * (n - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(lo + 1, n - 1);
  const low = sorted[lo] as number;
  const high = sorted[hi] as number;
  return low + (high - low) * (rank - lo);
}

/** Exact percentile of unsorted values (copies and sorts). */
export function percentile(values: readonly number[] | Float64Array, q: number): number {
  const sorted = Float64Array.from(values).sort();
  return percentileSorted(sorted, q);
}

/** Several percentiles with one sort. */
export function percentiles(values: readonly number[] | Float64Array, qs: readonly number[]): number[] {
  const sorted = Float64Array.from(values).sort();
  return qs.map((q) => percentileSorted(sorted, q));
}

/** Arithmetic mean; 0 for an empty list. */
export function mean(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return 0;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i] as number;
  return sum / n;
}

/** True when the request met both its TTFT and its TPOT bound. */
export function meetsSlo(outcome: RequestOutcome, slo: Pick<Slo, 'ttftSeconds' | 'tpotSeconds'>): boolean {
  return outcome.ttftSeconds <= slo.ttftSeconds && outcome.tpotSeconds <= slo.tpotSeconds;
}

/**
 * Joint SLO attainment: the fraction of requests whose TTFT and TPOT both
 * meet the SLO. Requests that were dropped or never finished count as misses
 * and are passed in `missed`. With no requests at all it is 1 (nothing was
 * asked, nothing was missed).
 */
export function jointAttainment(
  outcomes: readonly RequestOutcome[],
  slo: Pick<Slo, 'ttftSeconds' | 'tpotSeconds'>,
  missed = 0,
): number {
  const total = outcomes.length + missed;
  if (total === 0) return 1;
  let ok = 0;
  for (const o of outcomes) if (meetsSlo(o, slo)) ok++;
  return ok / total;
}

/**
 * Goodput per GPU as DESIGN.md defines it: the largest rate scale K at which
 * the trace still meets the attainment target, times the trace's mean rate,
 * divided by the GPUs used.
 */
export function goodputRpsPerGpu(goodputRateScale: number, traceMeanRps: number, gpus: number): number {
  if (gpus <= 0) throw new RangeError(`gpus must be positive, got ${gpus}`);
  return (goodputRateScale * traceMeanRps) / gpus;
}

/**
 * Largest x in [lo, hi] for which `ok(x)` holds, assuming ok is monotone
 * (true below some threshold, false above). Bisection to a relative
 * tolerance; returns lo when even lo fails (callers decide what that means).
 */
export function bisectLargest(ok: (x: number) => boolean, lo: number, hi: number, relativeTolerance = 0.01): number {
  if (!ok(lo)) return lo;
  if (ok(hi)) return hi;
  while ((hi - lo) / hi > relativeTolerance) {
    const mid = (lo + hi) / 2;
    if (ok(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * ln(n!) for an integer n ≥ 0: exact sums below 256, Stirling's series with
 * three correction terms above (error < 1e-15 relative there).
 */
export function logFactorial(n: number): number {
  if (n < 2) return 0;
  if (n < 256) {
    let sum = 0;
    for (let i = 2; i <= n; i++) sum += Math.log(i);
    return sum;
  }
  const inv = 1 / n;
  const inv2 = inv * inv;
  return n * Math.log(n) - n + 0.5 * Math.log(2 * Math.PI * n) + inv * (1 / 12 - inv2 * (1 / 360 - inv2 / 1260));
}

/**
 * P(Z > z) for a standard normal Z: erfc by the Chebyshev fit of Numerical
 * Recipes (erfcc, fractional error below 1.2e-7 everywhere).
 */
export function normalUpperTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const erfc =
    t *
    Math.exp(
      -x * x -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}
