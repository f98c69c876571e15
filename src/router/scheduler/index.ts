// Request scheduling: filters → weighted scorers → picker (docs/router.md).
// Pure (no clock, no I/O): the live router and the simulator share it.
import type { LatencyCoefficients } from '../../perf/profile.js';
import { batchLoadScorer } from './batch-load-scorer.js';
import { EstimatedFinishScorer } from './estimated-finish-scorer.js';
import { freeKvScorer } from './free-kv-scorer.js';
import { maxScorePicker } from './max-score-picker.js';
import { Scheduler } from './scheduler.js';
import { DEFAULT_SHORT_LANE, ShortLaneFilter, type ShortLaneParams } from './short-lane-filter.js';
import { shortestQueueScorer } from './shortest-queue-scorer.js';
import type { DecodeView, PrefillView } from './types.js';

export * from './types.js';
export { Scheduler } from './scheduler.js';
export { prefillLocally, type LocalPrefillParams } from './local-prefill-decider.js';
export { prefillWaitSeconds, ownPrefillSeconds } from './prefill-wait.js';

/** The prefill routing rules a caller can choose (`--router`). */
export const PREFILL_ROUTERS = ['length-aware', 'shortest-queue'] as const;
export type PrefillRouter = (typeof PREFILL_ROUTERS)[number];

export function isPrefillRouter(name: string): name is PrefillRouter {
  return (PREFILL_ROUTERS as readonly string[]).includes(name);
}

export interface SchedulerOptions {
  router: PrefillRouter;
  prefillMs: LatencyCoefficients;
  /** Prefill batch budget L_m, tokens. */
  tokenBudget: number;
  shortLane?: Partial<Pick<ShortLaneParams, 'longPromptTokens' | 'laneFraction' | 'maxLongWaitSeconds'>>;
}

/**
 * The prefill scheduler: `length-aware` = short-lane filter, then the
 * estimated-finish scorer; `shortest-queue` = request count only.
 */
export function createPrefillScheduler(options: SchedulerOptions): Scheduler<PrefillView> {
  if (options.router === 'shortest-queue') return new Scheduler('prefill', [], [{ scorer: shortestQueueScorer, weight: 1 }], maxScorePicker);
  const costs = { prefillMs: options.prefillMs, tokenBudget: options.tokenBudget };
  return new Scheduler(
    'prefill',
    [new ShortLaneFilter({ ...DEFAULT_SHORT_LANE, ...options.shortLane, ...costs })],
    [{ scorer: new EstimatedFinishScorer(costs), weight: 1 }],
    maxScorePicker,
  );
}

/**
 * The decode scheduler: free KV and batch load, weighted equally by default.
 * `fewest-requests` is batch load alone (DistServe's simulator).
 */
export function createDecodeScheduler(mode: 'kv-and-load' | 'fewest-requests' = 'kv-and-load'): Scheduler<DecodeView> {
  if (mode === 'fewest-requests') return new Scheduler('decode', [], [{ scorer: batchLoadScorer, weight: 1 }], maxScorePicker);
  return new Scheduler(
    'decode',
    [],
    [
      { scorer: freeKvScorer, weight: 1 },
      { scorer: batchLoadScorer, weight: 1 },
    ],
    maxScorePicker,
  );
}
