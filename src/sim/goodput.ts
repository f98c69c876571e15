/**
 * Goodput search (docs/sim.md): the largest rate scale K at which the trace,
 * replayed K× faster, still meets the attainment target.
 *
 * Attainment is not monotone in K on real traces: a replay K× faster
 * shifts which requests share a control interval, so a policy can pass at
 * ×1.33 and miss at ×1.27 (docs/sim.md, "Goodput"). The search therefore
 * brackets first by doubling or halving from K = 1 (within 2^±MAX_DOUBLINGS),
 * bisects until the bracket is narrower than `relativeTolerance` of its upper
 * end, and then **verifies** the result: it also probes VERIFY_FRACTIONS
 * below it (×0.95, ×0.9), and the answer is the largest probed K such that
 * every probed scale ≤ K passed. If a verification probe fails, the search
 * bisects again between the largest such K and the failure, and verifies
 * that answer in turn (at most MAX_VERIFY_ROUNDS rounds).
 * The returned K was simulated and passed; a lucky pass above a failing
 * scale is never reported. This is the async twin of lib/stats'
 * bisectLargest (each probe is a simulation), plus the verification.
 */
export interface GoodputSearch {
  /** Largest passing rate scale found; 0 when even the smallest probe fails. */
  rateScale: number;
  /** Every probe, in order: the search is reproducible from these. */
  probes: { rateScale: number; attainment: number }[];
}

/** Bracket limit: K is searched within [2^-10, 2^10]. */
const MAX_DOUBLINGS = 10;
export const GOODPUT_RELATIVE_TOLERANCE = 0.02;
/** Scales below the bisection's answer, as fractions of it, that must pass too. */
export const VERIFY_FRACTIONS = [0.95, 0.9] as const;
/** Verification rounds before the search settles for the largest K with no failing probe at or below it. */
const MAX_VERIFY_ROUNDS = 8;

/** Largest probed K that passed with no failing probe at or below it; 0 when none. */
export function largestConsistentPass(probes: GoodputSearch['probes'], target: number): number {
  const firstFail = Math.min(...probes.filter((p) => !(p.attainment >= target)).map((p) => p.rateScale));
  return Math.max(0, ...probes.filter((p) => p.attainment >= target && p.rateScale < firstFail).map((p) => p.rateScale));
}

export async function searchGoodput(
  attainmentAt: (rateScale: number) => Promise<number>,
  target: number,
  relativeTolerance = GOODPUT_RELATIVE_TOLERANCE,
): Promise<GoodputSearch> {
  const probes: GoodputSearch['probes'] = [];
  const ok = async (k: number) => {
    const attainment = await attainmentAt(k);
    probes.push({ rateScale: k, attainment });
    return attainment >= target;
  };
  let lo: number;
  let hi: number;
  if (await ok(1)) {
    lo = 1;
    hi = 2;
    let n = 0;
    while (await ok(hi)) {
      lo = hi;
      if (++n >= MAX_DOUBLINGS) return { rateScale: lo, probes };
      hi *= 2;
    }
  } else {
    hi = 1;
    lo = 0.5;
    let n = 0;
    while (!(await ok(lo))) {
      hi = lo;
      if (++n >= MAX_DOUBLINGS) return { rateScale: 0, probes };
      lo /= 2;
    }
  }
  while ((hi - lo) / hi > relativeTolerance) {
    const mid = (lo + hi) / 2;
    if (await ok(mid)) lo = mid;
    else hi = mid;
  }
  return { rateScale: await verify(lo, probes, ok, target, relativeTolerance), probes };
}

/**
 * Probes VERIFY_FRACTIONS below `candidate`; if one fails, bisects again
 * between the largest consistent pass and the lowest failure, and verifies
 * that answer, until every probe at or below the answer passes.
 */
async function verify(
  candidate: number,
  probes: GoodputSearch['probes'],
  ok: (k: number) => Promise<boolean>,
  target: number,
  relativeTolerance: number,
): Promise<number> {
  let answer = candidate;
  for (let round = 0; round < MAX_VERIFY_ROUNDS && answer > 0; round++) {
    for (const fraction of VERIFY_FRACTIONS) {
      const k = answer * fraction;
      if (!probes.some((p) => Math.abs(p.rateScale - k) <= 1e-9 * k)) await ok(k);
    }
    let lo = largestConsistentPass(probes, target);
    if (lo === answer) return answer;
    // A scale below the answer failed: the threshold lies between the last consistent pass and that failure.
    let hi = Math.min(...probes.filter((p) => !(p.attainment >= target)).map((p) => p.rateScale));
    while (lo > 0 && (hi - lo) / hi > relativeTolerance) {
      const mid = (lo + hi) / 2;
      if (await ok(mid)) lo = mid;
      else hi = mid;
    }
    answer = lo;
  }
  return largestConsistentPass(probes, target);
}
