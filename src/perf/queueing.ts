/**
 * Waiting-time percentiles of the M/D/1 queue (Poisson arrivals, one server,
 * deterministic service), DistServe's model of a prefill instance. The mean
 * (capacity.ts, md1MeanSeconds) sizes for the average request; an SLO with
 * an attainment target (90%, 99%) needs the percentile.
 *
 * The exact M/D/1 waiting-time distribution (Erlang's alternating series)
 * cancels catastrophically once t is many service times long, so we use its
 * exponential (Cramér–Lundberg) tail, which for M/D/1 is accurate from
 * moderate percentiles on:
 *
 *   P(W > t) ≈ min(ρ, C·e^(−θt)),  θ > 0 the root of λ(e^(θD) − 1) = θ,
 *   C = (1 − ρ) / (λ·D·e^(θD) − 1),
 *
 * from the pole of the Pollaczek–Khinchine transform at s = −θ. P(W > 0) = ρ
 * is exact (the probability of arriving to a busy server).
 */

/** θ·D, the decay exponent of the waiting-time tail in units of the service time: the root x > 0 of ρ(eˣ − 1) = x. */
export function md1TailExponent(utilisation: number): number {
  if (!(utilisation > 0 && utilisation < 1)) throw new RangeError(`utilisation must be within (0, 1), got ${utilisation}`);
  const f = (x: number) => utilisation * Math.expm1(x) - x;
  // f(0) = 0, f'(0) = ρ − 1 < 0 and f is convex, so the root is the one sign change after 0.
  let lo = 1e-12;
  let hi = 1;
  while (f(hi) <= 0) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-13 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) <= 0) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** P(W > t) for an M/D/1 queue: the fraction of arrivals that wait longer than `waitSeconds`. */
export function md1WaitExceedance(arrivalsPerSecond: number, serviceSeconds: number, waitSeconds: number): number {
  const rho = arrivalsPerSecond * serviceSeconds;
  if (rho <= 0) return 0;
  if (rho >= 1) return 1;
  if (waitSeconds <= 0) return rho;
  const x = md1TailExponent(rho);
  // λ·D·e^(θD) − 1 = x + ρ − 1 at the root, positive because the root lies past f's minimum.
  const c = (1 - rho) / (x + rho - 1);
  return Math.min(rho, c * Math.exp((-x * waitSeconds) / serviceSeconds));
}

/**
 * The `quantile` (0–1) of the M/D/1 waiting time, seconds: 0 when at least
 * that fraction of arrivals find the server idle, Infinity when unstable.
 */
export function md1WaitQuantileSeconds(arrivalsPerSecond: number, serviceSeconds: number, quantile: number): number {
  if (!(quantile >= 0 && quantile < 1)) throw new RangeError(`quantile must be within [0, 1), got ${quantile}`);
  if (arrivalsPerSecond < 0 || serviceSeconds < 0) throw new RangeError('rate and service time must be ≥ 0');
  const rho = arrivalsPerSecond * serviceSeconds;
  if (rho >= 1) return Number.POSITIVE_INFINITY;
  const tail = 1 - quantile;
  if (rho <= tail) return 0;
  const x = md1TailExponent(rho);
  const c = (1 - rho) / (x + rho - 1);
  return Math.max(0, (Math.log(c / tail) * serviceSeconds) / x);
}
