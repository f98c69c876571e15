import { poolSamples } from '../domain/load.js';
import type { LoadHistoryRecord, RetentionPolicy, StoreLimits } from './store.js';

const DAY_SECONDS = 86_400;

/**
 * Defaults sized for a 60 s controller interval: a week of decisions, a
 * month of history and flips (the forecaster's seasonal models want weeks),
 * raw history for the last 6 h (what the controller reloads at start) and
 * 5-minute buckets before that.
 */
export const DEFAULT_RETENTION: Readonly<RetentionPolicy> = Object.freeze({
  decisionsMaxAgeSeconds: 7 * DAY_SECONDS,
  historyMaxAgeSeconds: 30 * DAY_SECONDS,
  flipsMaxAgeSeconds: 30 * DAY_SECONDS,
  configRevisionsMaxAgeSeconds: 365 * DAY_SECONDS,
  dailySummariesMaxAgeSeconds: 400 * DAY_SECONDS,
  historyCompactAfterSeconds: 6 * 3600,
  historyBucketSeconds: 300,
});

/**
 * Backstop caps. Every write rewrites the whole file, so they bound the cost
 * of a write as much as the disk: a decision record is ~1–2 KB, so the
 * decision cap keeps the file to roughly 10–20 MB at worst; at a 60 s
 * interval it is a week of decisions, the same as the age limit.
 */
export const DEFAULT_LIMITS: Readonly<StoreLimits> = Object.freeze({
  maxDecisions: 10_000,
  maxHistory: 20_000,
  maxFlips: 5_000,
  maxConfigRevisions: 5_000,
  maxDailySummaries: 1_000,
});

export function retentionFaults(policy: RetentionPolicy): string[] {
  return Object.entries(policy)
    .filter(([, value]) => !(typeof value === 'number' && Number.isFinite(value) && value > 0))
    .map(([key, value]) => `${key} must be a positive number of seconds, got ${String(value)}`);
}

export function limitFaults(limits: StoreLimits): string[] {
  return Object.entries(limits)
    .filter(([, value]) => !(Number.isInteger(value) && value >= 1))
    .map(([key, value]) => `${key} must be a positive integer, got ${String(value)}`);
}

/**
 * Merges history records into one. Request counts add; each length moment
 * is the request-weighted mean of the parts (Σ nᵢ·mᵢ / Σ nᵢ), which is the
 * moment of the union of their requests — so merging in any grouping, or
 * merging already-merged records again, gives the same figures (to double
 * rounding; exactly when the products are representable). Idle parts weigh
 * nothing, and an all-idle merge stays all-zero, never NaN.
 *
 * Percentiles cannot be merged exactly; the max of the parts' p90s is an
 * upper bound of the union's p90 (at most 10% of each part lies above its
 * own p90, hence at most 10% of the union above the max), so a compacted
 * record never understates latency.
 */
export function mergeHistory(parts: readonly LoadHistoryRecord[]): LoadHistoryRecord {
  const first = parts[0];
  if (!first) throw new RangeError('mergeHistory needs at least one record');
  let intervals = 0;
  let attainedSum = 0;
  let attainmentWeight = 0;
  let ttftP90Seconds: number | undefined;
  let tpotP90Seconds: number | undefined;
  for (const part of parts) {
    const n = part.load.requests;
    intervals += part.intervals;
    if (part.attainment !== undefined) {
      attainedSum += n * part.attainment;
      attainmentWeight += n;
    }
    if (part.ttftP90Seconds !== undefined) ttftP90Seconds = Math.max(ttftP90Seconds ?? 0, part.ttftP90Seconds);
    if (part.tpotP90Seconds !== undefined) tpotP90Seconds = Math.max(tpotP90Seconds ?? 0, part.tpotP90Seconds);
  }
  const merged: LoadHistoryRecord = {
    startIso: first.startIso,
    load: poolSamples(parts.map((part) => part.load)),
    intervals,
  };
  if (ttftP90Seconds !== undefined) merged.ttftP90Seconds = ttftP90Seconds;
  if (tpotP90Seconds !== undefined) merged.tpotP90Seconds = tpotP90Seconds;
  // Attainment of requests nobody measured is unknown, not 0 or 1.
  if (attainmentWeight > 0) merged.attainment = Math.min(1, attainedSum / attainmentWeight);
  return merged;
}

/**
 * Compacts history (sorted by start): records that start before `cutoffMs`
 * are grouped by `bucketSeconds` bucket of their start (aligned to the Unix
 * epoch, so repeated runs agree on the boundaries) and each group merged;
 * newer records are kept as they are. A bucket that straddles the cutoff is
 * merged in two runs, which the merge's associativity makes harmless.
 */
export function compactHistory(history: readonly LoadHistoryRecord[], cutoffMs: number, bucketSeconds: number): LoadHistoryRecord[] {
  const bucketMs = bucketSeconds * 1000;
  const out: LoadHistoryRecord[] = [];
  let group: LoadHistoryRecord[] = [];
  let groupBucket = NaN;
  const flush = () => {
    if (group.length === 1) out.push(group[0] as LoadHistoryRecord);
    else if (group.length > 1) out.push(mergeHistory(group));
    group = [];
  };
  for (const record of history) {
    const startMs = Date.parse(record.startIso);
    if (startMs >= cutoffMs) {
      flush();
      out.push(record);
      continue;
    }
    const bucket = Math.floor(startMs / bucketMs);
    if (bucket !== groupBucket) {
      flush();
      groupBucket = bucket;
    }
    group.push(record);
  }
  flush();
  return out;
}
