import { samplesOf, type PromPage } from './prometheus-text.js';

/** A Prometheus histogram summed over its series: cumulative counts by upper bound, ascending, ending at +Inf. */
export interface CumulativeHistogram {
  buckets: { le: number; count: number }[];
  count: number;
  sum: number;
}

/**
 * Reads histogram `name` (its `_bucket`, `_sum`, `_count` samples), adding
 * the series of every label set (engines, models) bucket by bucket.
 * Undefined when the page has no such histogram.
 */
export function readHistogram(page: PromPage, name: string): CumulativeHistogram | undefined {
  const bucketSamples = samplesOf(page, `${name}_bucket`);
  if (bucketSamples.length === 0) return undefined;
  const byLe = new Map<number, number>();
  for (const s of bucketSamples) {
    const leText = s.labels.le;
    if (leText === undefined) throw new Error(`${name}_bucket sample without an le label`);
    const le = leText === '+Inf' ? Infinity : Number(leText);
    if (Number.isNaN(le)) throw new Error(`${name}_bucket has le=${JSON.stringify(leText)}, not a number`);
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  const buckets = [...byLe.entries()].sort((a, b) => a[0] - b[0]).map(([le, count]) => ({ le, count }));
  const sum = samplesOf(page, `${name}_sum`).reduce((a, s) => a + s.value, 0);
  const count = samplesOf(page, `${name}_count`).reduce((a, s) => a + s.value, 0);
  return { buckets, count, sum };
}

/**
 * The observations between two scrapes: `now − before`, bucket by bucket.
 * A worker restart resets its counters; a count that went down means the
 * earlier scrape is from another life of the process, so `now` alone is
 * the delta (what Prometheus' rate() does on a counter reset).
 */
export function histogramDelta(now: CumulativeHistogram, before: CumulativeHistogram | undefined): CumulativeHistogram {
  if (!before || now.count < before.count) return now;
  const prior = new Map(before.buckets.map((b) => [b.le, b.count]));
  if (now.buckets.some((b) => (prior.get(b.le) ?? 0) > b.count)) return now;
  return {
    buckets: now.buckets.map((b) => ({ le: b.le, count: b.count - (prior.get(b.le) ?? 0) })),
    count: now.count - before.count,
    sum: now.sum - before.sum,
  };
}

/**
 * The q-quantile (0–1) of a cumulative histogram, interpolating linearly
 * within the bucket that holds the rank — PromQL's histogram_quantile. The
 * lowest bucket interpolates from 0 (latencies are non-negative); a rank
 * in the +Inf bucket returns the highest finite bound (a lower bound of the
 * truth, as PromQL does). Undefined when the histogram is empty: no
 * observations means no latency, not a latency of 0.
 */
export function histogramQuantile(h: CumulativeHistogram, q: number): number | undefined {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be within 0..1, got ${q}`);
  const total = h.buckets.at(-1)?.count ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const b of h.buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return lowerBound;
      const inBucket = b.count - lowerCount;
      if (inBucket <= 0) return b.le;
      return lowerBound + (b.le - lowerBound) * ((rank - lowerCount) / inBucket);
    }
    lowerBound = b.le;
    lowerCount = b.count;
  }
  return lowerBound;
}
