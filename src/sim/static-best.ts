import type { GoodputSearch } from './goodput.js';

/** Splits searched exhaustively up to this pool size; beyond it, a ternary search. */
const EXHAUSTIVE_MAX_GPUS = 16;

export interface SplitSearch {
  prefill: number;
  decode: number;
  goodput: GoodputSearch;
  /** Every split tried, by prefill count. */
  tried: { prefill: number; rateScale: number }[];
}

/**
 * `static-best` (DistServe's placement choice): the fixed split with the
 * highest goodput on the trace. Every split from 1P to (N−1)P is tried for
 * pools up to 16 GPUs; larger pools use an integer ternary search, assuming
 * goodput is unimodal in the prefill count (it rises while prefill is the
 * bottleneck and falls once decode is). Ties go to fewer prefill instances.
 */
export async function searchStaticSplit(gpus: number, goodputOf: (prefill: number) => Promise<GoodputSearch>): Promise<SplitSearch> {
  if (gpus < 2) throw new RangeError(`a split needs at least 2 GPUs, got ${gpus}`);
  const tried: SplitSearch['tried'] = [];
  const cache = new Map<number, GoodputSearch>();
  const evaluate = async (prefill: number) => {
    let g = cache.get(prefill);
    if (!g) {
      g = await goodputOf(prefill);
      cache.set(prefill, g);
      tried.push({ prefill, rateScale: g.rateScale });
    }
    return g.rateScale;
  };
  if (gpus <= EXHAUSTIVE_MAX_GPUS) {
    for (let p = 1; p < gpus; p++) await evaluate(p);
  } else {
    let lo = 1;
    let hi = gpus - 1;
    while (hi - lo > 2) {
      const m1 = lo + Math.floor((hi - lo) / 3);
      const m2 = hi - Math.floor((hi - lo) / 3);
      if ((await evaluate(m1)) < (await evaluate(m2))) lo = m1 + 1;
      else hi = m2 - 1;
    }
    for (let p = lo; p <= hi; p++) await evaluate(p);
  }
  let best = -1;
  for (const [prefill, g] of cache) {
    const current = cache.get(best);
    if (!current || g.rateScale > current.rateScale || (g.rateScale === current.rateScale && prefill < best)) best = prefill;
  }
  return { prefill: best, decode: gpus - best, goodput: cache.get(best) as GoodputSearch, tried };
}
