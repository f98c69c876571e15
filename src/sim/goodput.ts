/**
 * Goodput search (docs/sim.md): the largest rate scale K at which the trace,
 * replayed K× faster, still meets the attainment target.
 *
 * Assumes attainment is monotone non-increasing in K (more load never helps)
 * — true of the model up to simulation noise near the threshold. Brackets
 * first by doubling or halving from K = 1 (within 2^±MAX_DOUBLINGS), then
 * bisects until the bracket is narrower than `relativeTolerance` of its upper
 * end, and returns the lower end: a K that was simulated and passed. This is
 * the async twin of lib/stats' bisectLargest (each probe is a simulation).
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
  return { rateScale: lo, probes };
}
